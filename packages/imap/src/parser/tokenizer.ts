/**
 * The tokens of an IMAP command (RFC 3501 §9, "Formal Syntax"): atoms, quoted strings, literals
 * and parenthesized lists. The tokenizer knows nothing of commands; each command reads the tokens
 * it expects with `Args` (args.ts).
 */
export type Token =
  | { type: 'atom'; value: string }
  | { type: 'string'; value: string }
  | { type: 'literal'; value: Buffer }
  | { type: 'list'; items: Token[] };

/** A command line that breaks the syntax: the server answers BAD and reads the next command. */
export class ImapSyntaxError extends Error {}

/**
 * Tokenizes a command given as the text around its literals: `pieces` alternates text (a line)
 * and literal bytes, as the command reader collected them. A `{N}` marker at the end of a text
 * piece stands for the literal after it.
 */
export function tokenize(pieces: (string | Buffer)[]): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  const current = () => stack[stack.length - 1]!;
  for (const piece of pieces) {
    if (Buffer.isBuffer(piece)) {
      current().push({ type: 'literal', value: piece });
      continue;
    }
    const text = piece.replace(/\{\d+\+?\}$/, '');
    let i = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === ' ') {
        i++;
      } else if (c === '(') {
        const list: Token = { type: 'list', items: [] };
        current().push(list);
        stack.push(list.items);
        i++;
      } else if (c === ')') {
        if (stack.length === 1) throw new ImapSyntaxError(`unexpected ')' at column ${i + 1}`);
        stack.pop();
        i++;
      } else if (c === '"') {
        const [value, next] = quoted(text, i);
        current().push({ type: 'string', value });
        i = next;
      } else {
        const [value, next] = atom(text, i);
        current().push({ type: 'atom', value });
        i = next;
      }
    }
  }
  if (stack.length > 1) throw new ImapSyntaxError("missing ')': a list was not closed");
  return root;
}

/** RFC 3501 §4.3: a quoted string, with `\"` and `\\` as its only escapes. */
function quoted(text: string, start: number): [string, number] {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return [value, i + 1];
    if (c === '\\') {
      const next = text[++i];
      if (next !== '"' && next !== '\\')
        throw new ImapSyntaxError('in a quoted string only \\" and \\\\ may be escaped');
      value += next;
    } else {
      value += c;
    }
  }
  throw new ImapSyntaxError('a quoted string was not closed with "');
}

/** The fetch-atts a section follows (RFC 3501 §9: `"BODY" section`, `"BODY.PEEK" section`). */
const SECTION_OWNER = /^BODY(\.PEEK)?$/i;

/**
 * An atom, up to a space or a parenthesis (RFC 3501 §9 atom-specials: "(" / ")" / "{" / SP / CTL /
 * list-wildcards / quoted-specials / resp-specials). `[` and `}` are ATOM-CHARs, and `]` is an
 * ASTRING-CHAR, so `a[b}` is a mailbox name. Only after a fetch-att name does `[` open a section
 * (`BODY[HEADER.FIELDS (From To)]`) that may hold spaces and parentheses up to its `]`; `<0.100>`
 * may follow (§6.4.5). The wildcards `%` and `*` are kept: LIST patterns and sequence sets use them.
 */
function atom(text: string, start: number): [string, number] {
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '(' || c === ')') break;
    if (c === '[' && SECTION_OWNER.test(text.slice(start, i))) {
      const close = text.indexOf(']', i);
      if (close === -1) throw new ImapSyntaxError(`'[' at column ${i + 1} was not closed with ']'`);
      i = close + 1;
      continue;
    }
    if (c === '"' || c === '{' || c.charCodeAt(0) < 0x20 || c === '\x7f')
      throw new ImapSyntaxError(`unexpected ${JSON.stringify(c)} in an atom at column ${i + 1}`);
    i++;
  }
  return [text.slice(start, i), i];
}
