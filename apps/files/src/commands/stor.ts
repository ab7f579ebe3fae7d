import type { JailedFileSystem } from '../jailed-fs.js';
import { receive } from '../receive.js';
import type { Upload } from '../upload.js';
import { overDataConnection } from './transfer.js';
import { type CommandHandler, replyError, required } from './types.js';

/**
 * STOR and APPE (RFC 959 §4.1.3), and STOR after REST to resume an upload (RFC 3659 §5). The path and
 * the quota are checked before the data connection is used, so a refusal (550, 552, 553) comes
 * before any byte is sent; the bytes then go through an Upload, stored only once whole.
 */
export const stor: CommandHandler = {
  async run({ connection, command, control }) {
    const start = connection.restByteCount ?? 0;
    connection.restByteCount = 0;
    let upload: Upload;
    try {
      const name = required(command, 'a file name');
      upload = await (connection.fs as JailedFileSystem).write(name, {
        append: command.directive === 'APPE',
        start,
        stillWanted: () =>
          connection.commandSocket.destroyed
            ? 'the control connection closed during the transfer'
            : control.abortPending()
              ? 'aborted by ABOR'
              : null,
      });
    } catch (err) {
      connection.connector.end();
      return replyError(connection, err);
    }
    try {
      await overDataConnection(connection, `Receiving ${upload.clientPath}`, async (socket) => {
        await receive(socket, upload);
        await upload.store();
        return `${upload.clientPath}: stored, ${upload.size} bytes`;
      });
    } finally {
      await upload.discard(); // Removes the temp file if the upload never finished; nothing once stored.
    }
  },
};
