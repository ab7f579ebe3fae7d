/**
 * `portlab p2p ...`: BitTorrent from the command line, talking to the lab tracker and peers as any
 * client would. `registerP2pCommands` adds the subcommands to the `portlab` program.
 */
import type { LabConfig } from '@portlab/config';
import type { Command } from 'commander';
import type * as Create from './create.js';
import type * as Get from './get.js';
import { hostOption, integerOption, rateOption, userOption } from './options.js';
import { langOf } from './say.js';
import type * as Seed from './seed.js';
import type * as Swarm from './swarm.js';
import type * as Watch from './watch.js';

// Each command's code (and @portlab/bittorrent) loads when that command runs, not when `portlab`
// starts: `portlab up` registers these too and then supervises the lab for hours (issue #20).
const create = async (...a: Parameters<typeof Create.create>) => (await import('./create.js')).create(...a);
const get = async (...a: Parameters<typeof Get.get>) => (await import('./get.js')).get(...a);
const seed = async (...a: Parameters<typeof Seed.seed>) => (await import('./seed.js')).seed(...a);
const swarm = async (...a: Parameters<typeof Swarm.swarm>) => (await import('./swarm.js')).swarm(...a);
const watch = async (...a: Parameters<typeof Watch.watch>) => (await import('./watch.js')).watch(...a);

/** Runs a command; an error becomes one line on stderr and exit code 1, not a stack trace. */
async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (err) {
    console.error(`portlab p2p: ${(err as Error).message}`);
    process.exit(1);
  }
}

export function registerP2pCommands(program: Command, config: () => LabConfig): void {
  const p2p = program
    .command('p2p')
    .description('BitTorrent: make a .torrent, seed a file, download from every peer that has it');

  p2p
    .command('create')
    .argument('<file>', 'the file to share')
    .option('-o, --out <torrent>', 'where to write the .torrent (default: FILE.torrent beside FILE)')
    .option(
      '--web-seed <url>',
      'an HTTP URL serving the same file (BEP 19 url-list); repeat for several',
      (url: string, list: string[]) => [...list, url],
      [] as string[],
    )
    .option('--lang <lang>', 'fr or en (default: from LANG)')
    .description('make a .torrent announcing to the lab tracker')
    .addHelpText(
      'after',
      '\nExamples:\n  npx portlab p2p create photo.png\n  npx portlab p2p create notes.txt -o /tmp/notes.torrent\n  npx portlab p2p create update.tar --web-seed http://127.0.0.1:8080/updates/update.tar',
    )
    .action((file: string, opts: { out?: string; webSeed: string[]; lang?: string }) =>
      run(() => create(config(), file, opts.out, langOf(opts.lang), opts.webSeed)),
    );

  p2p
    .command('seed')
    .argument(
      '<file-or-torrent>',
      'a file (its .torrent is made beside it) or a .torrent whose file lies beside it',
    )
    .option('--rate <rate>', 'upload cap, e.g. 2MB/s (default: none)', rateOption)
    .option(
      '--port <port>',
      'listen on this port (default: the first free one after 6881)',
      integerOption(1, 65535),
    )
    .option(
      '--host <address>',
      'be a machine of this address: listen, announce and dial from it (e.g. 127.0.0.2; default: the lab host)',
      hostOption,
    )
    .option(
      '--user <account>',
      "your lab account, sent to the tracker with each announce: lab 5's check counts this peer for it",
      userOption,
    )
    .option('--lang <lang>', 'fr or en (default: from LANG)')
    .option('--json', 'print one JSON line (address, port, info hash, torrent) once seeding, for a program')
    .description('share a file until Ctrl-C')
    .addHelpText(
      'after',
      '\nExamples:\n  npx portlab p2p seed photo.png --rate 2MB/s\n  npx portlab p2p seed photo.png.torrent --port 6890\n  npx portlab p2p seed photo.png.torrent --host 127.0.0.2',
    )
    .action(
      (
        file: string,
        opts: { rate?: number; port?: number; host?: string; user?: string; lang?: string; json?: boolean },
      ) => run(() => seed(config(), file, { ...opts, lang: langOf(opts.lang) })),
    );

  p2p
    .command('get')
    .argument('<torrent>', 'the .torrent of the file to download')
    .option('--out <dir>', 'where to save the file (default: the current folder)')
    .option('--rate <rate>', 'upload cap while downloading, e.g. 1MB/s (default: none)', rateOption)
    .option(
      '--stall-timeout <seconds>',
      'give up, saying what to check, when no piece arrives for this long (default: 60)',
      integerOption(1, 86_400),
    )
    .option(
      '--host <address>',
      'be a machine of this address: listen, announce and dial from it (e.g. 127.0.0.2; default: the lab host)',
      hostOption,
    )
    .option(
      '--user <account>',
      "your lab account, sent to the tracker with each announce: lab 5's check counts this peer for it",
      userOption,
    )
    .option('--lang <lang>', 'fr or en (default: from LANG)')
    .description('download from every peer that has pieces; show where each piece came from')
    .addHelpText(
      'after',
      '\nExamples:\n  npx portlab p2p get var/p2p/resident/portlab-demo.txt.torrent --out /tmp\n  npx portlab p2p get lab5.bin.torrent --user e07',
    )
    .action(
      (
        torrent: string,
        opts: {
          out?: string;
          rate?: number;
          stallTimeout?: number;
          host?: string;
          user?: string;
          lang?: string;
        },
      ) => run(() => get(config(), torrent, { ...opts, lang: langOf(opts.lang) })),
    );

  p2p
    .command('swarm')
    .argument('<file-or-torrent>', 'the file every peer of the swarm seeds')
    .requiredOption('--peers <n>', 'how many seeding peers', integerOption(1, 50))
    .option('--rate <rate>', 'upload cap of each peer, e.g. 1MB/s (default: none)', rateOption)
    .option('--lang <lang>', 'fr or en (default: from LANG)')
    .description('N seeding peers in one process, each with its own port and upload cap')
    .addHelpText('after', '\nExamples:\n  npx portlab p2p swarm photo.png --peers 4 --rate 1MB/s')
    .action((file: string, opts: { peers: number; rate?: number; lang?: string }) =>
      run(() => swarm(config(), file, { ...opts, lang: langOf(opts.lang) })),
    );

  p2p
    .command('watch')
    .argument('<torrent>', "the .torrent of a swarm of the lab's own tracker")
    .option(
      '--for <seconds>',
      'how long to keep asking the tracker for new peers (default: 20)',
      integerOption(1, 600),
    )
    .option(
      '--peer-timeout <seconds>',
      'how long each peer has to send its piece (default: 10)',
      integerOption(1, 120),
    )
    .option('--host <address>', 'watch from this address of the machine (e.g. 127.0.0.9)', hostOption)
    .option(
      '--user <account>',
      "your lab account, sent to the tracker with each announce: lab 6's check counts this watch for it",
      userOption,
    )
    .option('--lang <lang>', 'fr or en (default: from LANG)')
    .description(
      "what a rights holder's agent sees: take one piece from each peer, check it, record address, port, client, time",
    )
    .addHelpText(
      'after',
      '\nOnly torrents of the lab tracker are watched. The table is saved to $DATA/watch/NAME-TIME.csv and .ndjson.\n\nExamples:\n  npx portlab p2p watch var/p2p/resident/portlab-demo.txt.torrent\n  npx portlab p2p watch lab6.bin.torrent --for 30 --user e07',
    )
    .action(
      (
        torrent: string,
        opts: { for?: number; peerTimeout?: number; host?: string; user?: string; lang?: string },
      ) => run(() => watch(config(), torrent, { ...opts, lang: langOf(opts.lang) })),
    );
}
