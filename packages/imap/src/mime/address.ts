/**
 * Address lists of From, To, Cc... (RFC 5322 §3.4) as ENVELOPE wants them (RFC 3501 §7.4.2):
 * each address is (name adl mailbox host); a group `Team: a@x, b@y;` is a start marker
 * (NIL NIL "Team" NIL), its members, and an end marker (NIL NIL NIL NIL).
 *
 * The value is first cut into the lexical tokens of RFC 5322 §3.2 (quoted strings, comments,
 * words, and the specials that give an address its shape), so a comma in a quoted name, a colon
 * in a comment or a comment between a local part and its `@` mean nothing more than they should.
 */
export interface EnvelopeAddress {
  name: string | null;
  /** The source route (obsolete, RFC 5322 §4.4): `@relay` of `<@relay:user@host>`. */
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'quoted'; text: string }
  | { kind: 'comment'; text: string }
  | { kind: 'special'; text: string };

/** The specials that structure an address list (RFC 5322 §3.2.3); '.' stays inside words. */
const SPECIALS = '<>@,;:';

export function parseAddressList(value: string): EnvelopeAddress[] {
  const tokens = lex(value);
  const out: EnvelopeAddress[] = [];
  let at = 0;
  while (at < tokens.length) {
    // RFC 5322 §3.4: group = display-name ":" [group-list] ";". A phrase then ':' opens one.
    let end = at;
    while (end < tokens.length && tokens[end]!.kind !== 'special') end++;
    if (isSpecial(tokens[end], ':')) {
      out.push({ name: null, adl: null, mailbox: phrase(tokens.slice(at, end)) ?? '', host: null });
      at = end + 1;
      while (at < tokens.length && !isSpecial(tokens[at], ';')) {
        at = mailbox(tokens, at, out);
        if (isSpecial(tokens[at], ',')) at++;
      }
      out.push({ name: null, adl: null, mailbox: null, host: null });
    } else {
      at = mailbox(tokens, at, out);
    }
    at++; // the ',' after a mailbox or the ';' that closes a group
  }
  return out;
}

/**
 * One mailbox from `at` up to the next ',' or ';' (RFC 5322 §3.4): `Name <local@host>` with an
 * optional route inside the brackets, or a bare `local@host` whose comment, if any, is the name
 * (`user@host (Real Name)`, an old way still seen). Adds it to `out` (nothing for an empty one:
 * (NIL NIL NIL NIL) would read as the end of a group) and returns where it ends: at the ',' or
 * ';' after it.
 */
function mailbox(tokens: Token[], at: number, out: EnvelopeAddress[]): number {
  let end = at;
  let angle = false;
  while (end < tokens.length) {
    const t = tokens[end]!;
    if (isSpecial(t, '<')) angle = true;
    else if (isSpecial(t, '>')) angle = false;
    else if (!angle && (isSpecial(t, ',') || isSpecial(t, ';'))) break;
    end++;
  }
  const part = tokens.slice(at, end);
  const open = part.findIndex((t) => isSpecial(t, '<'));
  if (open === -1) {
    const comments = part.filter((t) => t.kind === 'comment');
    const address = addrSpec(part);
    if (address) out.push({ name: comments.at(-1)?.text.trim() || null, adl: null, ...address });
  } else {
    let inside = part.slice(open + 1);
    const close = inside.findIndex((t) => isSpecial(t, '>'));
    if (close !== -1) inside = inside.slice(0, close);
    // obs-route (RFC 5322 §4.4): "@a,@b:" before the addr-spec.
    const colon = inside.findIndex((t) => isSpecial(t, ':'));
    const route = colon === -1 ? [] : inside.slice(0, colon);
    const address = addrSpec(colon === -1 ? inside : inside.slice(colon + 1));
    const adl =
      route
        .filter((t) => t.kind !== 'comment')
        .map((t) => t.text)
        .join('') || null;
    const name = phrase(part.slice(0, open));
    if (name !== null || address) out.push({ name, adl, ...(address ?? { mailbox: null, host: null }) });
  }
  return end;
}

/** `local@host` from its words, comments and spaces left out; null if there is no word. */
function addrSpec(tokens: Token[]): { mailbox: string; host: string | null } | null {
  const words = tokens.filter((t) => t.kind !== 'comment');
  const at = words.findIndex((t) => isSpecial(t, '@'));
  const text = (ts: Token[]) => ts.map((t) => t.text).join('');
  if (words.length === 0) return null;
  return at === -1
    ? { mailbox: text(words), host: null }
    : { mailbox: text(words.slice(0, at)), host: text(words.slice(at + 1)) };
}

/** A display name: its words and quoted strings, one space between (RFC 5322 §3.2.5). */
function phrase(tokens: Token[]): string | null {
  const words = tokens.filter((t) => t.kind === 'word' || t.kind === 'quoted').map((t) => t.text);
  return words.length ? words.join(' ') : null;
}

function isSpecial(token: Token | undefined, c: string): boolean {
  return token?.kind === 'special' && token.text === c;
}

/** RFC 5322 §3.2: quoted strings and (nested) comments with their `\` escapes, words, specials. */
function lex(value: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '"' || c === '(') {
      const [text, next] = c === '"' ? quoted(value, i) : comment(value, i);
      tokens.push({ kind: c === '"' ? 'quoted' : 'comment', text });
      i = next;
    } else if (SPECIALS.includes(c)) {
      tokens.push({ kind: 'special', text: c });
      i++;
    } else {
      let end = i;
      while (end < value.length && !` \t"(${SPECIALS}`.includes(value[end]!)) end++;
      tokens.push({ kind: 'word', text: value.slice(i, end) });
      i = end;
    }
  }
  return tokens;
}

/** A quoted string from its opening '"': its text unescaped, and where it ends. */
function quoted(value: string, start: number): [string, number] {
  let text = '';
  for (let i = start + 1; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"') return [text, i + 1];
    text += c === '\\' ? (value[++i] ?? '') : c;
  }
  return [text, value.length];
}

/** A comment from its '(' to the matching ')' (comments nest, RFC 5322 §3.2.2). */
function comment(value: string, start: number): [string, number] {
  let text = '';
  let depth = 0;
  for (let i = start; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      text += value[++i] ?? '';
      continue;
    }
    if (c === '(' && depth++ === 0) continue;
    if (c === ')' && --depth === 0) return [text, i + 1];
    text += c;
  }
  return [text, value.length];
}
