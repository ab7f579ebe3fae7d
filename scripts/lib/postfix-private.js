// A private Postfix for `npm run bench -- smtp`: one instance on a loopback port of our choice, with
// its own config, queue and Maildir under a temp dir, run as a foreground child (`postfix start-fg`)
// that `stop()` ends. Nothing of the system's Postfix is read or written: no /etc/postfix/main.cf
// edit (as root, `postfix -c DIR` needs no alternate_config_directories entry), no systemctl.
// It delivers bob@lab.test to DIR/mail/bob/ with the virtual agent (fsync'ed, as Postfix always
// does), the same account and domain as portlab's bench. Needs root (Postfix's master runs as
// root and drops to the postfix user) and Debian's postfix package.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const POSTFIX = '/usr/sbin/postfix';

/** Why a private Postfix cannot run here, or '' when it can. */
export function postfixMissing() {
  if (!existsSync(POSTFIX))
    return 'Postfix is not installed (apt-get install postfix; the bench never installs it)';
  if (process.getuid?.() !== 0)
    return "Postfix's master must start as root: run the bench as root for the Postfix rows";
  return '';
}

/** Starts Postfix on 127.0.0.1:`port`; resolves once it answers, with its Maildir and `stop()`. */
export async function startPrivatePostfix(port) {
  const dir = mkdtempSync(path.join(tmpdir(), 'portlab-postfix-'));
  // Postfix's daemons run as the postfix user and must reach the queue under it.
  chmodSync(dir, 0o755);
  const etc = path.join(dir, 'etc');
  for (const sub of ['etc', 'queue', 'data', 'mail']) mkdirSync(path.join(dir, sub));
  const postfixUser = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim();
  chownSync(path.join(dir, 'data'), Number(postfixUser), -1);
  chownSync(path.join(dir, 'mail'), 65534, 65534);
  // The system's master.cf, with smtpd on our port instead of 25 and no chroot (the queue is not
  // under /var/spool/postfix). Read only.
  const master = readFileSync('/etc/postfix/master.cf', 'utf8')
    .replace(/^smtp( +)inet( +)n( +)-( +)y/m, `127.0.0.1:${port}$1inet$2n$3-$4n`)
    .replace(/^([a-z0-9]+ +(?:unix|unix-dgram|fifo|inet|pass) +[-ny] +[-ny] +)y/gm, '$1n');
  writeFileSync(path.join(etc, 'master.cf'), master);
  writeFileSync(
    path.join(etc, 'main.cf'),
    `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = postfix.bench.test
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = lab.test
virtual_mailbox_base = ${dir}/mail
virtual_mailbox_maps = inline:{ {bob@lab.test = bob/} {alice@lab.test = alice/} }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = none
smtp_tls_security_level = none
maillog_file_prefixes = ${dir}
maillog_file = ${dir}/maillog
biff = no
`,
  );
  const setPermissions = spawnSync(POSTFIX, ['-c', etc, 'set-permissions', 'create-missing'], {
    encoding: 'utf8',
  });
  if (setPermissions.status !== 0) throw new Error(`postfix set-permissions: ${setPermissions.stderr}`);
  const child = spawn(POSTFIX, ['-c', etc, 'start-fg'], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let tries = 0; !(await answers(port)); tries++) {
    if (exited || tries > 100) {
      const log = existsSync(`${dir}/maillog`) ? readFileSync(`${dir}/maillog`, 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Postfix did not start:\n${log.split('\n').slice(-5).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    dir,
    maildir: (user) => path.join(dir, 'mail', user),
    async stop() {
      spawnSync(POSTFIX, ['-c', etc, 'stop'], { stdio: 'ignore' });
      if (!exited) await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function answers(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
