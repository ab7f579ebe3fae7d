import type { Writable } from 'node:stream';

/**
 * How long one connection may work before it lets the event loop go round: every other
 * connection's bytes, and new connections' greetings, wait at most about this long for it.
 */
export const TURN_MS = 4;

/**
 * Fair shares of one event loop (issue #20, "one client can stall everyone"). Dovecot gives each
 * connection its own process, so the kernel shares the CPU between them; here every connection of
 * an app shares one thread, so a session doing long work (1,000 pipelined UIDL of a 9,800-message
 * maildrop, FETCH 1:* on 10,000 messages) must give the thread back now and then:
 *
 * - `pace()` between commands and between pieces of a long answer. While the session's budget of
 *   TURN_MS lasts it returns at once; past it, the session waits for `setImmediate`, so the event
 *   loop's poll phase runs first: sockets with data, and new connections (their greeting).
 * - Backpressure: while the client has not read what was sent (`writableNeedDrain`), the session
 *   waits for the socket's 'drain' before it makes more. A client that reads slowly, or not at
 *   all, holds at most one socket buffer of answers in the server's memory, and no CPU.
 *
 * The budget counts the time since this session last let the loop go round: a session back from
 * waiting for its client finds it spent, and its command waits one turn, behind the work already
 * queued (round-robin). Letting such a command go at once was tried: with 50 IMAP clients
 * (scripts/bench/imap-dovecot.js) NOOP's p50 stayed within this shared machine's noise (5-35 ms
 * either way), so the simpler rule stays.
 */
export class Turn {
  private since = performance.now();

  constructor(private readonly budgetMs = TURN_MS) {}

  /** True when this session has used its share and should let others run. */
  get spent(): boolean {
    return performance.now() - this.since >= this.budgetMs;
  }

  /** Waits for the client to read (backpressure), and lets the loop go round once the budget is spent. */
  async pace(socket?: Writable): Promise<void> {
    if (socket) await drained(socket);
    if (this.spent) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.since = performance.now();
    }
  }
}

/** Resolves once the socket wants more (or is gone): at once if its buffer is not full. */
export function drained(socket: Writable): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    socket.on('drain', done).on('close', done).on('error', done);
  });
}
