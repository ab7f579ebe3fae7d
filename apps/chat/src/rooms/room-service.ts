import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  EventFormatError,
  ForbiddenError,
  makeEvent,
  type RoomEvent,
  type RoomLog,
  RoomStore,
  type SigningKey,
} from '@portlab/matrix';
import { forbidden, MatrixError, notFound } from '../errors.js';
import { JsonFile } from '../json-file.js';
import { membership } from './room-view.js';

/** Transaction ids remembered (a client retries within seconds; a lab sends far fewer messages). */
const MAX_TRANSACTIONS = 100_000;

/** What a local user asks to add to a room: the event before the server fills in the graph. */
export interface NewEvent {
  type: string;
  stateKey?: string;
  content: Record<string, unknown>;
}

/**
 * The rooms of this homeserver, as the client API uses them. packages/matrix does the protocol:
 * makeEvent chains a new event to the room's forward extremities (prev_events, depth), selects its
 * auth_events, hashes and signs it and checks room version 10's authorization rules on the current
 * state; RoomStore appends it to the room's NDJSON log ($DATA/chat/rooms) and resolves after the
 * fsync. Only then does the client get its event_id and do other clients' /sync see it. A refused
 * event is never stored. This class adds what is the client API's own: aliases and transaction ids.
 */
export class RoomService {
  private readonly aliases: JsonFile<Record<string, string>>;
  /** §"Transaction identifiers": (device, room, txnId) → the event it made. */
  private readonly transactions = new Map<string, Promise<RoomEvent>>();
  private readonly transactionOf = new Map<string, { deviceKey: string; txnId: string }>();
  /** Called once each local event is on disk, before the client hears of it (federation fan-out). */
  onLocalEvent: ((event: RoomEvent) => Promise<void> | undefined) | undefined;
  /**
   * Called when the disk refused a write: the store then never advances again (nothing unsynced is
   * shown), so the process must restart (main.ts exits; `portlab up` starts it again).
   */
  onStoreFailure: (err: unknown) => void = () => {};
  /** Per room: settles when the last event asked for is indexed (see send). */
  private readonly turns = new Map<string, Promise<void>>();

  private constructor(
    readonly store: RoomStore,
    dir: string,
    readonly serverName: string,
    private readonly key: SigningKey,
  ) {
    this.aliases = new JsonFile(path.join(dir, 'aliases.json'), () => ({}));
  }

  /** Opens $DATA/chat: every room log is replayed (a torn last line, from a crash, is cut). */
  static async open(dir: string, serverName: string, key: SigningKey): Promise<RoomService> {
    const { store, report } = await RoomStore.open(path.join(dir, 'rooms'));
    if (report.tornBytes > 0)
      console.log(`[chat] cut ${report.tornBytes} torn byte(s) at the end of a room log`);
    return new RoomService(store, dir, serverName, key);
  }

  get position(): number {
    return this.store.position;
  }

  room(roomId: string): RoomLog | undefined {
    return this.store.room(roomId);
  }

  /** The room, or M_NOT_FOUND. */
  get(roomId: string): RoomLog {
    const room = this.store.room(roomId);
    if (!room) throw notFound(`Unknown room ${roomId}`);
    return room;
  }

  /** The room, if `userId` is joined to it; else M_FORBIDDEN, whether it exists or not. */
  joined(roomId: string, userId: string): RoomLog {
    const room = this.store.room(roomId);
    if (!room || membership(room, userId) !== 'join') {
      throw forbidden(`You are not a member of the room ${roomId}`);
    }
    return room;
  }

  allRooms(): RoomLog[] {
    return this.store.rooms();
  }

  /** A fresh room id, "!<18 letters>:<server name>" (§"Room IDs"). */
  newRoomId(): string {
    let roomId: string;
    do roomId = `!${randomLetters(18)}:${this.serverName}`;
    while (this.store.room(roomId));
    return roomId;
  }

  /**
   * Makes, authorizes and stores one event of `sender` (a local user) in room `roomId`; resolves
   * once it is on disk. The same transaction again (a client retrying) gets the same event.
   */
  send(
    roomId: string,
    sender: string,
    event: NewEvent,
    txn?: { deviceKey: string; txnId: string },
  ): Promise<RoomEvent> {
    const txnKey = txn && `${txn.deviceKey}\u0000${roomId}\u0000${txn.txnId}`;
    const earlier = txnKey ? this.transactions.get(txnKey) : undefined;
    if (earlier) return earlier;
    // One event of a room is made at a time, each once the one before is indexed (its fsync may
    // still be running): every event chains on the last, and the writes still share their fsyncs.
    const previous = this.turns.get(roomId) ?? Promise.resolve();
    const made = previous.then(() => this.makeAndAppend(roomId, sender, event, txn));
    const turn = made.then(
      ({ indexed }) => indexed,
      () => undefined,
    );
    this.turns.set(roomId, turn);
    void turn.then(() => {
      if (this.turns.get(roomId) === turn) this.turns.delete(roomId);
    });
    const stored = made.then(({ stored }) => stored);
    if (txnKey && txn) {
      // Kept in memory for the clients' retries, the oldest forgotten past MAX_TRANSACTIONS.
      if (this.transactions.size >= MAX_TRANSACTIONS) this.forgetOldestTransaction();
      this.transactions.set(txnKey, stored);
      stored.catch(() => this.transactions.delete(txnKey));
    }
    return stored;
  }

  /**
   * makeEvent on the room's current state, then RoomStore.append. `indexed` resolves once the store
   * holds the event (RoomLog.streamOf knows it: what the next makeEvent builds on), `stored` once it
   * is fsync'd.
   */
  private makeAndAppend(
    roomId: string,
    sender: string,
    event: NewEvent,
    txn: { deviceKey: string; txnId: string } | undefined,
  ): { indexed: Promise<void>; stored: Promise<RoomEvent> } {
    let made: RoomEvent;
    try {
      made = makeEvent(
        this.store.room(roomId),
        {
          roomId,
          sender,
          type: event.type,
          content: event.content,
          ...(event.stateKey !== undefined ? { stateKey: event.stateKey } : {}),
        },
        { origin: this.serverName, key: this.key },
      );
    } catch (err) {
      if (err instanceof ForbiddenError) throw forbidden(err.message);
      if (err instanceof EventFormatError) throw new MatrixError(413, 'M_TOO_LARGE', err.message);
      throw err;
    }
    // Known before the event can reach any /sync: the sender's device must see its transaction id.
    if (txn) this.transactionOf.set(made.event_id, txn);
    const appended = this.store.append(made);
    appended.catch((err) => this.onStoreFailure(err));
    const stored = appended.then(async () => {
      await this.onLocalEvent?.(made)?.catch((err: Error) => console.error(`[chat] fan-out: ${err.message}`));
      return made;
    });
    const indexed = (async () => {
      // The store indexes an event a few microtasks after append() (once its log file is open).
      for (let i = 0; i < 50; i++) {
        if (this.store.room(roomId)?.streamOf(made.event_id) !== undefined) return;
        await Promise.resolve();
      }
      await appended.catch(() => {});
    })();
    return { indexed, stored };
  }

  private forgetOldestTransaction(): void {
    const [key, promise] = this.transactions.entries().next().value as [string, Promise<RoomEvent>];
    this.transactions.delete(key);
    void promise.then((event) => this.transactionOf.delete(event.event_id)).catch(() => {});
  }

  /** The transaction id to show `deviceKey` with an event it sent (its local echo), if any. */
  transactionIdFor(eventId: string, deviceKey: string): string | undefined {
    const txn = this.transactionOf.get(eventId);
    return txn?.deviceKey === deviceKey ? txn.txnId : undefined;
  }

  /** "#name:server" → room id, from the aliases this server made (§"Room aliases"). */
  resolveAlias(alias: string): string | undefined {
    return this.aliases.data[alias];
  }

  setAlias(alias: string, roomId: string): void {
    if (this.aliases.data[alias]) throw new MatrixError(400, 'M_ROOM_IN_USE', `The alias ${alias} is taken`);
    this.aliases.update((all) => {
      all[alias] = roomId;
    });
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

function randomLetters(n: number): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return Array.from(randomBytes(n), (b) => letters[b % 52]).join('');
}
