import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/index.js';
import { Args } from '../src/parser/args.js';
import { ImapSyntaxError, tokenize } from '../src/parser/tokenizer.js';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/** Commands a client might send, to be cut, spliced and garbled. */
const SEEDS = [
  'FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100>)',
  'UID FETCH 1,3:* (BODYSTRUCTURE ENVELOPE BODY[1.MIME] RFC822.SIZE) (CHANGEDSINCE 1)',
  'SEARCH OR (FROM "alice" SINCE 1-Jan-2024) NOT (LARGER 100 UNSEEN) HEADER X-Test ""',
  'UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 TEXT "café" UID 1:*',
  'STORE 1:2 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen $Label)',
  'LIST (SUBSCRIBED) "" ("INBOX" "%") RETURN (STATUS (MESSAGES UNSEEN) CHILDREN)',
  'STATUS INBOX (MESSAGES UIDNEXT HIGHESTMODSEQ)',
  'APPEND Drafts (\\Draft) " 1-Jan-2024 10:00:00 +0100" {5+}\nhello',
  'CREATE "Work.Projects"',
  'RENAME "Work" "Job"',
  'COPY 1:* Trash',
  'UID MOVE 2 Junk',
  'ID ("name" "fuzz")',
  'EXAMINE INBOX (CONDSTORE)',
  'NOOP',
];

/** A seed mutated: characters dropped, doubled, swapped for IMAP's special ones. */
const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom(
          '(',
          ')',
          '"',
          '[',
          ']',
          '{',
          '}',
          '*',
          '\\',
          ' ',
          '0',
          '<',
          '>',
          '',
          '\x00',
          'é',
          '{3}',
        ),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([seed, edits]) =>
    edits.reduce(
      (s, [at, c]) => s.slice(0, at % (s.length + 1)) + c + s.slice((at % (s.length + 1)) + 1),
      seed,
    ),
  );

const line = fc.oneof(mutated, fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 60 }));

describe('the parser under random and mutated commands', () => {
  it('either reads a command or says what is wrong with it; it never throws anything else', () => {
    fc.assert(
      fc.property(line, (text) => {
        let tokens: ReturnType<typeof tokenize>;
        try {
          tokens = tokenize([`a1 ${text.split('\n')[0]!}`]);
        } catch (err) {
          expect(err).toBeInstanceOf(ImapSyntaxError);
          return;
        }
        const [, name, ...rest] = tokens;
        if (name?.type !== 'atom') return;
        const command = COMMANDS.get(name.value.toUpperCase());
        if (!command) return;
        try {
          command.parse(new Args(rest, command.usage), { uid: false });
        } catch (err) {
          expect(err).toBeInstanceOf(ImapSyntaxError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the server under random and mutated commands', () => {
  let lab: ImapLab;
  beforeAll(async () => {
    lab = await startImapLab({ mail: { maxMessageBytes: 4096 } });
    await lab.store.deliver('bob', message('fuzz me'));
    await lab.store.deliver('bob', message('and me'));
  });
  afterAll(() => lab.stop());

  it('answers every command line, and a fresh connection still works afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 8 }), async (lines) => {
        const c = await RawClient.connect(lab.port);
        await c.command('l1', 'LOGIN bob builder');
        await c.command('s1', 'SELECT INBOX');
        // Garbage may leave the server waiting for a literal or a DONE; the end marker still gets an answer.
        // Literals of more than 9 bytes are defused so the padding below always completes them.
        const garbage = lines.map((l) => l.replace(/\n/g, ' ').replace(/\{(\d{2,})(\+?)\}/g, '{$1$2x}'));
        c.write(`${garbage.join('\r\n')}\r\n${'\r\n'.repeat(80)}DONE\r\nzz9 NOOP\r\n`);
        const answers = await c.until(/zz9 (OK|NO|BAD)/);
        expect(answers).not.toContain('internal error');
        c.close();
      }),
      { numRuns: 40 },
    );
    const fresh = await RawClient.connect(lab.port);
    expect(await fresh.command('f1', 'LOGIN bob builder')).toMatch(/f1 OK/);
    expect(await fresh.command('f2', 'SELECT INBOX')).toMatch(/f2 OK/);
    fresh.close();
  });
});
