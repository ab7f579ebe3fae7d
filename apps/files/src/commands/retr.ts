import type { JailedFileSystem } from '../jailed-fs.js';
import { send } from '../send.js';
import { overDataConnection } from './transfer.js';
import { type CommandHandler, replyError, required } from './types.js';

/**
 * RETR (RFC 959 §4.1.3), resumed at the offset of a REST before it (RFC 3659 §5): `curl -C -` and
 * `reget` in lftp send REST with the size they already have.
 */
export const retr: CommandHandler = {
  async run({ connection, command }) {
    const start = connection.restByteCount ?? 0;
    connection.restByteCount = 0;
    let file: Awaited<ReturnType<JailedFileSystem['read']>>;
    try {
      file = await (connection.fs as JailedFileSystem).read(required(command, 'a file name'));
    } catch (err) {
      connection.connector.end();
      return replyError(connection, err);
    }
    const { clientPath, size } = file;
    const bytes = Math.max(size - start, 0);
    try {
      await overDataConnection(connection, `Sending ${clientPath} (${bytes} bytes)`, async (socket) => {
        await send(file.file, start, socket);
        return `${clientPath}: ${bytes} bytes sent`;
      });
    } finally {
      await file.file.close();
    }
  },
};
