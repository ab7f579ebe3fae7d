#!/usr/bin/env node
/**
 * The `portlab` command. Each subcommand reads the lab config first; a bad config stops here with
 * the key and the reason, and exit code 2.
 */
import { ConfigError, classDnsServer, type LabConfig, loadConfig } from '@portlab/config';
import { askPassword, registerLabCommands } from '@portlab/labs/cli';
import { Command } from 'commander';
import { registerChainCommands } from './chain/index.js';
import { stopOrStart } from './commands/control-commands.js';
import { dnsAdd, dnsList, dnsRemove, type Registration } from './commands/dns.js';
import { ports } from './commands/ports.js';
import { probe } from './commands/probe.js';
import { up } from './commands/up.js';
import { userAdd, userList, userRemove } from './commands/user.js';
import { watch } from './commands/watch.js';
import { registerP2pCommands } from './p2p/index.js';
import { chooseLab, labEnvironment } from './running-labs.js';

/**
 * The class commands, loaded when one runs: `portlab up` is this same program, and the supervisor
 * it becomes idles for the lab's lifetime; their cards, rosters and the mail store would hold about
 * 0.4 MB of its heap (issue #20, idle memory).
 */
const classCommands = () => import('./commands/class.js');

function config(): LabConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`portlab: bad config: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

/** The command line as typed, to show in hints: `npx portlab lab 05`. */
function typed(): string {
  const words = process.argv
    .slice(2)
    .map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`));
  return ['npx portlab', ...words].join(' ');
}

/**
 * `portlab up --host A --public-address B`: the flags stand for PORTLAB_HOST and
 * PORTLAB_PUBLIC_ADDRESS, set in the environment so that every app the supervisor forks reads them
 * too. A bad address is a usage error naming the flag (exit 2), before anything starts.
 */
function upConfig(flags: {
  host?: string;
  publicAddress?: string;
  classDns?: string;
  name?: string;
}): LabConfig {
  const names: [keyof typeof flags, string, string][] = [
    ['host', 'PORTLAB_HOST', '--host'],
    ['publicAddress', 'PORTLAB_PUBLIC_ADDRESS', '--public-address'],
    ['classDns', 'PORTLAB_CLASS_DNS', '--class-dns'],
    ['name', 'PORTLAB_DNS_NAME', '--name'],
  ];
  for (const [key, variable] of names) if (flags[key] !== undefined) process.env[variable] = flags[key];
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const flag = names.find(([key, variable]) => flags[key] !== undefined && err.key === variable);
    console.error(
      flag
        ? `portlab up: ${flag[2]} ${flags[flag[0]]}: ${err.reason}`
        : `portlab: bad config: ${err.message}`,
    );
    process.exit(2);
  }
}

/**
 * `portlab up --class-dns TEACHER[:PORT] --user e07`: what registering this lab in the class zone
 * needs, asked before the lab starts (the password as `portlab check --server` asks it: PORTLAB_PASSWORD,
 * typed, or stdin's first line). None without --class-dns (or config dns.classDns).
 */
async function classDnsRegistration(
  config: LabConfig,
  user: string | undefined,
): Promise<Registration | undefined> {
  let server: ReturnType<typeof classDnsServer>;
  try {
    server = classDnsServer(config);
  } catch (err) {
    console.error(`portlab up: --class-dns: ${(err as Error).message}`);
    process.exit(2);
  }
  if (!server) return undefined;
  if (!user) {
    console.error(
      'portlab up: --class-dns needs the class account this lab registers with: add --user e07 (the account on your card)',
    );
    process.exit(2);
  }
  const password = await askPassword(`password of ${user} at ${server.host}: `);
  return { server, user, password };
}

async function run(action: () => Promise<number> | number): Promise<void> {
  process.exitCode = await action();
}

const program = new Command('portlab')
  .description(
    'Real network servers for hands-on networking labs: one machine, many services, one port each.',
  )
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Environment: PORTLAB_DATA_DIR, PORTLAB_HOST, PORTLAB_PUBLIC_ADDRESS, PORTLAB_PORT_OFFSET, PORTLAB_CONFIG
(see README.md).
Without PORTLAB_DATA_DIR or PORTLAB_CONFIG, a command finding no lab for its data dir uses the one
running elsewhere (started with another data dir), and says so.

Examples:
  npx portlab up                 start every service (what npm start runs)
  npx portlab ports              which service listens on which port
  npx portlab probe --ports 8025,8080
  npx portlab watch smtp         the live SMTP conversation
  npx portlab stop web           stop the web server; the others go on`,
  );

// Every command that reads or steers a running lab finds it first (src/running-labs.ts): a lab
// started with PORTLAB_DATA_DIR in another terminal must not look like no lab at all. `up` starts
// a lab of its own, and `probe` reads nothing of one, nor `check --server` (it asks the class server).
program.hook('preAction', async (_program, action) => {
  if (action.parent === program && ['up', 'probe'].includes(action.name())) return;
  if (action.parent === program && action.name() === 'check' && action.opts().server !== undefined) return;
  const choice = await chooseLab(config(), process.env, typed());
  if (choice.message) console.error(choice.message);
  if (choice.ambiguous) process.exit(2);
  // Through the environment, so that config() below and every portlab command a lab demo runs use it too.
  if (choice.use) Object.assign(process.env, labEnvironment(choice.use));
});

program
  .command('up')
  .description('start every service, each app in its own process; Ctrl-C stops them all')
  .option(
    '--host <address>',
    'the address every service binds: a LAN address, or 0.0.0.0 for all (PORTLAB_HOST)',
  )
  .option(
    '--public-address <address>',
    'the address students type, handed out everywhere (default: the host; with 0.0.0.0 the first LAN IPv4)',
  )
  .option('--allow-demo-passwords', 'listen on a non-loopback address even with the demo passwords')
  .option(
    '--class-dns <host[:port]>',
    "the class DNS (the teacher's lab, port 8053 by default): register this lab there, and find other labs' MX through it",
  )
  .option(
    '--name <label>',
    "this lab's name in the class zone, e.g. pc07 for pc07.lab.test (config dns.name)",
  )
  .option(
    '--user <account>',
    'the class account that registers this lab (password: PORTLAB_PASSWORD, or asked)',
  )
  .addHelpText(
    'after',
    '\nExamples:\n  npx portlab up\n  npx portlab up --host 192.168.1.20\n  npx portlab up --host 0.0.0.0 --public-address 192.168.1.20\n  PORTLAB_HOST=192.168.1.20 npx portlab up\n  npx portlab up --host 0.0.0.0 --class-dns 192.168.1.20 --name pc07 --user e07',
  )
  .action(
    (opts: {
      allowDemoPasswords?: boolean;
      host?: string;
      publicAddress?: string;
      classDns?: string;
      name?: string;
      user?: string;
    }) =>
      run(async () => {
        const config = upConfig(opts);
        const classDns = await classDnsRegistration(config, opts.user);
        return up(config, {
          allowDemoPasswords: Boolean(opts.allowDemoPasswords),
          ...(classDns ? { classDns } : {}),
        });
      }),
  );

program
  .command('ports')
  .description('table of services: protocol, lab port, standard port, listening or not')
  .option('--json', 'print JSON instead of a table')
  .addHelpText('after', '\nExamples:\n  npx portlab ports\n  npx portlab ports --json')
  .action((opts: { json?: boolean }) => run(() => ports(config(), Boolean(opts.json))));

program
  .command('probe')
  .argument('[host]', 'the machine to probe (default: the lab host)')
  .description('connect to each port, read what answers, and name the protocol')
  .option('--ports <list>', 'ports to try, e.g. 21,25,80,8000-8100 (default: the lab ports)')
  .addHelpText('after', '\nExamples:\n  npx portlab probe\n  npx portlab probe 127.0.0.1 --ports 8000-8100')
  .action((host: string | undefined, opts: { ports?: string }) =>
    run(() => probe(config(), host, opts.ports)),
  );

program
  .command('watch')
  .argument('[service...]', 'only these services (default: all)')
  .description('follow the transcripts live: C: what clients say, S: what servers answer')
  .option('--from-start', 'show what the logs already hold first')
  .addHelpText('after', '\nExamples:\n  npx portlab watch\n  npx portlab watch smtp imap')
  .action((services: string[], opts: { fromStart?: boolean }) =>
    run(() => watch(config(), services, Boolean(opts.fromStart))),
  );

for (const verb of ['stop', 'start'] as const) {
  program
    .command(verb)
    .argument('<name>', 'an app (web, mail, files, peer) or one service (http, smtp, ftp, …)')
    .description(`${verb} a service while 'portlab up' runs`)
    .addHelpText('after', `\nExamples:\n  npx portlab ${verb} web\n  npx portlab ${verb} https`)
    .action((name: string) => run(() => stopOrStart(config(), verb, name)));
}

const user = program.command('user').description('manage lab accounts');
user
  .command('add')
  .argument('<name>', 'user name (lower case), e.g. carol')
  .description('add an account, or set a new password; prompts for the password')
  .addHelpText(
    'after',
    '\nExamples:\n  npx portlab user add carol\n  echo s3cret | npx portlab user add carol',
  )
  .action((name: string) => run(() => userAdd(config(), name)));
user
  .command('list')
  .description('every account: name, role (student, teacher, demo) and mail address')
  .addHelpText('after', '\nExamples:\n  npx portlab user list')
  .action(() => run(() => userList(config())));
user
  .command('remove')
  .argument('<name...>', 'the accounts to remove')
  .description('remove accounts (their mail and files stay on disk)')
  .addHelpText('after', '\nExamples:\n  npx portlab user remove carol')
  .action((names: string[]) => run(() => userRemove(config(), names)));

const klass = program
  .command('class')
  .description(
    "a class's accounts: create them with their cards, print the cards again, reset them between classes, export progress",
  );
klass
  .command('create')
  .description(
    'make the student accounts (random passwords), their mailboxes and FTP homes, a teacher account, and the credential cards',
  )
  .option('--students <n>', 'how many numbered accounts: e01, e02, …', (v) => Number(v))
  .option('--from <file>', 'a names file: one name a line, or first name,last name (CSV, , or ;)')
  .option('--replace', 'delete the class that exists (its accounts and data) and make this one')
  .option('--lang <lang>', 'language of the cards: fr or en (default: from LANG)')
  .addHelpText(
    'after',
    '\nExamples:\n  npx portlab class create --students 30\n  npx portlab class create --from names.csv --lang fr\n  npx portlab class create --students 24 --replace',
  )
  .action((opts: { students?: number; from?: string; replace?: boolean; lang?: string }) =>
    run(async () => (await classCommands()).classCreate(config(), opts)),
  );
klass
  .command('cards')
  .description(
    'write the cards again for the address and ports the lab has now, with the same passwords (nothing wiped)',
  )
  .option('--lang <lang>', 'language of the cards: fr or en (default: that of the class)')
  .addHelpText(
    'after',
    '\nExamples:\n  PORTLAB_HOST=192.168.1.20 npx portlab class cards\n  npx portlab class cards --lang en',
  )
  .action((opts: { lang?: string }) => run(async () => (await classCommands()).classCards(config(), opts)));
klass
  .command('reset')
  .description("between two classes: wipe every student's mail and files, keep (or renew) the accounts")
  .option('--renew-passwords', 'give every student a new password, and write new cards')
  .option('--keep-logs', 'leave the transcripts in place (by default they move to $DATA/class/archive/)')
  .option('--lang <lang>', 'language of the new cards: fr or en')
  .addHelpText(
    'after',
    '\nThe lab must be stopped first.\n\nExamples:\n  npx portlab class reset\n  npx portlab class reset --renew-passwords',
  )
  .action((opts: { renewPasswords?: boolean; keepLogs?: boolean; lang?: string }) =>
    run(async () => (await classCommands()).classReset(config(), opts)),
  );
klass
  .command('export')
  .description("each student's progress as CSV: student, lab, item, ok (1 or 0), from the labs' checks")
  .option('--out <file>', 'write to this file (default: standard output)')
  .addHelpText(
    'after',
    '\nExamples:\n  npx portlab class export --out progress.csv\n  npx portlab class export | column -s, -t',
  )
  .action((opts: { out?: string }) => run(async () => (await classCommands()).classExport(config(), opts)));

const dns = program
  .command('dns')
  .description("the class DNS's zone (lab.test): the labs it answers for, an A and an MX record each");
dns
  .command('add')
  .argument('<name>', "the lab's name, one label: pc07 for pc07.lab.test")
  .argument('<address>', "the lab's IPv4 address")
  .description('list a lab in the zone (or move it to a new address), as the teacher')
  .addHelpText(
    'after',
    '\nExamples:\n  npx portlab dns add pc07 192.168.1.57\n  dig @127.0.0.1 -p 8053 MX pc07.lab.test',
  )
  .action((name: string, address: string) => run(() => dnsAdd(config(), name, address)));
dns
  .command('list')
  .description('every lab of the zone: name, address, the account that registered it')
  .option('--json', 'print JSON instead of a table')
  .addHelpText('after', '\nExamples:\n  npx portlab dns list')
  .action((opts: { json?: boolean }) => run(() => dnsList(config(), Boolean(opts.json))));
dns
  .command('remove')
  .argument('<name...>', 'the labs to remove (their account may then register another name)')
  .description('remove labs from the zone')
  .addHelpText('after', '\nExamples:\n  npx portlab dns remove pc07')
  .action((names: string[]) => run(() => dnsRemove(config(), names)));

registerLabCommands(program, config);
registerP2pCommands(program, config);
registerChainCommands(program, config);

await program.parseAsync();
