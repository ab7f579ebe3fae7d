import type { Socket } from 'node:net';
import type { Session } from '@portlab/transcript';
import type { FilesContext } from '../context.js';
import type { FtpCommand, FtpConnection } from '../ftp-srv-internals.js';
import { ReplyError } from '../reply-error.js';

export interface CommandContext {
  connection: FtpConnection;
  command: FtpCommand;
  /** The control connection's transcript. */
  session: Session | undefined;
  files: FilesContext;
  control: {
    /** Stops reading commands, and drops those read but not run yet: TLS is about to start. */
    beginTls(): void;
    /** Reads commands from the secured socket from now on. */
    readFrom(socket: Socket): void;
    /** Whether an ABOR arrived and waits for the command in progress to end. */
    abortPending(): boolean;
  };
}

/** One of the commands this app handles itself instead of ftp-srv (see commands/index.ts). */
export interface CommandHandler {
  run(context: CommandContext): Promise<unknown>;
  /** Allowed before login (FEAT); the others answer 530 until USER/PASS succeeded. */
  beforeLogin?: boolean;
}

/** Sends a refusal: our ReplyErrors carry their code; anything else is a local error (451). */
export function replyError(connection: FtpConnection, err: unknown): Promise<unknown> {
  if (err instanceof ReplyError) return connection.reply(err.code, err.message);
  return connection.reply(451, 'Local error in processing: the action was not taken');
}

/** The argument a command cannot do without, or a 501 that says what to send. */
export function required(command: FtpCommand, what: string): string {
  if (!command.arg) throw new ReplyError(501, `${command.directive} needs ${what}`);
  return command.arg;
}
