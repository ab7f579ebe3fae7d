import { isIPv6, type Server, type Socket } from 'node:net';
import { logDataConnection } from '../data-log.js';
import { PassiveConnector } from '../ftp-srv-internals.js';
import { type CommandHandler, replyError } from './types.js';

/**
 * PASV (RFC 959 §4.1.1) and EPSV (RFC 2428 §3): the server listens on a data port and tells the
 * client where to connect. PASV writes the address and port as six numbers, the port as two bytes:
 * (127,0,0,1,32,8) is port 32×256+8 = 8200. EPSV gives the port alone, and works over IPv6.
 * Passive mode exists because the client dials both connections: it works through the NAT and
 * firewalls in front of clients, where active mode's connection back to the client is blocked.
 * The address PASV names is the lab's public address (config.publicAddress), the one students type:
 * with host 0.0.0.0 the control connection's own local address may be one they cannot reach.
 */
export const passive: CommandHandler = {
  async run({ connection, command, session, files }) {
    const extended = command.directive === 'EPSV';
    const address = files.config.publicAddress;
    if (!extended && isIPv6(address)) {
      return connection.reply(501, 'PASV can only name an IPv4 address (RFC 959): use EPSV (RFC 2428)');
    }
    connection.connector.end(); // A data port taken by an earlier PASV and never used is given back.
    const connector = new PassiveConnector(connection);
    connection.connector = connector;
    let server: Server;
    try {
      server = await connector.setupServer(); // Listens on files.passivePorts.acquire().
    } catch (err) {
      return replyError(connection, err);
    }
    const { port } = server.address() as { port: number };
    files.passivePorts.attach(port, server);
    // With PROT P the data connection is TLS too (RFC 4217 §9): count it once its handshake is done.
    server.on(connection.secure ? 'secureConnection' : 'connection', (socket: Socket) =>
      logDataConnection(session, socket, 'passive', `data port ${port}`),
    );
    if (extended) {
      await connection.reply(229, `Entering Extended Passive Mode (|||${port}|)`);
      session?.server(`EPSV reply decoded: (|||${port}|) -> data port ${port}`, ['data']);
      return;
    }
    const numbers = `${address.replaceAll('.', ',')},${port >> 8},${port & 255}`;
    await connection.reply(227, `Entering Passive Mode (${numbers}).`);
    session?.server(
      `227 ... (${numbers}) -> data port ${port} (${port >> 8}×256+${port & 255}) on ${address}`,
      ['data'],
    );
  },
};
