/**
 * Lab 6 — the uses of peer-to-peer. (1) A software update delivered the way companies do it: a
 * web server (BEP 19 web seed) and the peers that already have it. (2) Who can see you in a swarm:
 * three peers on three addresses (127.0.0.2-4), and a watcher, the rights holders' agent, that takes
 * one piece from each and records address, port, client, piece and time. The discussion (legal and
 * illegal uses, licences, ARCOM's graduated response, why the IP address is the key) is in the sheets.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Metainfo, parseMetainfo } from '@portlab/bittorrent';
import { canBind, type LabConfig, labConnectAddress, urlHost } from '@portlab/config';
import { checkedUser, checkItem, type Lab } from '../lab.js';
import { announceFields } from '../p2p/announces.js';
import { startSeeder } from '../p2p/seeders.js';
import { makeFile } from '../p2p/shared-file.js';
import { readTranscript } from '../transcript-file.js';

/** Where the resident peer publishes the demo update and its torrent (issue 15 §1, apps/web). */
export const UPDATE_TORRENT_PATH = '/updates/portlab-update-1.0.torrent';

/** The addresses of lab 6's three peers: one machine each, on the loopback network. */
const PEER_HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

/** The watcher's peer_id prefix (packages/bittorrent watch/watcher.ts), as the tracker's transcript writes it. */
const WATCHER_TAG = '-PW';

/** A path as short as it can be said: relative when under the current folder. */
const shown = (p: string) => (p.startsWith(process.cwd()) ? path.relative(process.cwd(), p) : p);

/** The update's torrent as the lab's web server publishes it, or why it cannot be had. */
export async function updateTorrent(
  config: LabConfig,
): Promise<{ meta: Metainfo; bytes: Buffer } | { error: string }> {
  const url = `http://${urlHost(labConnectAddress(config))}:${config.portOf('http')}${UPDATE_TORRENT_PATH}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return { error: `${url}: HTTP ${res.status}` };
    const bytes = Buffer.from(await res.arrayBuffer());
    return { meta: parseMetainfo(bytes, url), bytes };
  } catch (err) {
    return { error: `${url}: ${(err as Error).message}` };
  }
}

export const usesLab: Lab = {
  id: '06',
  slug: 'uses',
  title: { fr: 'Les usages du pair-à-pair', en: 'The uses of peer-to-peer' },
  steps: [
    {
      title: {
        fr: 'Une mise à jour logicielle : le serveur web et les pairs',
        en: 'A software update: the web server and the peers',
      },
      intro: {
        fr: 'Le lab publie une mise à jour (libre, fabriquée par le projet) sur son serveur web, avec un .torrent qui nomme ce serveur comme source web (BEP 19). Le téléchargement prend des morceaux au serveur web et aux pairs : combien vient de chacun ?',
        en: 'The lab publishes an update (free, made by the project) on its web server, with a .torrent naming that server as a web seed (BEP 19). The download takes pieces from the web server and from the peers: how much comes from each?',
      },
      async run(ctx) {
        const { config, out } = ctx;
        const dir = path.join(config.dataDir, 'labs', '06');
        await mkdir(dir, { recursive: true });
        const shownUrl = `http://${urlHost(config.publicAddress)}:${config.portOf('http')}${UPDATE_TORRENT_PATH}`;
        out.command(`curl -O ${shownUrl}`);
        const update = await updateTorrent(config);
        if ('error' in update) {
          out.say(
            out.t({
              fr: `le serveur web ne publie pas de mise à jour (${update.error}) : cette étape attend la source web du lab`,
              en: `the web server publishes no update (${update.error}): this step needs the lab's web seed`,
            }),
            'yellow',
          );
          return;
        }
        const torrent = path.join(dir, path.basename(UPDATE_TORRENT_PATH));
        await writeFile(torrent, update.bytes);
        // Downloaded afresh each time: a copy left by the last demo would be complete at once.
        const target = path.join(dir, 'update');
        await rm(target, { recursive: true, force: true });
        await ctx.services.portlab([
          'p2p',
          'get',
          shown(torrent),
          '--out',
          shown(target),
          '--lang',
          out.lang,
        ]);
      },
    },
    {
      title: { fr: 'Trois pairs, trois adresses', en: 'Three peers, three addresses' },
      intro: {
        fr: 'Trois pairs partagent un fichier fabriqué par le projet. Chacun est une machine à sa propre adresse (--host 127.0.0.2, .3, .4) : le tracker les connaît chacun à son adresse et les présente à qui télécharge, 6 octets par pair (BEP 23).',
        en: 'Three peers share a file made by the project. Each is a machine at its own address (--host 127.0.0.2, .3, .4): the tracker knows each at its own address and introduces them to whoever downloads, 6 bytes per peer (BEP 23).',
      },
      async run(ctx) {
        const { config, out, options } = ctx;
        const dir = path.join(config.dataDir, 'labs', '06');
        await mkdir(dir, { recursive: true });
        const file = path.join(dir, 'lab6-4MB.bin');
        await makeFile(file, 4_000_000);
        await ctx.services.portlab(['p2p', 'create', shown(file), '--lang', out.lang]);
        const torrent = `${file}.torrent`;
        ctx.state.set('torrent', torrent);
        // macOS has only 127.0.0.1 on its loopback: there, the peers differ by their port alone.
        const distinct = await canBind(PEER_HOSTS[0]!);
        if (!distinct)
          out.say(
            out.t({
              fr: `${PEER_HOSTS[0]} n'est pas une adresse de cette machine : les trois pairs partagent l'adresse du lab`,
              en: `${PEER_HOSTS[0]} is not an address of this machine: the three peers share the lab's address`,
            }),
            'yellow',
          );
        const seeders = [];
        for (const host of PEER_HOSTS) {
          const more = distinct ? ['--host', host] : [];
          out.command(`portlab p2p seed ${shown(torrent)} ${more.join(' ')} &`.replace('  ', ' '));
          const seeder = await startSeeder(torrent, options.rate, more);
          ctx.defer(() => void seeder.child.kill('SIGINT'));
          seeders.push([distinct ? host : config.publicAddress, seeder.port]);
        }
        out.table([out.t({ fr: 'adresse IP', en: 'IP address' }), 'port'], seeders);
      },
    },
    {
      title: { fr: "Ce que voit l'observateur", en: 'What the watcher sees' },
      intro: {
        fr: "Un observateur (l'agent des ayants droit) rejoint l'essaim comme n'importe quel pair, prend un morceau à chacun, vérifie son SHA-1 et note l'adresse IP, le port, le logiciel, le morceau et l'heure.",
        en: "A watcher (the rights holders' agent) joins the swarm as any peer does, takes one piece from each, checks its SHA-1 and records the IP address, the port, the client, the piece and the time.",
      },
      async run(ctx) {
        const torrent = ctx.state.get('torrent') as string;
        await ctx.services.portlab(['p2p', 'watch', shown(torrent), '--for', '3', '--lang', ctx.out.lang]);
      },
    },
    {
      title: { fr: "Pourquoi l'adresse IP ?", en: 'Why the IP address?' },
      intro: {
        fr: "L'adresse IP et l'heure suffisent : le fournisseur d'accès sait à quel abonnement il avait donné cette adresse à ce moment-là.",
        en: 'The IP address and the time are enough: the Internet provider knows which subscription it had given that address at that moment.',
      },
      async run(ctx) {
        const { out } = ctx;
        for (const line of [
          {
            fr: "- Pour échanger des morceaux, chaque pair doit connaître l'adresse des autres : le tracker la donne à tout pair qui télécharge.",
            en: '- To exchange pieces, every peer must know the others’ addresses: the tracker hands them to every peer that downloads.',
          },
          {
            fr: '- Un morceau vérifié prouve que cette adresse partageait bien ce fichier, à cette heure-là.',
            en: '- A verified piece shows that this address really shared this file, at that time.',
          },
          {
            fr: "- L'adresse et l'heure mènent à un abonnement (celui de la box), pas à une personne : c'est le titulaire de l'abonnement qui est averti.",
            en: '- The address and the time lead to a subscription (the home router’s), not to a person: the subscriber is the one warned.',
          },
        ])
          out.say(out.t(line));
      },
    },
  ],

  async check(config, options) {
    const user = checkedUser(options);
    // What reaches the server: the announces of the account's peers (`--user`), in the tracker's transcript.
    const announces = (await readTranscript(config, 'tracker'))
      .filter((e) => e.type === 'line' && e.dir === 'C')
      .map((e) => announceFields((e as { line: string }).line))
      .filter((f): f is Map<string, string> => f?.get('user') === user);
    const watched = announces.some((f) => f.get('peer_id')?.startsWith(WATCHER_TAG));
    const update = await updateTorrent(config);
    const updateHash = 'meta' in update ? update.meta.infoHash.toString('hex') : undefined;
    const updated = announces.some(
      (f) =>
        f.get('info_hash') === updateHash &&
        !f.get('peer_id')?.startsWith(WATCHER_TAG) &&
        (f.get('event') === 'completed' || (f.get('left') === '0' && Number(f.get('downloaded')) > 0)),
    );
    return [
      checkItem(
        'update',
        updated,
        {
          fr: 'la mise à jour téléchargée (serveur web et pairs)',
          en: 'the update downloaded (web server and peers)',
        },
        'error' in update
          ? {
              fr: `le serveur du lab ne publie pas la mise à jour (${update.error}) : prévenez l'enseignant`,
              en: `the lab's server publishes no update (${update.error}): tell the teacher`,
            }
          : {
              fr: `aucun de vos pairs (--user ${user}) n'a encore terminé le téléchargement de la mise à jour`,
              en: `none of your peers (--user ${user}) has completed the update's download yet`,
            },
      ),
      checkItem(
        'watch',
        watched,
        { fr: 'un essaim observé avec p2p watch', en: 'a swarm watched with p2p watch' },
        {
          fr: `vous n'avez pas encore observé d'essaim (p2p watch … --user ${user})`,
          en: `you have not watched a swarm yet (p2p watch … --user ${user})`,
        },
      ),
    ];
  },
};
