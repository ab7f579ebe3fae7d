import { ImapSyntaxError, type Token } from './tokenizer.js';

/**
 * Reads a command's arguments in order, each with the shape RFC 3501 §9 gives it. A missing or
 * misshapen argument throws a ImapSyntaxError naming what was expected, and the command gets BAD.
 */
export class Args {
  private at = 0;

  constructor(
    private readonly tokens: Token[],
    /** How the command is written, for error messages: `SELECT mailbox`. */
    readonly usage: string,
  ) {}

  /** The next token without taking it. */
  peek(): Token | undefined {
    return this.tokens[this.at];
  }

  /** True if no argument is left. */
  get done(): boolean {
    return this.at >= this.tokens.length;
  }

  /** Fails if arguments are left over. */
  end(): void {
    if (!this.done) throw this.error(`too many arguments`);
  }

  /** The next token, whatever it is. */
  any(what: string): Token {
    const token = this.tokens[this.at++];
    if (!token) throw this.error(`missing ${what}`);
    return token;
  }

  /** An atom (a word without quotes): a keyword, a flag, a number, a sequence set. */
  atom(what: string): string {
    const token = this.any(what);
    if (token.type !== 'atom') throw this.error(`${what} must be a plain word`);
    return token.value;
  }

  /** RFC 3501 astring: an atom, a quoted string or a literal. */
  astring(what: string): string {
    return stringOf(this.any(what), what, this.usage);
  }

  /** A number (RFC 3501 `number`): a count, a size, a MODSEQ. */
  number(what: string): number {
    const value = this.atom(what);
    if (!/^\d+$/.test(value) || value.length > 20) throw this.error(`${what} must be a number`);
    return Number(value);
  }

  /** A parenthesized list. */
  list(what: string): Token[] {
    const token = this.any(what);
    if (token.type !== 'list') throw this.error(`${what} must be a list in parentheses`);
    return token.items;
  }

  /** A parenthesized list if one comes next, else undefined. */
  optionalList(): Token[] | undefined {
    return this.peek()?.type === 'list' ? this.list('list') : undefined;
  }

  /**
   * An optional modifier list `(NAME modseq)` (RFC 7162 §3.1.3 STORE UNCHANGEDSINCE, §3.1.4 FETCH
   * CHANGEDSINCE): its number, or null when no list comes next. `command` names the command in
   * the error a malformed list gets.
   */
  modifier(command: string, name: string): number | null {
    const list = this.optionalList();
    if (!list) return null;
    const [key, value] = list;
    if (
      key?.type !== 'atom' ||
      key.value.toUpperCase() !== name ||
      value?.type !== 'atom' ||
      !/^\d+$/.test(value.value)
    )
      throw this.error(`the only ${command} modifier is (${name} modseq)`);
    return Number(value.value);
  }

  /** A literal's bytes (APPEND's message), or a quoted string's. */
  bytes(what: string): Buffer {
    const token = this.any(what);
    if (token.type === 'literal') return token.value;
    if (token.type === 'string') return Buffer.from(token.value, 'utf8');
    throw this.error(`${what} must be a literal {size} followed by the bytes`);
  }

  /** If the next token is this keyword (any case), takes it. */
  keyword(word: string): boolean {
    const token = this.peek();
    if (token?.type === 'atom' && token.value.toUpperCase() === word) {
      this.at++;
      return true;
    }
    return false;
  }

  /** The tokens not read yet (SEARCH keys, FETCH items). */
  rest(): Token[] {
    const rest = this.tokens.slice(this.at);
    this.at = this.tokens.length;
    return rest;
  }

  error(problem: string): ImapSyntaxError {
    return new ImapSyntaxError(`${problem}: use ${this.usage}`);
  }
}

/** The text of an atom, a quoted string or a literal (RFC 3501 astring). */
export function stringOf(token: Token, what: string, usage: string): string {
  if (token.type === 'atom' || token.type === 'string') return token.value;
  if (token.type === 'literal') return token.value.toString('utf8');
  throw new ImapSyntaxError(`${what} must be a word, a "quoted string" or a literal: use ${usage}`);
}

/** Every item of a list of atoms and strings (flags, header names, STATUS items). */
export function wordsOf(tokens: Token[], what: string, usage: string): string[] {
  return tokens.map((t) => stringOf(t, what, usage));
}
