import type { ServiceName } from '@portlab/config';
import { Jail } from '@portlab/service';
import { plainAddress } from '@portlab/transcript';
import { FtpSrv } from 'ftp-srv';
import type { FilesContext } from './context.js';
import type { FtpConnection, FtpServer } from './ftp-srv-internals.js';
import { ensureHome, ensurePublic } from './homes.js';
import { JailedFileSystem } from './jailed-fs.js';
import { FtpSession, transcriptOf } from './session.js';

/** RFC 1635: the classic names of anonymous FTP; the password is by custom an e-mail address. */
const ANONYMOUS = new Set(['anonymous', 'ftp']);

/**
 * One ftp-srv server for the ftp service (plain, AUTH TLS to upgrade, RFC 4217) or the ftps one (TLS
 * from the first byte, port 990's custom). It is not started here: the caller gives
 * `server.server` (the net or tls server inside) to `runtime.serve`, which binds the port with the
 * lab's messages and transcripts.
 */
export function createFtpServer(
  files: FilesContext,
  service: Extract<ServiceName, 'ftp' | 'ftps'>,
): FtpServer {
  const { config } = files;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const scheme = service === 'ftps' ? 'ftps' : 'ftp';
  const server = withoutSignalHandlers(
    () =>
      new FtpSrv({
        url: `${scheme}://${host}:${config.portOf(service)}`,
        // Our PASV (commands/passive.ts) names config.publicAddress; ftp-srv wants one set to allow PASV at all.
        pasv_url: config.publicAddress,
        tls: files.tls, // ftp-srv reads it for PBSZ/PROT and the data connections.
        greeting: ["portlab's FTP server (ftp-srv)"],
        anonymous: false, // Anonymous logins are ours to decide: see login() below.
        blacklist: ['STOU'], // ftp-srv's STOU writes files its own way, around our uploads.
        log: silentLog,
      }) as FtpServer,
  );
  // Passive data ports come from the app's range (passive-ports.ts), not ftp-srv's own picker.
  server.getNextPasvPort = () => files.passivePorts.acquire();
  // 'connect' comes before ftp-srv writes its 220 greeting: the control hooks see the whole session.
  (server as NodeJS.EventEmitter).on('connect', ({ connection }: { connection: FtpConnection }) =>
    new FtpSession(connection, files, files.runtime.sessionOf(connection.commandSocket)).start(),
  );
  server.on('login', ({ connection, username, password }, resolve, reject) => {
    login(files, connection as unknown as FtpConnection, username, password).then(resolve, reject);
  });
  return server;
}

/** USER/PASS (RFC 959 §4.1.1): a lab account jailed in its folder, or anonymous, read-only. */
async function login(files: FilesContext, connection: FtpConnection, username: string, password: string) {
  const { config, runtime, throttle } = files;
  const address = plainAddress(connection.commandSocket.remoteAddress, '?');
  if (ANONYMOUS.has(username.toLowerCase())) {
    if (!config.files.anonymous) throw new Error('Anonymous login is off on this server (files.anonymous)');
    const jail = Jail.openSync(ensurePublic(config));
    return { fs: new JailedFileSystem(connection, jail, { readOnly: true, quotaBytes: 0 }) };
  }
  const login = await throttle.authenticate(runtime.users, {
    name: username,
    password,
    domain: config.domain,
    address,
    transcript: transcriptOf(connection), // Whose password the PASS line was (see Session.login).
  });
  if (login.user === null) {
    // ftp-srv keeps the first USER for the session; forgetting it lets the client try again (RFC 959: USER, then PASS).
    connection.username = undefined;
    throw new Error(
      `Login incorrect (answered after ${login.waitedMs} ms; each failure from ${address} doubles the wait)`,
    );
  }
  const { user } = login;
  const jail = Jail.openSync(ensureHome(config, user));
  return {
    fs: new JailedFileSystem(connection, jail, { readOnly: false, quotaBytes: config.files.quotaBytes }),
  };
}

/**
 * ftp-srv's constructor makes SIGTERM/SIGINT/SIGQUIT close its server and exit the process. The app
 * runtime owns shutdown (every service closed, run state written), so those handlers are taken back.
 */
function withoutSignalHandlers<T>(make: () => T): T {
  const signals = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const made = make();
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  return made;
}

/**
 * ftp-srv logs through a bunyan logger, every refused command at error level. The transcript
 * already holds each command and reply, so its log stays silent.
 */
const silentLog = {
  child: () => silentLog,
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
};
