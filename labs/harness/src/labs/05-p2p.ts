/**
 * Lab 5 — client-server versus peer-to-peer (BitTorrent, BEP 3). The same file, downloaded (a) by
 * FTP from one server and (b) from several peers, every machine with the same upload cap (see
 * p2p/capped-ftp.ts). Then each design loses a machine mid-download: FTP fails (and resumes with
 * REST once the server is back, RFC 3659 §5); BitTorrent goes on from the other peers.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes, type Metainfo, parseMetainfo } from '@portlab/bittorrent';
import { labConnectAddress, urlHost } from '@portlab/config';
import type { TranscriptEvent } from '@portlab/transcript';
import { checkedUser, checkItem, type Lab, type StepContext } from '../lab.js';
import { announcesOf } from '../p2p/announces.js';
import { cappedDownload } from '../p2p/capped-ftp.js';
import { barChart, seederLabels, sourcesTable } from '../p2p/charts.js';
import { done, downloader } from '../p2p/downloaders.js';
import { ftpRoles, peerRoles } from '../p2p/roles.js';
import { type Seeder, startSeeder } from '../p2p/seeders.js';
import { makeFile, sha1Of } from '../p2p/shared-file.js';
import { linesOf, readTranscript } from '../transcript-file.js';

interface Shared {
  dir: string;
  file: string;
  torrent: string;
  meta: Metainfo;
  sha1: string;
  seeders: Seeder[];
  events: TranscriptEvent[];
  timings: { method: string; sources: number; seconds: number }[];
}

/** A path as short as it can be said: relative when under the current folder. */
const shown = (p: string) => (p.startsWith(process.cwd()) ? path.relative(process.cwd(), p) : p);

const shared = (ctx: StepContext) => ctx.state.get('p2p') as Shared;

export const p2pLab: Lab = {
  id: '05',
  slug: 'p2p',
  title: { fr: 'Client-serveur et pair-à-pair', en: 'Client-server and peer-to-peer' },
  steps: [
    {
      title: { fr: 'Le fichier, le serveur, les pairs', en: 'The file, the server, the peers' },
      intro: {
        fr: "Un même fichier (fabriqué par le projet : libre de partage) est déposé sur le serveur FTP et partagé par des pairs BitTorrent. Chaque machine a la même limite d'envoi.",
        en: 'One file (made by the project: free to share) is put on the FTP server and shared by BitTorrent peers. Every machine has the same upload cap.',
      },
      async run(ctx) {
        const { config, out, options } = ctx;
        const dir = path.join(config.dataDir, 'labs', '05');
        await mkdir(dir, { recursive: true });
        const file = path.join(dir, `lab5-${formatBytes(options.size).replace(' ', '')}.bin`);
        await makeFile(file, options.size);
        await ctx.services.portlab(['p2p', 'create', file, '--lang', ctx.out.lang]);
        const torrent = `${file}.torrent`;
        const meta = parseMetainfo(await readFile(torrent), torrent);
        const s: Shared = {
          dir,
          file,
          torrent,
          meta,
          sha1: await sha1Of(file),
          seeders: [],
          events: [],
          timings: [],
        };
        ctx.state.set('p2p', s);
        // A connection idle for 60 s is dead (basic-ftp's timeout counts silence, not the transfer's length).
        const { Client } = await import('basic-ftp'); // when the step runs (issue #20)
        const client = new Client(60_000);
        try {
          await client.access({
            host: labConnectAddress(config),
            port: config.portOf('ftp'),
            user: 'bob',
            password: 'builder',
          });
          out.command(
            `curl -T ${path.basename(file)} ftp://${urlHost(config.publicAddress)}:${config.portOf('ftp')}/ -u bob:builder`,
          );
          await client.uploadFrom(file, path.basename(file));
        } finally {
          client.close();
        }
        ctx.defer(() => {
          for (const seeder of s.seeders) seeder.child.kill('SIGINT');
        });
        for (let i = 0; i < options.peers; i++) {
          out.command(
            `portlab p2p seed ${shown(torrent)} --rate ${formatBytes(options.rate).replace(' ', '')}/s &`,
          );
          s.seeders.push(await startSeeder(torrent, options.rate));
        }
        out.table(
          ['machine', 'port', ctx.out.t({ fr: "limite d'envoi", en: 'upload cap' })],
          [
            ['FTP server', config.portOf('ftp'), `${formatBytes(options.rate)}/s`],
            ...s.seeders.map((x, i) => [`peer #${i + 1}`, x.port, `${formatBytes(options.rate)}/s`]),
          ],
        );
        s.events.push(...(await ctx.transcript.take()));
      },
    },
    {
      title: {
        fr: '(a) Client-serveur : FTP depuis un seul serveur',
        en: '(a) Client-server: FTP from one server',
      },
      intro: {
        fr: 'Un client, un serveur : tous les octets viennent de la même machine, à la vitesse de son envoi.',
        en: 'One client, one server: every byte comes from the same machine, at the speed of its uplink.',
      },
      async run(ctx) {
        const s = shared(ctx);
        const { config, out, options } = ctx;
        const local = path.join(s.dir, 'ftp-copy.bin');
        out.command(
          `curl -O ftp://${urlHost(config.publicAddress)}:${config.portOf('ftp')}/${path.basename(s.file)} -u bob:builder`,
        );
        const r = await cappedDownload(config, path.basename(s.file), local, { rate: options.rate });
        out.say(
          `FTP: ${formatBytes(r.bytes)} ${out.t({ fr: 'en', en: 'in' })} ${r.seconds.toFixed(1)} s ${out.t({ fr: '(de la commande au dernier octet)', en: '(from the command to the last byte)' })}, 1 source (${config.publicAddress}:${config.portOf('ftp')})`,
        );
        s.timings.push({ method: 'FTP', sources: 1, seconds: r.seconds });
        s.events.push(...(await ctx.transcript.show(out, { linesPerSession: 14 })));
      },
    },
    {
      title: {
        fr: '(b) Pair-à-pair : BitTorrent depuis plusieurs pairs',
        en: '(b) Peer-to-peer: BitTorrent from several peers',
      },
      intro: {
        fr: 'Le fichier arrive en morceaux (pieces), de tous les pairs qui les ont, en même temps. Chaque morceau est vérifié (SHA-1).',
        en: 'The file comes in pieces, from every peer that has them, at the same time. Each piece is checked (SHA-1).',
      },
      async run(ctx) {
        const s = shared(ctx);
        const { config, out, options } = ctx;
        const target = path.join(s.dir, 'you');
        await rm(target, { recursive: true, force: true });
        out.command(`portlab p2p get ${shown(s.torrent)} --out ${shown(target)}`);
        const node = await downloader(config, options.rate);
        const began = performance.now();
        const torrent = await node.add(s.meta, path.join(target, s.meta.name), { create: true });
        await done(torrent);
        const seconds = (performance.now() - began) / 1000;
        await node.close();
        sourcesTable(out, torrent, seederLabels(s.seeders));
        out.say(
          `BitTorrent: ${formatBytes(s.meta.length)} ${out.t({ fr: 'en', en: 'in' })} ${seconds.toFixed(1)} s, ${torrent.sources.size} sources`,
        );
        s.timings.push({ method: 'BitTorrent', sources: torrent.sources.size, seconds });
        s.events.push(...(await ctx.transcript.show(out, { connectionsOnly: true })));
      },
    },
    {
      title: { fr: 'Côte à côte', en: 'Side by side' },
      intro: {
        fr: 'Même fichier, même limite par machine. Avec N sources, le téléchargement va environ N fois plus vite.',
        en: 'Same file, same cap per machine. With N sources the download goes about N times faster.',
      },
      async run(ctx) {
        const s = shared(ctx);
        const { out } = ctx;
        const ftp = s.timings.find((t) => t.method === 'FTP')!;
        const p2p = s.timings.find((t) => t.method === 'BitTorrent')!;
        out.table(
          ['', 'FTP (client-server)', 'BitTorrent (P2P)'],
          [
            [out.t({ fr: 'sources', en: 'sources' }), ftp.sources, p2p.sources],
            [
              out.t({ fr: 'durée', en: 'time' }),
              `${ftp.seconds.toFixed(1)} s`,
              `${p2p.seconds.toFixed(1)} s`,
            ],
            [
              out.t({ fr: 'débit', en: 'rate' }),
              `${formatBytes(s.meta.length / ftp.seconds)}/s`,
              `${formatBytes(s.meta.length / p2p.seconds)}/s`,
            ],
          ],
        );
        for (const line of barChart(s.timings.map((t) => ({ label: t.method, seconds: t.seconds }))))
          out.say(line);
        const factor = ftp.seconds / p2p.seconds;
        out.say(
          `P2P ${out.t({ fr: 'plus rapide :', en: 'faster:' })} ×${factor.toFixed(1)} (${p2p.sources} ${out.t({ fr: 'pairs', en: 'peers' })})`,
          'bold',
        );
        await writeFile(
          path.join(s.dir, 'results.json'),
          JSON.stringify(
            { size: s.meta.length, rate: ctx.options.rate, timings: s.timings, factor },
            null,
            2,
          ),
        );
      },
    },
    {
      title: {
        fr: '(c) Le serveur FTP s’arrête pendant le téléchargement',
        en: '(c) The FTP server stops mid-download',
      },
      intro: {
        fr: "Un seul serveur : s'il tombe, le téléchargement échoue. Quand il revient, REST reprend là où on en était, sans tout recommencer.",
        en: 'A single server: if it goes down, the download fails. When it comes back, REST resumes where we were, without starting again.',
      },
      async run(ctx) {
        const s = shared(ctx);
        const { config, out, options, services } = ctx;
        const local = path.join(s.dir, 'ftp-interrupted.bin');
        let stopping: Promise<unknown> | undefined;
        // The download waits while the server stops: on a busy machine the stop could otherwise come
        // after the last byte, and nothing would fail.
        const onProgress = (bytes: number) => {
          if (!stopping && bytes >= s.meta.length * 0.4) stopping = services.stop('files');
          return stopping;
        };
        let have = 0;
        try {
          await cappedDownload(config, path.basename(s.file), local, { rate: options.rate, onProgress });
        } catch (err) {
          have = (err as Error & { bytes: number }).bytes;
          out.say(
            `${out.t({ fr: 'ÉCHEC', en: 'FAILED' })} ${out.t({ fr: 'après', en: 'after' })} ${formatBytes(have)}: ${(err as Error).message}`,
            'red',
          );
        }
        await stopping;
        await services.start('files');
        out.command(
          `curl -C - -O ftp://${urlHost(config.publicAddress)}:${config.portOf('ftp')}/${path.basename(s.file)} -u bob:builder`,
        );
        await cappedDownload(config, path.basename(s.file), local, { rate: options.rate, start: have });
        const same = (await sha1Of(local)) === s.sha1;
        out.say(
          `REST ${have}: ${out.t({ fr: 'reprise', en: 'resumed' })}; SHA-1 ${same ? out.t({ fr: 'identique', en: 'identical' }) : 'DIFFERENT'}`,
        );
        s.events.push(...(await ctx.transcript.show(out, { linesPerSession: 14 })));
      },
    },
    {
      title: {
        fr: '(d) Un pair disparaît pendant le téléchargement',
        en: '(d) A peer vanishes mid-download',
      },
      intro: {
        fr: "Vous et un camarade téléchargez en même temps. Un pair s'éteint brutalement (kill -9) : les autres prennent le relais.",
        en: 'You and a classmate download at the same time. One peer is switched off abruptly (kill -9): the others take over.',
      },
      async run(ctx) {
        const s = shared(ctx);
        const { config, out, options } = ctx;
        const you = await downloader(config, options.rate);
        const mate = await downloader(config, options.rate);
        for (const who of ['you-2', 'classmate'])
          await rm(path.join(s.dir, who), { recursive: true, force: true });
        const mine = await you.add(s.meta, path.join(s.dir, 'you-2', s.meta.name), { create: true });
        const theirs = await mate.add(s.meta, path.join(s.dir, 'classmate', s.meta.name), { create: true });
        const victim = s.seeders[0]!;
        let killed = false;
        mine.on('piece', () => {
          if (!killed && mine.have.pieces >= mine.have.size * 0.3) {
            killed = true;
            out.command(`kill -9 ${victim.child.pid}   # peer #1 (${config.publicAddress}:${victim.port})`);
            victim.child.kill('SIGKILL');
          }
        });
        mine.on('peer-gone', (address, reason) =>
          out.say(
            out.t({ fr: `pair ${address} parti (${reason})`, en: `peer ${address} gone (${reason})` }),
            'yellow',
          ),
        );
        await Promise.all([done(mine), done(theirs)]);
        await Promise.all([you.close(), mate.close()]);
        const labels = seederLabels(s.seeders).set(mate.port, ctx.out.t({ fr: 'camarade', en: 'classmate' }));
        sourcesTable(out, mine, labels);
        const same = (await sha1Of(path.join(s.dir, 'you-2', s.meta.name))) === s.sha1;
        out.say(
          `${out.t({ fr: 'complet malgré la perte de peer #1', en: 'complete despite losing peer #1' })}; SHA-1 ${same ? out.t({ fr: 'identique', en: 'identical' }) : 'DIFFERENT'}`,
          'bold',
        );
        ctx.state.set('you', `${config.publicAddress}:${you.port}`);
        ctx.state.set('classmate', `${config.publicAddress}:${mate.port}`);
        s.events.push(...(await ctx.transcript.show(out, { connectionsOnly: true })));
      },
    },
    {
      title: { fr: 'Qui écoute, qui se connecte ?', en: 'Who listens, who connects?' },
      intro: {
        fr: "D'après les transcripts : le serveur FTP ne fait qu'écouter (accepter), le client FTP ne fait que se connecter. Un pair fait les deux : il est client ET serveur.",
        en: 'From the transcripts: the FTP server only listens (accepts), the FTP client only connects. A peer does both: it is client AND server.',
      },
      async run(ctx) {
        const s = shared(ctx);
        const { out } = ctx;
        const ftp = ftpRoles(s.events);
        const peers = peerRoles(s.events);
        const name = new Map<string, string>([
          [String(ctx.state.get('you')), out.t({ fr: 'vous', en: 'you' })],
          [String(ctx.state.get('classmate')), out.t({ fr: 'camarade', en: 'classmate' })],
          ...s.seeders.map((x, i): [string, string] => [
            `${ctx.config.publicAddress}:${x.port}`,
            `peer #${i + 1}`,
          ]),
        ]);
        const yes = (n: number) =>
          n > 0 ? `${out.t({ fr: 'oui', en: 'yes' })} (${n})` : out.t({ fr: 'non', en: 'no' });
        out.table(
          [
            'machine',
            out.t({ fr: 'écoute (accepte)', en: 'listens (accepts)' }),
            out.t({ fr: 'se connecte', en: 'connects' }),
          ],
          [
            [
              out.t({ fr: 'serveur FTP', en: 'FTP server' }),
              yes(ftp.server.accepted),
              yes(ftp.server.dialled),
            ],
            [
              out.t({ fr: 'client FTP', en: 'FTP client' }),
              yes(ftp.client.accepted),
              yes(ftp.client.dialled),
            ],
            ...[...peers]
              .filter(([node]) => name.has(node))
              .map(([node, r]) => [`${name.get(node)} ${node}`, yes(r.accepted), yes(r.dialled)]),
          ],
        );
      },
    },
  ],

  async check(config, options) {
    const user = checkedUser(options);
    // BitTorrent happens between the students' PCs; what reaches the server is each peer's announces
    // to the class tracker, sent with `user=` by `portlab p2p get|seed --user NAME`.
    const peers = [...announcesOf(await readTranscript(config, 'tracker'), user).values()];
    const several = peers.some((p) => p.completed && p.handed.size >= 3);
    const both = peers.some((p) => p.downloaded > 0 && p.uploaded > 0);
    // FTP: a REST with a non-zero offset in a session logged in as this account.
    const resumed = linesOf(await readTranscript(config, 'ftp'), user).some(
      (e) => e.dir === 'C' && /^REST [1-9]\d*$/.test(e.line),
    );
    return [
      checkItem(
        'swarm-download',
        several,
        {
          fr: 'un téléchargement BitTorrent terminé, dans un essaim d’au moins 3 pairs',
          en: 'a BitTorrent download completed, in a swarm of at least 3 peers',
        },
        {
          fr: `aucun de vos pairs (--user ${user}) n'a encore terminé un téléchargement où le tracker lui a présenté au moins 3 pairs`,
          en: `none of your peers (--user ${user}) has completed a download where the tracker introduced it to at least 3 peers yet`,
        },
      ),
      checkItem(
        'client-and-server',
        both,
        {
          fr: 'un de vos pairs a à la fois reçu et envoyé des morceaux (client et serveur)',
          en: 'one of your peers both received and sent pieces (client and server)',
        },
        {
          fr: "aucun de vos pairs n'a encore été à la fois client et serveur (reçu et envoyé) : que faut-il lancer en même temps ?",
          en: 'none of your peers has been both client and server (received and sent) yet: what must run at the same time?',
        },
      ),
      checkItem(
        'ftp-resume',
        resumed,
        { fr: 'un téléchargement FTP repris après une coupure', en: 'an FTP download resumed after a cut' },
        {
          fr: `aucun téléchargement FTP n'a encore été repris là où il s'était arrêté (connecté comme ${user})`,
          en: `no FTP download has been resumed where it stopped yet (logged in as ${user})`,
        },
      ),
    ];
  },
};
