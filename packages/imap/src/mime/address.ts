/**
 * Address lists of From, To, Cc... (RFC 5322 §3.4) as ENVELOPE wants them (RFC 3501 §7.4.2):
 * each address is (name adl mailbox host); a group `Team: a@x, b@y;` is a start marker
 * (NIL NIL "Team" NIL), its members, and an end marker (NIL NIL NIL NIL).
 */
export interface EnvelopeAddress {
  name: string | null;
  mailbox: string | null;
  host: string | null;
}

export function parseAddressList(value: string): EnvelopeAddress[] {
  const out: EnvelopeAddress[] = [];
  for (const item of splitTopLevel(value, ',')) {
    const colon = indexOutside(item, ':');
    if (colon !== -1 && !item.slice(0, colon).includes('<')) {
      // A group: name, then its members up to ';'.
      out.push({ name: null, mailbox: unquote(item.slice(0, colon).trim()), host: null });
      const members = item.slice(colon + 1).replace(/;\s*$/, '');
      for (const member of splitTopLevel(members, ',')) {
        const address = parseMailbox(member);
        if (address) out.push(address);
      }
      out.push({ name: null, mailbox: null, host: null });
      continue;
    }
    const address = parseMailbox(item);
    if (address) out.push(address);
  }
  return out;
}

/** `Name <local@host>`, `"Quoted, Name" <local@host>`, `local@host (Comment)`. */
function parseMailbox(text: string): EnvelopeAddress | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const angle = /<([^>]*)>/.exec(trimmed);
  let name: string | null = null;
  let spec: string;
  if (angle) {
    spec = angle[1]!.trim();
    name = unquote(trimmed.slice(0, angle.index).trim()) || null;
  } else {
    const comment = /\(([^)]*)\)/.exec(trimmed);
    name = comment ? comment[1]!.trim() || null : null;
    spec = trimmed.replace(/\([^)]*\)/g, '').trim();
  }
  // A source route (@a,@b:user@host) is obsolete: keep the mailbox after it.
  spec = spec.replace(/^(@[^:]*:)/, '');
  const at = spec.lastIndexOf('@');
  return at === -1
    ? { name, mailbox: unquote(spec) || null, host: null }
    : { name, mailbox: unquote(spec.slice(0, at)), host: spec.slice(at + 1) };
}

function unquote(text: string): string {
  return text.startsWith('"') && text.endsWith('"') && text.length >= 2
    ? text.slice(1, -1).replace(/\\(.)/g, '$1')
    : text;
}

/** Splits on `separator` outside quotes, <angle brackets>, (comments) and group lists `name: ... ;`. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  let group = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && (quoted || comment)) {
      current += c + (text[++i] ?? '');
      continue;
    }
    if (c === '"' && !comment) quoted = !quoted;
    else if (!quoted) {
      if (c === '(') comment++;
      else if (c === ')' && comment) comment--;
      else if (!comment && c === '<') angle++;
      else if (!comment && c === '>' && angle) angle--;
      else if (!comment && !angle && c === ':' && separator === ',') group = true;
      else if (!comment && !angle && c === ';') group = false;
    }
    if (c === separator && !quoted && !angle && !comment && !group) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts.filter((p) => p.trim() !== '');
}

function indexOutside(text: string, wanted: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === wanted && !quoted) return i;
  }
  return -1;
}
