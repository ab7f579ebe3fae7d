// The smtp-server members the SMTP code uses beyond the documented API (src/smtp/smtp-server-internals.ts),
// checked on a real SMTPServer and a real connection to it: a smtp-server version that renames or
// drops one fails here, naming it and why we need it, rather than in a student's session.
import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  heldLineLength,
  INTERNALS,
  inAuthExchange,
  inDataMode,
  SMTP_SERVER_CHECKED,
  SMTPConnection,
  SMTPServer,
  SMTPStream,
} from '../src/smtp/smtp-server-internals.js';
import { LineClient } from './helpers.js';

let server: SMTPServer;
let port: number;

beforeAll(async () => {
  server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    allowInsecureAuth: true,
    hideSTARTTLS: true,
    onAuth: (_auth, _session, callback) => callback(null, { user: 'someone' }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A client connected and greeted, and smtp-server's connection object for it. */
async function session(): Promise<{ nc: LineClient; connection: SMTPConnection; parser: SMTPStream }> {
  const before = new Set(server.connections);
  const nc = await LineClient.connect(port);
  expect(await nc.reply()).toMatch(/^220 /);
  const connection = [...server.connections].find((c) => !before.has(c))!;
  // `_parser` is read by this test only: the parser smtp-server made with _createParser().
  const parser = connection._parser;
  if (!(parser instanceof SMTPStream)) throw new Error("smtp-server's connection has no SMTPStream parser");
  return { nc, connection, parser };
}

describe(`smtp-server internals (checked against ${SMTP_SERVER_CHECKED})`, () => {
  it('each member listed in INTERNALS exists on a real server, connection and parser', async () => {
    const { nc, connection, parser } = await session();
    expect(connection).toBeInstanceOf(SMTPConnection);
    const owners = { connection, parser, server } as Record<string, object>;
    const missing = INTERNALS.filter(({ owner, member, kind }) => {
      const object = owners[owner] as Record<string, unknown>;
      return kind === 'method' ? typeof object[member] !== 'function' : !(member in object);
    }).map(({ owner, member, why }) => `${owner}.${member} (${why})`);
    expect(missing, 'smtp-server no longer has these members').toEqual([]);
    nc.close();
  });

  it('the methods we mirror (SMTPServer.connect, SMTPConnection.init) still do what our copies do', () => {
    const connect = SMTPServer.prototype.connect.toString();
    for (const step of ['connections.add', '_onError', '_onClientConnect', '.init()'])
      expect(connect, `SMTPServer.connect no longer does ${step}: update addConnection`).toContain(step);
    const init = SMTPConnection.prototype.init.toString();
    for (const step of ['_setListeners', 'maxClients', 'connectionReady'])
      expect(init, `SMTPConnection.init no longer does ${step}: update startSession`).toContain(step);
  });

  it('_nextHandler is set during an AUTH exchange and only then', async () => {
    const { nc, connection } = await session();
    await nc.command('EHLO student');
    expect(inAuthExchange(connection)).toBe(false);
    expect(await nc.command('AUTH LOGIN')).toMatch(/^334 /);
    expect(inAuthExchange(connection)).toBe(true);
    expect(await nc.command(Buffer.from('alice').toString('base64'))).toMatch(/^334 /);
    expect(inAuthExchange(connection)).toBe(true);
    expect(await nc.command(Buffer.from('secret').toString('base64'))).toMatch(/^235 /);
    expect(inAuthExchange(connection)).toBe(false);
    nc.close();
  });

  it('_dataMode is true from the 354 to the final dot; _remainder holds a partial line', async () => {
    const { nc, parser } = await session();
    await nc.command('HELO student');
    await nc.command('MAIL FROM:<a@example.org>');
    await nc.command('RCPT TO:<b@example.org>');
    expect(inDataMode(parser)).toBe(false);
    expect(await nc.command('DATA')).toMatch(/^354 /);
    expect(inDataMode(parser)).toBe(true);
    expect(await nc.command('Subject: x\r\n\r\nbody\r\n.')).toMatch(/^250 /);
    expect(inDataMode(parser)).toBe(false);
    // A command typed slowly: its first octets wait in the parser for the end of the line.
    nc.send('NOOP', '');
    await waitFor(() => heldLineLength(parser) === 4, { what: 'the parser to hold "NOOP"' });
    expect(await nc.command('')).toMatch(/^250 /);
    expect(heldLineLength(parser)).toBe(0);
    nc.close();
  });
});
