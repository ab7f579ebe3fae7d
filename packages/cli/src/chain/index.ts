/**
 * `portlab chain ...`: your blockchain node (the chain app, lab 08), through its JSON API on
 * 127.0.0.1:18443. The node does the work; this prints what it says, in French or English.
 */
import type { HeaderView } from '@portlab/chain';
import { type LabConfig, loopbackApiHost } from '@portlab/config';
import type { Command } from 'commander';
import { type Lang, langOf, say } from '../p2p/say.js';

interface Api {
  get(path: string): Promise<Record<string, unknown>>;
  post(path: string, body?: unknown): Promise<Record<string, unknown>>;
}

function api(config: LabConfig): Api {
  const base = `http://${loopbackApiHost(config)}:${config.portOf('chain-api')}`;
  const call = async (method: string, path: string, body?: unknown) => {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        ...(body !== undefined
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
      });
    } catch {
      throw new Error(`no chain node on ${base} (start the lab: npx portlab up)`);
    }
    const value = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(String(value.error ?? res.status));
    return value;
  };
  return { get: (p) => call('GET', p), post: (p, b) => call('POST', p, b ?? {}) };
}

async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (err) {
    console.error(`portlab chain: ${(err as Error).message}`);
    process.exit(1);
  }
}

type Balance = { confirmed: string; pending: string };

async function wallet(a: Api, lang: Lang, user?: string): Promise<number> {
  if (user !== undefined) {
    // Lab 08: this wallet is your identity on the chain; `portlab check 08 --user NAME` credits it.
    const r = (await a.post('/owner', { user })) as { owner: string };
    console.log(
      say(lang, {
        en: `this node's wallet is bound to the account ${r.owner} (portlab check 08 --user ${r.owner})`,
        fr: `le portefeuille de ce nœud est lié au compte ${r.owner} (portlab check 08 --user ${r.owner})`,
      }),
    );
  }
  const w = (await a.get('/wallet')) as { address: string; balance: Balance };
  console.log(say(lang, { en: `address: ${w.address}`, fr: `adresse : ${w.address}` }));
  console.log(
    say(lang, {
      en: '(P2PKH on regtest: Base58Check of version byte 0x6f + RIPEMD160(SHA256(public key)); the key stays in $DATA/chain/wallet.json)',
      fr: '(P2PKH sur regtest : Base58Check de l’octet de version 0x6f + RIPEMD160(SHA256(clé publique)) ; la clé reste dans $DATA/chain/wallet.json)',
    }),
  );
  return 0;
}

async function balance(a: Api, lang: Lang): Promise<number> {
  const w = (await a.get('/wallet')) as { address: string; balance: Balance };
  console.log(
    say(lang, { en: `${w.balance.confirmed} coins`, fr: `${w.balance.confirmed} pièces` }) +
      (w.balance.pending !== '0'
        ? say(lang, { en: ` (+${w.balance.pending} pending)`, fr: ` (+${w.balance.pending} en attente)` })
        : ''),
  );
  return 0;
}

async function mine(a: Api, lang: Lang, blocks: number): Promise<number> {
  const s0 = (await a.get('/status')) as { zeroBits: number; target: string; height: number };
  console.log(
    say(lang, {
      en: `mining ${blocks} block(s): the hash must start with ${s0.zeroBits} zero bits (target ${s0.target})`,
      fr: `minage de ${blocks} bloc(s) : le hash doit commencer par ${s0.zeroBits} bits à zéro (cible ${s0.target})`,
    }),
  );
  await a.post('/mine', { blocks });
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const s = (await a.get('/status')) as {
      height: number;
      tip: string;
      mining: { running: boolean; found: number; hashes: number; rate: number };
    };
    const line = say(lang, {
      en: `height ${s.height}, found ${s.mining.found}/${blocks}, ${s.mining.hashes} hashes (${s.mining.rate} H/s)`,
      fr: `hauteur ${s.height}, trouvés ${s.mining.found}/${blocks}, ${s.mining.hashes} hashs (${s.mining.rate} H/s)`,
    });
    if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
    if (!s.mining.running) {
      if (process.stdout.isTTY) process.stdout.write('\n');
      else console.log(line);
      console.log(say(lang, { en: `tip ${s.tip}`, fr: `sommet ${s.tip}` }));
      return 0;
    }
  }
}

async function send(a: Api, lang: Lang, address: string, amount: string): Promise<number> {
  const r = (await a.post('/send', { address, amount })) as { txid: string; fee: string };
  console.log(
    say(lang, {
      en: `sent ${amount} to ${address}: transaction ${r.txid} (fee ${r.fee}), in the mempool until a block takes it`,
      fr: `${amount} envoyé à ${address} : transaction ${r.txid} (frais ${r.fee}), dans le mempool jusqu’à ce qu’un bloc la prenne`,
    }),
  );
  return 0;
}

async function show(a: Api, lang: Lang, height?: string): Promise<number> {
  // What the chain app's /block answers: packages/chain explain.ts `headerView`.
  const query = height !== undefined ? `?height=${encodeURIComponent(height)}` : '';
  const b = (await a.get(`/block${query}`)) as unknown as HeaderView;
  console.log(say(lang, { en: `block ${b.height}: ${b.id}`, fr: `bloc ${b.height} : ${b.id}` }));
  console.log(say(lang, { en: 'header (80 bytes):', fr: 'en-tête (80 octets) :' }));
  console.log(`  ${b.hex}`);
  for (const f of b.fields) console.log(`  ${f.name.padEnd(15)} ${f.bytes}\n  ${''.padEnd(15)} = ${f.value}`);
  for (const t of b.txs) console.log(`  tx ${t.id}: ${t.outputs.map((o) => o.value).join(', ')}`);
  console.log(
    say(lang, {
      en: '\nRecompute the hash yourself (double SHA-256 of the header):',
      fr: '\nRecalculez le hash vous-même (double SHA-256 de l’en-tête) :',
    }),
  );
  console.log(`  ${b.command}`);
  console.log(
    say(lang, {
      en: `sha256sum prints the bytes in the order they come out; Bitcoin shows the id byte-reversed (the hash read as a little-endian number), so the ${b.zeroBits} zero bits appear at the start. Reversed:`,
      fr: `sha256sum affiche les octets dans l’ordre où ils sortent ; Bitcoin montre l’identifiant à l’envers (le hash lu comme un nombre little-endian), d’où les ${b.zeroBits} bits à zéro au début. À l’envers :`,
    }),
  );
  console.log(`  ${b.commandId}`);
  return 0;
}

async function verify(a: Api, lang: Lang): Promise<number> {
  const v = (await a.post('/verify')) as {
    ok: boolean;
    height: number;
    checked: number;
    breaks?: { height: number; id: string; reason: string };
  };
  if (v.ok) {
    console.log(
      say(lang, {
        en: `ok: ${v.checked} blocks re-checked from the disk (hashes, targets, links, Merkle roots, signatures)`,
        fr: `ok : ${v.checked} blocs revérifiés depuis le disque (hashs, cibles, liens, racines de Merkle, signatures)`,
      }),
    );
    return 0;
  }
  const b = v.breaks as { height: number; id: string; reason: string };
  // The blocks before the break verify: the genesis alone when block 1 breaks (not "blocks 1-0").
  const good =
    b.height === 1
      ? { en: 'block 0, the genesis, verifies', fr: 'le bloc 0, la genèse, se vérifie' }
      : { en: `blocks 0-${b.height - 1} verify`, fr: `les blocs 0-${b.height - 1} se vérifient` };
  console.log(
    say(lang, {
      en: `BROKEN at block ${b.height} (${b.id}): ${b.reason}\n${good.en}; block ${b.height} and the ${v.height - b.height} after it no longer do`,
      fr: `CASSÉE au bloc ${b.height} (${b.id}) : ${b.reason}\n${good.fr} ; le bloc ${b.height} et les ${v.height - b.height} suivants, non`,
    }),
  );
  return 1;
}

async function tamper(a: Api, lang: Lang, height: string): Promise<number> {
  const r = (await a.post('/tamper', { height: Number(height) })) as {
    id: string;
    before: string;
    after: string;
  };
  console.log(
    say(lang, {
      en: `block ${height} (${r.id}): an output changed from ${r.before} to ${r.after} in YOUR copy. Now: npx portlab chain verify`,
      fr: `bloc ${height} (${r.id}) : une sortie passée de ${r.before} à ${r.after} dans VOTRE copie. Maintenant : npx portlab chain verify`,
    }),
  );
  return 0;
}

async function connectTo(a: Api, lang: Lang, target: string): Promise<number> {
  const i = target.lastIndexOf(':');
  const host = i > 0 ? target.slice(0, i) : target;
  const port = i > 0 ? Number(target.slice(i + 1)) : 18444;
  const r = (await a.post('/connect', { host, port })) as {
    connected: string;
    userAgent: string;
    startHeight: number;
  };
  console.log(
    say(lang, {
      en: `connected to ${r.connected} (${r.userAgent}, height ${r.startHeight}): syncing headers, then blocks`,
      fr: `connecté à ${r.connected} (${r.userAgent}, hauteur ${r.startHeight}) : synchronisation des en-têtes, puis des blocs`,
    }),
  );
  return 0;
}

async function status(a: Api, lang: Lang): Promise<number> {
  const s = (await a.get('/status')) as {
    height: number;
    tip: string;
    zeroBits: number;
    peers: { address: string; userAgent: string }[];
    mempool: unknown[];
    sideBlocks: number;
    reorgs: { at: number; height: number; dropped: string[]; tip: string }[];
  };
  console.log(
    say(lang, {
      en: `height ${s.height}, tip ${s.tip}, difficulty ${s.zeroBits} zero bits, ${s.peers.length} peer(s), ${s.mempool.length} tx in the mempool`,
      fr: `hauteur ${s.height}, sommet ${s.tip}, difficulté ${s.zeroBits} bits à zéro, ${s.peers.length} pair(s), ${s.mempool.length} tx dans le mempool`,
    }),
  );
  for (const p of s.peers) console.log(`  ${p.address} ${p.userAgent}`);
  if (s.sideBlocks > 0 || s.reorgs.length > 0) {
    console.log(
      say(lang, {
        en: `forks: ${s.sideBlocks} block(s) off the best chain; ${s.reorgs.length} reorg(s)`,
        fr: `fourches : ${s.sideBlocks} bloc(s) hors de la meilleure chaîne ; ${s.reorgs.length} réorganisation(s)`,
      }),
    );
    for (const r of s.reorgs) {
      console.log(
        say(lang, {
          en: `  ${new Date(r.at).toLocaleTimeString()}: ${r.dropped.length} block(s) dropped for a heavier branch, tip ${r.tip.slice(0, 16)}… at ${r.height}`,
          fr: `  ${new Date(r.at).toLocaleTimeString()} : ${r.dropped.length} bloc(s) abandonné(s) pour une branche plus lourde, sommet ${r.tip.slice(0, 16)}… à ${r.height}`,
        }),
      );
    }
  }
  return 0;
}

export function registerChainCommands(program: Command, config: () => LabConfig): void {
  const chain = program
    .command('chain')
    .description("your blockchain node (lab 08): Bitcoin's formats on regtest");
  const lang = (o: { lang?: string }) => langOf(o.lang);
  const cmd = (name: string, description: string) =>
    chain.command(name).description(description).option('--lang <lang>', 'fr or en (default: from LANG)');
  cmd('status', 'height, tip, difficulty, peers, mempool').action((o) =>
    run(() => status(api(config()), lang(o))),
  );
  cmd('wallet', 'your key’s address')
    .option(
      '--user <name>',
      'lab 08: bind this wallet to your lab account, once (what portlab check 08 credits)',
    )
    .action((o: { user?: string; lang?: string }) => run(() => wallet(api(config()), lang(o), o.user)));
  cmd('balance', 'your coins').action((o) => run(() => balance(api(config()), lang(o))));
  cmd('mine', 'mine blocks (proof of work, in a worker thread of your node)')
    .option('--blocks <n>', 'how many blocks (default 1)', '1')
    .action((o: { blocks: string; lang?: string }) =>
      run(() => mine(api(config()), lang(o), Number(o.blocks))),
    );
  cmd('send', 'send coins to an address')
    .argument('<address>', "a classmate's address (portlab chain wallet)")
    .argument('<amount>', 'coins, e.g. 1.5')
    .action((address: string, amount: string, o) => run(() => send(api(config()), lang(o), address, amount)));
  cmd('show', 'a block header, byte by byte, and how to recompute its hash')
    .argument('[height]', 'default: the tip')
    .action((height: string | undefined, o) => run(() => show(api(config()), lang(o), height)));
  cmd('verify', 're-check the whole chain as stored on disk').action((o) =>
    run(() => verify(api(config()), lang(o))),
  );
  cmd('tamper', 'change an amount in YOUR stored copy of a block (the exercise)')
    .argument('<height>')
    .action((height: string, o) => run(() => tamper(api(config()), lang(o), height)));
  cmd('connect', "connect to a classmate's node")
    .argument('<host:port>', 'e.g. 192.168.1.23:18444')
    .action((target: string, o) => run(() => connectTo(api(config()), lang(o), target)));
}
