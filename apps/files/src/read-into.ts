import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

/** Where a socket's bytes go when it is read with `onread` (net.Socket's option, Node ≥ 12). */
export interface ReadTarget {
  /** Asked before each read: the memory the next read(2) fills. */
  space(): Uint8Array;
  /** After each read, how many bytes landed in that space. false pauses the socket; resume() goes on. */
  received(bytes: number): boolean;
}

/**
 * The one place this app uses a Node internal (`socket._handle`), to read a plain TCP data
 * connection straight into buffers of our own.
 *
 * Why: a socket read the usual way allocates a new 64 KiB Buffer for each read and emits it as a
 * 'data' event; for a 1 GiB upload that is 16,000 buffers made, copied to the file, then collected.
 * With `onread`, libuv's read(2) lands where `target.space()` says, no allocation and no event:
 * half the processor time of a 1 GiB upload (README, "Performance").
 *
 * `onread` is public, but only for a socket one creates (`new net.Socket({ onread })`); in Node 20 a
 * net.Server hands out its accepted sockets without it. The accepted socket's handle (libuv's TCP
 * stream, `_handle`) is therefore read through a second net.Socket made over it. The first socket
 * stays the data connection for everyone else (ftp-srv's connector, the transcript): its end() and
 * destroy() close the handle, and its byte counts are the handle's. The reader only reads: at the
 * end of the stream it waits, and destroying it (a read error) destroys the first socket.
 *
 * Returns null, and the caller reads 'data' events, when this cannot be done safely: a TLS socket
 * (its handle carries encrypted bytes), a socket already read from (its bytes would be lost), or a
 * Node whose sockets no longer have such a handle.
 */
export function readInto(socket: Socket, target: ReadTarget): Socket | null {
  const handle = (socket as Socket & { _handle?: { useUserBuffer?: unknown } })._handle;
  if (
    socket instanceof TLSSocket ||
    typeof handle?.useUserBuffer !== 'function' ||
    socket.destroyed ||
    socket.bytesRead > 0 ||
    socket.readableLength > 0
  ) {
    return null;
  }
  return new HandleReader(socket, handle, target);
}

class HandleReader extends Socket {
  constructor(
    private readonly owner: Socket,
    handle: unknown,
    target: ReadTarget,
  ) {
    // `handle` is not in Node's published options (it is how net.Server makes its sockets);
    // allowHalfOpen: at the end of the stream the reader does not close the connection itself.
    super({
      handle,
      allowHalfOpen: true,
      onread: { buffer: () => target.space(), callback: (bytes: number) => target.received(bytes) },
    } as ConstructorParameters<typeof Socket>[0]);
    // Once the owner closed the handle no read will come: the reader closes too. (A net.Socket
    // emits its 'close' itself, when its handle is closed; this one never closes it.)
    owner.once('close', () => {
      this.destroy();
      this.emit('close');
    });
  }

  /** The handle stays the owner's: it closes it once, and emits the 'close' others wait for. */
  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.owner.destroy();
    done(error);
  }
}
