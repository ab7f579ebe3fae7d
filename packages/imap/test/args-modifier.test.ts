import { describe, expect, it } from 'vitest';
import { Args } from '../src/parser/args.js';
import { ImapSyntaxError, tokenize } from '../src/parser/tokenizer.js';

const args = (text: string) => new Args(tokenize([text]), 'FETCH set items [(CHANGEDSINCE modseq)]');

describe('Args.modifier: the RFC 7162 modifier list of FETCH and STORE', () => {
  it('reads (CHANGEDSINCE 12) in any case, and leaves what follows', () => {
    const a = args('(changedsince 12) +FLAGS');
    expect(a.modifier('FETCH', 'CHANGEDSINCE')).toBe(12);
    expect(a.atom('item')).toBe('+FLAGS');
  });

  it('is null when no list comes next, taking nothing', () => {
    const a = args('+FLAGS (\\Seen)');
    expect(a.modifier('STORE', 'UNCHANGEDSINCE')).toBeNull();
    expect(a.atom('item')).toBe('+FLAGS');
  });

  it('refuses another modifier, a value that is not a number, and an empty list', () => {
    for (const bad of [
      '(UNCHANGEDSINCE 5)',
      '(CHANGEDSINCE abc)',
      '(CHANGEDSINCE)',
      '()',
      '(CHANGEDSINCE -1)',
    ])
      expect(() => args(bad).modifier('FETCH', 'CHANGEDSINCE'), bad).toThrow(
        new ImapSyntaxError(
          'the only FETCH modifier is (CHANGEDSINCE modseq): use FETCH set items [(CHANGEDSINCE modseq)]',
        ),
      );
  });
});
