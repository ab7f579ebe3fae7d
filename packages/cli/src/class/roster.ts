import { USER_NAME } from '@portlab/config';

/** A student of the class: the account name, and the name printed on the card (the CSV's, or the account). */
export interface Student {
  name: string;
  label: string;
}

/** Accounts a class never takes: the demo accounts, the teacher's, and `public` (anonymous FTP's folder). */
export const RESERVED = ['alice', 'bob', 'teacher', 'public'];

/** e01 … e30: numbered accounts, two digits at least so that they sort in order. */
export function numbered(count: number): Student[] {
  const width = Math.max(2, String(count).length);
  return Array.from({ length: count }, (_, i) => {
    const name = `e${String(i + 1).padStart(width, '0')}`;
    return { name, label: name };
  });
}

/** A line of the names file that gives no account: its number (1 is the first line) and why. */
export interface BadLine {
  line: number;
  text: string;
  reason: string;
}

export interface ParsedNames {
  students: Student[];
  bad: BadLine[];
  /** Accounts whose name was taken (a namesake, a demo account): "zoe.martin2 (line 7)". */
  renamed: string[];
}

/**
 * An account name from a person's name: "Zoé" "Martin" -> zoe.martin. Accents are stripped (NFD
 * splits é into e and a combining accent, which is dropped), ß and the like are spelt out, anything
 * else but letters and digits becomes a dot; at most 32 characters (USER_NAME).
 */
export function accountOf(...parts: string[]): string {
  const spelt = parts
    .join(' ')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/æ/g, 'ae')
    .replace(/œ/g, 'oe')
    .replace(/ø/g, 'o')
    .replace(/ł/g, 'l');
  return spelt
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.+|\.+$/g, '')
    .slice(0, 32)
    .replace(/\.+$/, '');
}

/**
 * Splits one line of a CSV file into fields (RFC 4180: a field may be quoted, "" is a quote in it).
 * A spreadsheet in French saves with ';', so a line with a ';' outside quotes is split on ';'.
 */
export function csvFields(line: string): string[] {
  const delimiter = /^(?:[^"]|"[^"]*")*?;/.test(line) ? ';' : ',';
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === delimiter) {
      fields.push(field.trim());
      field = '';
    } else field += c;
  }
  fields.push(field.trim());
  return fields;
}

/** A first line that names its columns: "name", "first,last", "prénom;nom"… */
const HEADER =
  /^(name|names|nom|noms|first ?name|last ?name|first|last|prenom|prénom|student|eleve|élève|etudiant|étudiant)$/i;

/**
 * The students of a names file: each line is a name ("Zoé Martin" or "zoe.martin"), or a first name
 * and a last name ("Zoé,Martin" or "Zoé;Martin"). Empty lines and a header line are skipped. A line
 * that gives no account is reported with its number; `taken` names are never given (they get a
 * number, as namesakes do: zoe.martin, zoe.martin2).
 */
export function parseNames(text: string, taken: Iterable<string>): ParsedNames {
  const used = new Set(taken);
  const students: Student[] = [];
  const bad: BadLine[] = [];
  const renamed: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const fields = csvFields(raw);
    while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
    if (students.length === 0 && bad.length === 0 && fields.every((f) => HEADER.test(f))) return;
    if (fields.length > 2) {
      bad.push({
        line,
        text: raw,
        reason: `${fields.length} columns: give one name, or a first name and a last name`,
      });
      return;
    }
    if (fields.some((f) => f === '')) {
      bad.push({ line, text: raw, reason: 'an empty name' });
      return;
    }
    const base = accountOf(...fields);
    if (!USER_NAME.test(base)) {
      bad.push({
        line,
        text: raw,
        reason: base
          ? `'${base}' cannot be an account name: it must start with a letter a-z`
          : 'no letter a-z or digit to make an account name of',
      });
      return;
    }
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base.slice(0, 32 - String(n).length)}${n}`;
    if (name !== base) renamed.push(`${name} (line ${line}: ${base} is taken)`);
    used.add(name);
    students.push({ name, label: fields.join(' ') });
  });
  return { students, bad, renamed };
}
