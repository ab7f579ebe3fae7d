import { ImapSyntaxError, type Token } from './parser/tokenizer.js';

/**
 * The flags every mailbox has (RFC 3501 §2.3.2): the system flags a client may set, and
 * $Forwarded, the keyword the Maildir `P` letter stands for. \Recent is not among them: only the
 * server sets it (§2.3.2), and a FLAGS response need not list it.
 */
export const MAILBOX_FLAGS: readonly string[] = [
  '\\Answered',
  '\\Flagged',
  '\\Deleted',
  '\\Seen',
  '\\Draft',
  '$Forwarded',
];

const SYSTEM_FLAGS = MAILBOX_FLAGS.filter((f) => f.startsWith('\\'));

/** atom-specials (RFC 3501 §9): what an atom, and so a keyword, cannot hold. */
const NOT_IN_ATOM = /[(){ %*"\\\]\x00-\x1f\x7f]/;

/**
 * The flags of a STORE or APPEND, checked against the grammar (RFC 3501 §9): `flag` is a system
 * flag a client may set, or a keyword, which is an atom. A quoted string or a literal, `\Recent`
 * (only the server sets it, §2.3.2) and a system flag that does not exist (`\Foo`) are not flags:
 * the command is BAD and changes nothing, so no keyword is ever made of them. `NIL` is an atom
 * there, so a keyword like any other (as Dovecot has it, and imaptest checks). System flags get
 * their canonical spelling (flags are case-insensitive).
 */
export function parseFlags(tokens: Token[], usage: string): string[] {
  return tokens.map((token) => {
    if (token.type !== 'atom')
      throw new ImapSyntaxError(`a flag is a word such as \\Seen or a keyword atom: use ${usage}`);
    const word = token.value;
    if (word.startsWith('\\')) {
      const system = SYSTEM_FLAGS.find((f) => f.toLowerCase() === word.toLowerCase());
      if (!system)
        throw new ImapSyntaxError(
          `${word} is not a flag a client can set: use ${SYSTEM_FLAGS.join(' ')} or a keyword`,
        );
      return system;
    }
    if (NOT_IN_ATOM.test(word)) throw new ImapSyntaxError(`${word} is not an atom, so not a keyword`);
    return word;
  });
}
