/** One message of an APPEND: its bytes, flags and date (RFC 3501 §6.3.11). */
export interface NewMessage {
  message: Buffer;
  flags: string[];
  internalDate?: Date;
}

/** What appending needs of a folder: to store a message, and to take stored ones back. */
export interface AppendTarget {
  append(message: Buffer, options: { flags?: string[]; internalDate?: Date }): Promise<{ uid: number }>;
  setFlags(uids: number[], operation: 'add', flags: string[]): Promise<unknown>;
  expunge(uids?: number[]): Promise<number[]>;
}

/** Messages written at once: their fsyncs are shared (the store's group commit), their files few. */
const AT_ONCE = 32;

/**
 * RFC 3502 §6.3.11 (MULTIAPPEND): "If the server fails to append any of the messages, none of
 * them are appended." The messages are written at once (AT_ONCE at a time), so one fsync round
 * serves many. If one fails, those already stored are taken back (\Deleted, then EXPUNGE of
 * exactly those UIDs), and the error is thrown. Another session may glimpse them meanwhile (an
 * EXISTS then an EXPUNGE): Dovecot's transaction hides even that; a Maildir without one cannot.
 * Returns the UIDs, in the order the messages were given (APPENDUID, RFC 4315 §3).
 */
export async function appendAll(folder: AppendTarget, messages: NewMessage[]): Promise<number[]> {
  const uids: (number | undefined)[] = new Array(messages.length);
  let failure: unknown = null;
  let next = 0;
  const worker = async () => {
    while (next < messages.length && failure === null) {
      const i = next++;
      const { message, flags, internalDate } = messages[i]!;
      try {
        uids[i] = (await folder.append(message, { flags, ...(internalDate ? { internalDate } : {}) })).uid;
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, messages.length) }, worker));
  if (failure === null) return uids as number[];
  const stored = uids.filter((uid): uid is number => uid !== undefined);
  if (stored.length) {
    await folder.setFlags(stored, 'add', ['\\Deleted']);
    await folder.expunge(stored);
  }
  throw failure;
}
