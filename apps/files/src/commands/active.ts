import { isIPv4, isIPv6 } from 'node:net';
import { plainAddress } from '@portlab/transcript';
import { logDataConnection } from '../data-log.js';
import { ActiveConnector } from '../ftp-srv-internals.js';
import { ReplyError } from '../reply-error.js';
import { type CommandHandler, replyError } from './types.js';

interface Target {
  host: string;
  port: number;
  family: 4 | 6;
}

/** PORT h1,h2,h3,h4,p1,p2 (RFC 959 §4.1.2): an IPv4 address and a port as two bytes. */
function parsePort(arg: string): Target | null {
  const n = arg.split(',').map(Number);
  if (n.length !== 6 || n.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return null;
  return { host: n.slice(0, 4).join('.'), port: n[4]! * 256 + n[5]!, family: 4 };
}

/** EPRT |1|127.0.0.1|51210| or |2|::1|51210| (RFC 2428 §2). */
function parseEprt(arg: string): Target | null {
  const [, proto, host = '', port] = arg.split(arg[0] ?? '|');
  const family = proto === '1' && isIPv4(host) ? 4 : proto === '2' && isIPv6(host) ? 6 : null;
  const number = Number(port);
  if (!family || !Number.isInteger(number) || number < 1 || number > 65535) return null;
  return { host, port: number, family };
}

/**
 * PORT and EPRT: active mode, the original one. The client listens and the server connects back to
 * it for each transfer — which a NAT or firewall in front of the client usually blocks, the reason
 * passive mode exists. Only to the client's own address and an unprivileged port: a server that
 * connects wherever it is told can be made to attack others (the FTP bounce attack, RFC 2577 §3).
 */
export const active: CommandHandler = {
  async run({ connection, command, session }) {
    try {
      const arg = command.arg ?? '';
      const target = command.directive === 'PORT' ? parsePort(arg) : parseEprt(arg);
      if (!target) {
        throw new ReplyError(501, 'Syntax: PORT 127,0,0,1,200,10 or EPRT |1|127.0.0.1|51210|');
      }
      const client = plainAddress(connection.commandSocket.remoteAddress);
      if (target.host !== client) {
        throw new ReplyError(
          501,
          `Data connections go to your own address (${client}) only: see RFC 2577 §3`,
        );
      }
      if (target.port < 1024) throw new ReplyError(501, 'Data connections go to ports 1024 and above only');
      // The server dials at once (ftp-srv's active connector), so this line comes before the reply.
      session?.server(
        `${command.directive} decoded: the server connects to ${target.host} port ${target.port}`,
        ['data'],
      );
      connection.connector.end();
      const connector = new ActiveConnector(connection);
      connection.connector = connector;
      await connector.setupConnection(target.host, target.port, target.family);
      const socket = connector.dataSocket!;
      socket.once('connect', () =>
        logDataConnection(session, socket, 'active', 'the server dialled the client'),
      );
      await connection.reply(
        200,
        `${command.directive} OK: the next transfer connects to ${target.host} port ${target.port}`,
      );
    } catch (err) {
      return replyError(connection, err);
    }
  },
};
