import { describe, expect, it } from 'vitest';
import { Bitfield, BLOCK_SIZE, PiecePicker } from '../src/index.js';

/** Every piece is two blocks. Peers are named by strings: the picker only compares them. */
const PIECE = 2 * BLOCK_SIZE;

function picker(pieces: number) {
  return new PiecePicker<string>(new Bitfield(pieces), () => PIECE);
}

/** A peer's bitfield with these pieces, counted in the picker's availability as a connected peer's are. */
function peer(p: PiecePicker<string>, pieces: number, has: number[]): Bitfield {
  const field = new Bitfield(pieces);
  for (const i of has) {
    field.set(i);
    p.peerHas(i);
  }
  return field;
}

const block = (index: number, begin: number) => Buffer.alloc(BLOCK_SIZE, index * 2 + begin / BLOCK_SIZE);

describe('PiecePicker (BEP 3 leaves the strategy to the client)', () => {
  it('rarest first: a new piece is the one the fewest connected peers have', () => {
    const p = picker(4);
    const a = peer(p, 4, [0, 1, 2, 3]);
    peer(p, 4, [0, 1, 2]);
    peer(p, 4, [0, 1]);
    // Availability: pieces 0 and 1 three peers, piece 2 two, piece 3 only a.
    expect(p.next('a', a, 2).blocks.map((b) => b.index)).toEqual([3, 3]);
    expect(p.next('a', a, 2).blocks.map((b) => b.index)).toEqual([2, 2]);
    // Pieces 0 and 1 tie: either comes first, and the other after it.
    expect(new Set(p.next('a', a, 4).blocks.map((b) => b.index))).toEqual(new Set([0, 1]));
  });

  it('a peer that left no longer counts: the piece only it had is rarest no more', () => {
    const p = picker(2);
    const a = peer(p, 2, [0, 1]);
    const gone = peer(p, 2, [0]);
    // Piece 1 is the rarest (only a has it)...
    expect(p.next('a', a, 1).blocks[0]!.index).toBe(1);
    p.peerGone(gone);
    const b = peer(p, 2, [1]);
    peer(p, 2, [1]);
    // ...now piece 0 is: a alone has it, and three peers have piece 1.
    expect(p.next('b', b, 1).blocks).toEqual([{ index: 1, begin: BLOCK_SIZE, length: BLOCK_SIZE }]);
    expect(p.next('a', a, 2).blocks[0]).toEqual({ index: 0, begin: 0, length: BLOCK_SIZE });
  });

  it('one owner per piece: two peers get different pieces, and a piece comes whole from its owner', () => {
    const p = picker(2);
    const a = peer(p, 2, [0, 1]);
    const b = peer(p, 2, [0, 1]);
    const fromA = p.next('a', a, 1).blocks;
    const fromB = p.next('b', b, 1).blocks;
    expect(fromA).toHaveLength(1);
    expect(fromB).toHaveLength(1);
    expect(fromA[0]!.index).not.toBe(fromB[0]!.index);
    // a's next request finishes its own piece first.
    const mine = fromA[0]!.index;
    expect(p.next('a', a, 1).blocks).toEqual([{ index: mine, begin: BLOCK_SIZE, length: BLOCK_SIZE }]);
    p.received('a', mine, 0, block(mine, 0));
    const done = p.received('a', mine, BLOCK_SIZE, block(mine, BLOCK_SIZE));
    expect(done.complete?.blocks).toEqual([block(mine, 0), block(mine, BLOCK_SIZE)]);
    expect([...done.complete!.sources]).toEqual([['a', PIECE]]);
  });

  it('the piece of a peer that left goes to the next peer that asks, which says it re-requests it', () => {
    const p = picker(2);
    const a = peer(p, 2, [0, 1]);
    const b = peer(p, 2, [0, 1]);
    const lost = p.next('a', a, 2).blocks[0]!.index;
    p.next('b', b, 2);
    p.peerGone(a);
    p.release('a');
    const retry = p.next('b', b, 4);
    expect(retry.retried).toEqual([lost]);
    expect(retry.blocks.map((r) => r.index)).toEqual([lost, lost]);
  });

  it('no endgame while some missing block is asked from nobody: a second peer does not duplicate requests', () => {
    const p = picker(2);
    const a = peer(p, 2, [0, 1]);
    const b = peer(p, 2, [0]);
    peer(p, 2, [1]);
    peer(p, 2, [1]);
    // a takes piece 0 (the rarer), b has nothing else: piece 1 is still asked from nobody.
    expect(p.next('a', a, 2).blocks.map((r) => r.index)).toEqual([0, 0]);
    expect(p.next('b', b, 4).blocks).toEqual([]);
  });

  it('endgame: once every block is asked for, others are asked too, and the first copy cancels the rest', () => {
    const p = picker(1);
    const a = peer(p, 1, [0]);
    const b = peer(p, 1, [0]);
    expect(p.next('a', a, 4).blocks).toHaveLength(2);
    const twice = p.next('b', b, 4);
    expect(twice.blocks).toEqual([
      { index: 0, begin: 0, length: BLOCK_SIZE },
      { index: 0, begin: BLOCK_SIZE, length: BLOCK_SIZE },
    ]);
    // b's copy of block 0 comes first: a is told to cancel it; then a's block 1: b cancels.
    expect(p.received('b', 0, 0, block(0, 0))).toEqual({ cancel: ['a'] });
    const last = p.received('a', 0, BLOCK_SIZE, block(0, BLOCK_SIZE));
    expect(last.cancel).toEqual(['b']);
    expect(new Map(last.complete!.sources)).toEqual(
      new Map([
        ['b', BLOCK_SIZE],
        ['a', BLOCK_SIZE],
      ]),
    );
    // A late duplicate, or a block never asked for, is ignored.
    expect(p.received('a', 0, 0, block(0, 0))).toEqual({ cancel: [] });
    expect(p.received('a', 0, 7 * BLOCK_SIZE, block(0, 0))).toEqual({ cancel: [] });
  });

  it('a piece that failed its hash is asked again, but not from the peer that sent the bad copy', () => {
    const p = picker(1);
    const a = peer(p, 1, [0]);
    const b = peer(p, 1, [0]);
    p.next('a', a, 2);
    p.received('a', 0, 0, block(0, 0));
    p.received('a', 0, BLOCK_SIZE, block(0, 0));
    p.failed(0);
    expect(p.next('a', a, 2).blocks).toEqual([]);
    const again = p.next('b', b, 2);
    expect(again.retried).toEqual([0]);
    expect(again.blocks).toHaveLength(2);
  });
});
