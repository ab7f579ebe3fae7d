// A private Dovecot for benchmarks: runs /usr/sbin/dovecot in the foreground (-F) as a child process,
// with its own config, run dir, log and Maildirs in a temp dir, IMAP on a free loopback port, users in
// a passwd-file. It never reads /etc/dovecot nor touches the system's own service, and never installs
// anything: when Dovecot is absent, dovecotMissing() says how to install it and the bench skips the row.
import { execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const DOVECOT = '/usr/sbin/dovecot';
const DOVEADM = '/usr/bin/doveadm';

/** null when Dovecot is installed, else the line that installs it (never run here). */
export function dovecotMissing() {
  return existsSync(DOVECOT) ? null : 'Dovecot is not installed: sudo apt-get install dovecot-imapd';
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Dovecot refuses mail access as uid 0, and its login processes need an unprivileged user. */
function accounts() {
  const me = userInfo();
  if (me.uid !== 0) return { internal: me.username, login: me.username, uid: me.uid, gid: me.gid };
  const id = (name, flag) => Number(execFileSync('id', [flag, name]).toString().trim());
  return { internal: 'dovecot', login: 'dovenull', uid: id('dovecot', '-u'), gid: id('dovecot', '-g') };
}

function chownTree(path, uid, gid) {
  chownSync(path, uid, gid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

/**
 * Starts a private Dovecot. Options: users [{name, password}], hash (a `doveadm pw` scheme, PLAIN by default).
 * Returns { host, port, dir, maildir(user), deliver(user, buffer), stop() }.
 */
export async function startDovecot({ users = [{ name: 'bob', password: 'builder' }], hash = 'PLAIN' } = {}) {
  const why = dovecotMissing();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'portlab-dovecot-'));
  const port = await freePort();
  const who = accounts();
  const lines = users.map(({ name, password }) => {
    const secret =
      hash === 'PLAIN'
        ? `{PLAIN}${password}`
        : execFileSync(DOVEADM, ['-c', '/dev/null', 'pw', '-s', hash, '-p', password]).toString().trim();
    return `${name}:${secret}::::::`;
  });
  writeFileSync(join(dir, 'passwd'), `${lines.join('\n')}\n`);
  for (const { name } of users)
    for (const sub of ['cur', 'new', 'tmp'])
      mkdirSync(join(dir, 'home', name, 'Maildir', sub), { recursive: true });
  writeFileSync(
    join(dir, 'dovecot.conf'),
    `# a private Dovecot for a benchmark (scripts/bench-lib/dovecot.js)
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = ${who.internal}
default_login_user = ${who.login}
first_valid_uid = ${who.uid}
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${who.uid} gid=${who.gid} home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  chownTree(join(dir, 'home'), who.uid, who.gid);
  writeFileSync(join(dir, 'dovecot.log'), '');
  chownSync(join(dir, 'passwd'), who.uid, who.gid);
  // The login and auth processes run as unprivileged users: they must be able to walk into the dir.
  execFileSync('chmod', ['0755', dir]);

  const child = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  // Ready when the greeting arrives.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`dovecot exited: ${stderr}`);
    const ok = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('data', (chunk) => {
        socket.destroy();
        resolve(chunk.toString().startsWith('* OK'));
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`dovecot did not answer on ${port}: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  let delivered = 0;
  const maildir = (user) => join(dir, 'home', user, 'Maildir');
  return {
    host: '127.0.0.1',
    port,
    dir,
    maildir,
    /** One message into Maildir/new, named as an LDA would (RFC-less Maildir convention, S= gives the size). */
    deliver(user, buffer) {
      const name = `${Math.floor(Date.now() / 1000)}.P${process.pid}Q${++delivered}.bench,S=${buffer.length}`;
      const path = join(maildir(user), 'new', name);
      writeFileSync(path, buffer);
      if (who.uid !== userInfo().uid) chownSync(path, who.uid, who.gid);
    },
    async stop() {
      process.removeListener('exit', kill);
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
