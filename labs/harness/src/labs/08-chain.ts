/**
 * Lab 8 — the blockchain: proofs replicated among the students' nodes, which anyone can verify. The
 * demo runs three real nodes of its own (@portlab/chain: Bitcoin's formats on regtest, P2P over TCP,
 * mining in a worker thread), one per address (127.0.0.2-4), each with its own data dir under
 * $DATA/labs/08/: it mines, pays a neighbour, shows a header and the shell recomputing its hash,
 * tampers with one copy and shows the others refuse it, then makes a fork and shows the most-work
 * rule resolving it. The demo's nodes form a network apart from the class's (own difficulty, never
 * connected to the lab's node), so the demo never touches a student's wallet or chain.
 *
 * The check (`portlab check 08 --user NAME`) asks the student's own node, where the work is: its
 * loopback API (apps/chain, GET /exercise, at loopbackApiHost). A student's identity on the chain is
 * their node's wallet; `portlab chain wallet --user NAME` binds it to their account once, and only
 * that account is credited.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Chain, ChainNode, Mining, Wallet } from '@portlab/chain';
import { canBind, type LabConfig, loopbackApiHost } from '@portlab/config';
import type { Session } from '@portlab/transcript';
import { checkedUser, checkItem, type Lab, type StepContext } from '../lab.js';

/** The demo's three machines, one address each (macOS: all on 127.0.0.1, different ports). */
const NODE_HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
/** The demo's own difficulty: a block in a fraction of a second, so a class watches it live. */
const DEMO_ZERO_BITS = 12;
const NAMES = ['A', 'B', 'C'];
/** @portlab/chain, loaded when the demo runs: the check and an idle process never need it (issue #20). */
const chainLib = () => import('@portlab/chain');

interface DemoNode {
  name: string;
  host: string;
  chain: Chain;
  node: ChainNode;
  wallet: Wallet;
  mining: Mining;
}

/** What the nodes said on the wire, as `C: inv block 0000ab…` lines (shown after each step). */
type Wire = string[];

/**
 * A connection's lines, kept for the step's output: `A→B C: version …` is what A, which dialled,
 * said; `A→B S: …` what B answered. Peer calls only client(), server() and close() on its session.
 */
function wireSession(wire: Wire, link: () => string): Session {
  return {
    client: (line: string) => wire.push(`${link()} C: ${line}`),
    server: (line: string) => wire.push(`${link()} S: ${line}`),
    close: () => undefined,
  } as unknown as Session;
}

async function startNodes(ctx: StepContext): Promise<DemoNode[]> {
  const { Chain, ChainNode, labParams, loadOrCreateWallet, Mining } = await chainLib();
  const root = path.join(ctx.config.dataDir, 'labs', '08');
  await rm(root, { recursive: true, force: true });
  const distinct = await canBind(NODE_HOSTS[0] as string);
  const wire: Wire = [];
  ctx.state.set('wire', wire);
  const nodes: DemoNode[] = [];
  for (const [i, name] of NAMES.entries()) {
    const host = distinct ? (NODE_HOSTS[i] as string) : '127.0.0.1';
    const dir = path.join(root, `node-${name}`);
    const chain = Chain.open(path.join(dir, 'blocks'), labParams(DEMO_ZERO_BITS));
    const wallet = loadOrCreateWallet(dir);
    const node = new ChainNode({
      chain,
      host,
      // Recorded once, on the side that dialled: it knows whom (the port it dialled).
      sessionOf: (socket, outgoing) =>
        outgoing
          ? wireSession(wire, () => {
              const to = nodes.find((n) => n.node.port === socket.remotePort)?.name ?? 'D';
              return `${name}→${to}`;
            })
          : undefined,
    });
    await node.listen(0, host);
    const mining = new Mining(chain, () => wallet.script);
    nodes.push({ name, host, chain, node, wallet, mining });
    ctx.defer(async () => {
      mining.stop();
      await node.close();
      chain.close();
    });
  }
  ctx.state.set('nodes', nodes);
  return nodes;
}

const nodesOf = (ctx: StepContext) => ctx.state.get('nodes') as DemoNode[];

/** Prints the wire lines since the last call (the first `max`, then how many more). */
function showWire(ctx: StepContext, max = 14): void {
  const wire = ctx.state.get('wire') as Wire;
  const lines = wire.splice(0);
  for (const line of lines.slice(0, max)) ctx.out.say(`  ${line}`, 'dim');
  if (lines.length > max)
    ctx.out.say(
      ctx.out.t({ fr: `  … et ${lines.length - max} de plus`, en: `  … and ${lines.length - max} more` }),
    );
}

/** Waits until `test` holds (a block reaching a node takes milliseconds on loopback). */
async function until(test: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tips(ctx: StepContext, nodes: DemoNode[]): void {
  ctx.out.table(
    [
      ctx.out.t({ fr: 'nœud', en: 'node' }),
      ctx.out.t({ fr: 'hauteur', en: 'height' }),
      ctx.out.t({ fr: 'sommet', en: 'tip' }),
    ],
    nodes.map((n) => [
      `${n.name} ${n.host}:${n.node.port}`,
      String(n.chain.height),
      `${n.chain.tip.id.slice(0, 24)}…`,
    ]),
  );
}

const run = (cmd: string): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile('bash', ['-c', cmd], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );

async function mineOn(n: DemoNode, blocks: number): Promise<void> {
  await n.mining.start(blocks);
}

export const chainLab: Lab = {
  id: '08',
  slug: 'chain',
  title: {
    fr: 'La blockchain : des preuves répliquées, vérifiables par chacun',
    en: 'The blockchain: replicated proofs, verifiable by anyone',
  },
  steps: [
    {
      title: { fr: 'Trois nœuds, sans serveur', en: 'Three nodes, no server' },
      intro: {
        fr: `Trois nœuds, chacun une machine à sa propre adresse (127.0.0.2, .3, .4) et son propre dossier de données. Ils se parlent en pair-à-pair avec le protocole de Bitcoin (regtest) : version/verack, puis getheaders. La difficulté de la démo est basse (${DEMO_ZERO_BITS} bits à zéro) pour qu'un bloc vienne en une fraction de seconde.`,
        en: `Three nodes, each a machine at its own address (127.0.0.2, .3, .4) with its own data dir. They talk peer to peer with Bitcoin's protocol (regtest): version/verack, then getheaders. The demo's difficulty is low (${DEMO_ZERO_BITS} zero bits) so a block comes in a fraction of a second.`,
      },
      async run(ctx) {
        const [a, b, c] = (await startNodes(ctx)) as [DemoNode, DemoNode, DemoNode];
        ctx.out.command(`portlab chain connect ${b.host}:${b.node.port}   # A → B`);
        await a.node.connect(b.host, b.node.port);
        ctx.out.command(`portlab chain connect ${c.host}:${c.node.port}   # B → C`);
        await b.node.connect(c.host, c.node.port);
        await new Promise((r) => setTimeout(r, 100));
        showWire(ctx);
        tips(ctx, [a, b, c]);
      },
    },
    {
      title: { fr: 'Miner, puis payer un voisin', en: 'Mine, then pay a neighbour' },
      intro: {
        fr: "A mine deux blocs : il essaie des nonces jusqu'à ce que le hash de l'en-tête passe sous la cible, et chaque bloc lui rapporte 50 pièces. Il en envoie 1,5 à B : une transaction signée (ECDSA, secp256k1), relayée à tous, puis prise dans le bloc suivant.",
        en: 'A mines two blocks: it tries nonces until the header hash is under the target, and each block pays it 50 coins. It sends 1.5 to B: a signed transaction (ECDSA, secp256k1), relayed to all, then taken into the next block.',
      },
      async run(ctx) {
        const [a, b, c] = nodesOf(ctx) as [DemoNode, DemoNode, DemoNode];
        ctx.out.command('portlab chain mine --blocks 2   # A');
        await mineOn(a, 2);
        await until(() => c.chain.height === 2, 'the blocks to reach C');
        showWire(ctx, 10);
        ctx.out.command(`portlab chain send ${b.wallet.address} 1.5   # A`);
        const { COIN, DEFAULT_FEE, paymentTx, scriptForAddress } = await chainLib();
        const tx = paymentTx(
          a.wallet,
          a.chain.coinsOf(a.wallet.script),
          scriptForAddress(b.wallet.address),
          (3n * COIN) / 2n,
          DEFAULT_FEE,
        );
        a.chain.acceptTx(tx);
        a.node.broadcastTx(tx);
        ctx.out.say(`  tx ${tx.getId()}`);
        await until(() => c.chain.mempool.txs.has(tx.getId()), 'the transaction to reach C');
        ctx.out.command('portlab chain mine   # A');
        await mineOn(a, 1);
        await until(() => b.chain.height === 3, 'block 3 to reach B');
        const coins = b.chain.coinsOf(b.wallet.script).reduce((s, x) => s + x.value, 0n);
        ctx.out.say(
          ctx.out.t({
            fr: `B a maintenant ${String(Number(coins) / 1e8).replace('.', ',')} pièces, sur les trois copies de la chaîne`,
            en: `B now has ${Number(coins) / 1e8} coins, on all three copies of the chain`,
          }),
          'green',
        );
        ctx.state.set('payment', tx.getId());
        tips(ctx, [a, b, c]);
      },
    },
    {
      title: { fr: 'Vérifier un bloc à la main', en: 'Verify a block by hand' },
      intro: {
        fr: "L'en-tête fait 80 octets ; son identifiant est le double SHA-256 de ces octets. Le shell le recalcule : il n'y a rien à croire sur parole.",
        en: 'The header is 80 bytes; its id is the double SHA-256 of those bytes. The shell recomputes it: nothing to take on trust.',
      },
      async run(ctx) {
        const [, b] = nodesOf(ctx) as [DemoNode, DemoNode];
        const entry = b.chain.best[2];
        if (!entry) throw new Error('no block 2');
        const { headerView } = await chainLib();
        const view = headerView(entry);
        ctx.out.command('portlab chain show 2   # B');
        ctx.out.say(ctx.out.t({ fr: `  bloc 2 : ${view.id}`, en: `  block 2: ${view.id}` }));
        ctx.out.say(`  ${view.hex}`);
        for (const f of view.fields) ctx.out.say(`  ${f.name.padEnd(15)} ${f.value}`);
        ctx.out.command(view.commandId);
        let again: string;
        try {
          again = await run(view.commandId);
        } catch (err) {
          // xxd is its own Debian package (apt-get install xxd); without it the shell cannot say.
          ctx.out.say(
            ctx.out.t({
              fr: `le shell n'a pas pu le recalculer (${(err as Error).message.split('\n')[0]}) : il faut bash, xxd et sha256sum`,
              en: `the shell could not recompute it (${(err as Error).message.split('\n')[0]}): it takes bash, xxd and sha256sum`,
            }),
            'yellow',
          );
          return;
        }
        ctx.out.say(again);
        ctx.out.say(
          again === view.id
            ? ctx.out.t({ fr: '✔ le même identifiant', en: '✔ the same id' })
            : ctx.out.t({ fr: '✘ un autre identifiant ?', en: '✘ another id?' }),
          again === view.id ? 'green' : 'red',
        );
      },
    },
    {
      title: { fr: 'Falsifier sa copie', en: 'Tamper with your copy' },
      intro: {
        fr: "C change un montant du bloc 2 dans SA copie. L'en-tête ne change pas, mais la racine de Merkle ne correspond plus aux transactions : C le voit lui-même, et un nouveau nœud qui télécharge la chaîne chez C refuse ce bloc et coupe C.",
        en: 'C changes an amount of block 2 in ITS copy. The header is unchanged, but the Merkle root no longer matches the transactions: C sees it itself, and a new node downloading the chain from C refuses that block and drops C.',
      },
      async run(ctx) {
        const [a, , c] = nodesOf(ctx) as [DemoNode, DemoNode, DemoNode];
        ctx.out.command('portlab chain tamper 2   # C');
        const t = c.chain.tamper(2);
        const coins = (units: bigint) =>
          ctx.out.t({ fr: String(Number(units) / 1e8).replace('.', ','), en: String(Number(units) / 1e8) });
        ctx.out.say(
          ctx.out.t({
            fr: `  bloc 2 (${t.id.slice(0, 24)}…) : ${coins(t.before)} → ${coins(t.after)}`,
            en: `  block 2 (${t.id.slice(0, 24)}…): ${coins(t.before)} → ${coins(t.after)}`,
          }),
        );
        ctx.out.command('portlab chain verify   # C');
        const v = c.chain.verify();
        ctx.out.say(
          ctx.out.t({
            fr: `  CASSÉE au bloc ${v.breaks?.height} : ${v.breaks?.reason}`,
            en: `  BROKEN at block ${v.breaks?.height}: ${v.breaks?.reason}`,
          }),
          'red',
        );
        // A newcomer, D, that never saw the chain, downloads it from C only.
        const { Chain, ChainNode, labParams } = await chainLib();
        const d = new ChainNode({ chain: new Chain(labParams(DEMO_ZERO_BITS)), host: c.host });
        await d.listen(0, c.host);
        ctx.defer(() => d.close());
        ctx.out.command(`portlab chain connect ${c.host}:${c.node.port}   # D, a newcomer`);
        await d.connect(c.host, c.node.port).catch(() => undefined);
        await until(() => d.disconnected.length > 0, 'D to drop C');
        ctx.out.say(`  D: ${d.disconnected[0]?.reason}`, 'red');
        ctx.out.say(
          ctx.out.t({
            fr: `D garde la hauteur ${d.chain.height} ; A, qui a le vrai bloc 2, est toujours à ${a.chain.height} : la falsification n'a changé que la copie de C`,
            en: `D keeps height ${d.chain.height}; A, which has the real block 2, is still at ${a.chain.height}: tampering changed C's copy only`,
          }),
        );
      },
    },
    {
      title: { fr: 'Une fourche, et la chaîne la plus lourde', en: 'A fork, and the heaviest chain' },
      intro: {
        fr: "A et B se déconnectent et minent chacun de leur côté : deux chaînes différentes au-dessus du même bloc. Reconnectés, ils gardent tous deux celle qui a le plus de travail (ici la plus longue) : les blocs de l'autre branche sont abandonnés, leurs transactions reviennent au mempool.",
        en: "A and B disconnect and each mine apart: two different chains above the same block. Connected again, both keep the one with the most work (here the longest): the other branch's blocks are dropped, their transactions go back to the mempool.",
      },
      async run(ctx) {
        const [a, b, c] = nodesOf(ctx) as [DemoNode, DemoNode, DemoNode];
        // C's copy is broken: it leaves the demo's network.
        for (const p of [...c.node.peers]) p.close('demo: C leaves');
        for (const p of [...a.node.peers]) p.close('demo: A and B apart');
        await until(() => a.node.peers.size === 0 && b.node.peers.size === 0, 'A and B to part');
        const base = a.chain.height;
        ctx.out.command('portlab chain mine --blocks 1   # A, alone');
        ctx.out.command('portlab chain mine --blocks 2   # B, alone');
        await Promise.all([mineOn(a, 1), mineOn(b, 2)]);
        (ctx.state.get('wire') as Wire).splice(0);
        ctx.out.table(
          [
            ctx.out.t({ fr: 'nœud', en: 'node' }),
            ctx.out.t({ fr: 'blocs au-dessus de', en: 'blocks above' }) + ` ${base}`,
          ],
          [a, b].map((n) => [
            n.name,
            n.chain.best
              .slice(base + 1)
              .map((e) => e.id.slice(0, 12))
              .join(' ← '),
          ]),
        );
        let reorg: string[] = [];
        a.chain.once('tip', (_tip: unknown, dropped: string[]) => {
          reorg = dropped;
        });
        ctx.out.command(`portlab chain connect ${b.host}:${b.node.port}   # A → B`);
        await a.node.connect(b.host, b.node.port);
        await until(() => a.chain.tip.id === b.chain.tip.id, 'A and B to agree');
        showWire(ctx, 12);
        ctx.out.say(
          ctx.out.t({
            fr: `A abandonne ${reorg.length} bloc(s) (${reorg.map((id) => id.slice(0, 12)).join(', ')}) et prend la branche de B, plus lourde : les deux ont maintenant la hauteur ${a.chain.height}`,
            en: `A drops ${reorg.length} block(s) (${reorg.map((id) => id.slice(0, 12)).join(', ')}) for B's branch, heavier: both are now at height ${a.chain.height}`,
          }),
          'green',
        );
        tips(ctx, [a, b]);
      },
    },
  ],

  async check(config: LabConfig, options) {
    const user = checkedUser(options);
    const base = `http://${loopbackApiHost(config)}:${config.portOf('chain-api')}`;
    let ex: {
      owner: string | null;
      address: string;
      mined: number;
      sent: { to: string; state: string }[];
      shown: number;
      tampered: number;
      sawBroken: number;
    };
    try {
      const res = await fetch(`${base}/exercise`, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      ex = (await res.json()) as typeof ex;
    } catch (err) {
      return [
        checkItem(
          'node-answers',
          false,
          { fr: 'votre nœud répond', en: 'your node answers' },
          {
            fr: `votre nœud ne répond pas sur ${base} (${(err as Error).message}) : lancez-le (npx portlab up)`,
            en: `your node does not answer on ${base} (${(err as Error).message}): start it (npx portlab up)`,
          },
        ),
      ];
    }
    // Only this account's wallet counts: a node bound to another account credits nothing here.
    const yours = ex.owner === user;
    const sent = yours && ex.sent.some((s) => s.to !== ex.address && s.state === 'confirmed');
    const pending = yours && ex.sent.some((s) => s.to !== ex.address && s.state === 'pending');
    return [
      checkItem(
        'wallet',
        yours,
        {
          fr: `le portefeuille de votre nœud (${ex.address}) est lié à ${user}`,
          en: `your node's wallet (${ex.address}) is bound to ${user}`,
        },
        ex.owner === null
          ? {
              fr: `liez le portefeuille de votre nœud à votre compte : npx portlab chain wallet --user ${user}`,
              en: `bind your node's wallet to your account: npx portlab chain wallet --user ${user}`,
            }
          : {
              fr: `ce nœud est celui de ${ex.owner}, pas de ${user} : travaillez sur votre propre nœud`,
              en: `this node is ${ex.owner}'s, not ${user}'s: work on your own node`,
            },
      ),
      checkItem(
        'mined',
        yours && ex.mined > 0,
        {
          fr: `${ex.mined} bloc(s) miné(s) par votre portefeuille sur la meilleure chaîne`,
          en: `${ex.mined} block(s) mined by your wallet on the best chain`,
        },
        {
          fr: 'aucun bloc de la meilleure chaîne ne paie encore votre portefeuille',
          en: 'no block of the best chain pays your wallet yet',
        },
      ),
      checkItem(
        'sent',
        sent,
        {
          fr: 'des pièces envoyées à une autre adresse, dans un bloc',
          en: 'coins sent to another address, in a block',
        },
        pending
          ? {
              fr: 'votre paiement attend dans le mempool : il faut un bloc pour le confirmer',
              en: 'your payment waits in the mempool: it takes a block to confirm it',
            }
          : {
              fr: "vous n'avez pas encore payé un voisin (son adresse : portlab chain wallet, sur son nœud)",
              en: 'you have not paid a neighbour yet (their address: portlab chain wallet, on their node)',
            },
      ),
      checkItem(
        'header',
        yours && ex.shown > 0,
        { fr: 'un en-tête affiché avec sa commande de hash', en: 'a header shown with its hash command' },
        {
          fr: "vous n'avez pas encore regardé un en-tête de bloc octet par octet",
          en: 'you have not looked at a block header byte by byte yet',
        },
      ),
      checkItem(
        'tampered',
        yours && ex.tampered > 0 && ex.sawBroken > 0,
        {
          fr: 'votre copie falsifiée, et votre nœud qui dit où elle casse',
          en: 'your copy tampered with, and your node saying where it breaks',
        },
        ex.tampered > 0
          ? {
              fr: 'falsifiée : que dit maintenant votre nœud de sa chaîne ?',
              en: 'tampered: what does your node now say of its chain?',
            }
          : {
              fr: "vous n'avez pas encore falsifié votre copie",
              en: 'you have not tampered with your copy yet',
            },
      ),
    ];
  },
};
