// The chain panel (lab 08): the lab node's blockchain as cards, newest last: each block's id, the
// previous block's id it points to, and the nonce its miner found. A block tampered with in this copy
// is red, and so is every block after it (their link to it no longer proves anything). Below: the
// side branches (forks) and the reorgs that resolved them; each neighbour's chain as it sent it to this
// node, one row per node so the same heights line up (refused blocks red, a fork's blocks dashed);
// the mempool and the balances by address.
// Data: GET /api/chain (apps/web/src/routes/chain.ts), asked every few seconds while the page shows.
import { useEffect, useState } from 'preact/hooks';
import { useJson } from './fetch-json.js';
import { html } from './html.js';
import { useT } from './i18n.js';

export const CHAIN_POLL_MS = 3000;
const short = (id) => `${id.slice(0, 12)}…${id.slice(-4)}`;

/** One row per neighbour: its chain, oldest to newest, as the headers and blocks it sent us. */
function PeerChains({ peers, t }) {
  return html`<div class="chain-peers">
    <h3>${t('chainPeers')}</h3>
    <p class="chain-hint">${t('chainPeerLegend')}</p>
    ${peers.map(
      (p) => html`<div key=${p.address} class="chain-peer" data-listen=${p.listen}>
        <p><code>${p.listen}</code> ${p.userAgent}${p.dropped ? html` <span class="chain-dropped">${t('chainPeerDropped', { reason: p.dropped })}</span>` : ''}</p>
        <ol class="chain-cards">
          ${[...p.blocks].reverse().map(
            (
              b,
            ) => html`<li key=${b.id} class=${`chain-card${b.refused ? ' tampered' : ''}${b.ours ? '' : ' fork'}`}
              data-height=${b.height ?? ''} data-id=${b.id} title=${b.refused ?? ''}>
              <span class="chain-height">#${b.height ?? '?'}</span>
              <span class="chain-field"><b>hash</b> <code>${short(b.id)}</code></span>
              <span class="chain-field"><b>prev</b> <code>${short(b.prev)}</code></span>
              <span class="chain-field"><b>nonce</b> <code>${b.nonce}</code></span>
            </li>`,
          )}
        </ol>
      </div>`,
    )}
  </div>`;
}

export function ChainView() {
  const t = useT();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, CHAIN_POLL_MS);
    return () => clearInterval(timer);
  }, []);
  const { data } = useJson('/api/chain', tick);
  if (!data) return html`<p>${t('loading')}</p>`;
  if (!data.running) return html`<p class="chain-hint">${t('chainNotRunning')}</p>`;
  const firstBad = data.blocks.findIndex((b) => b.tampered);
  return html`<div class="chain" data-height=${data.height}>
    <p class="chain-rule">${t('chainRule', { bits: data.zeroBits, target: data.target.slice(0, 16), peers: data.peers })}</p>
    <ol class="chain-cards">
      ${data.blocks.map(
        (
          b,
          i,
        ) => html`<li key=${b.id} class=${`chain-card${firstBad >= 0 && i >= firstBad ? ' tampered' : ''}`}
          data-height=${b.height} data-id=${b.id}>
          <span class="chain-height">#${b.height}</span>
          <span class="chain-field"><b>hash</b> <code>${short(b.id)}</code></span>
          <span class="chain-field"><b>prev</b> <code>${short(b.prev)}</code></span>
          <span class="chain-field"><b>nonce</b> <code>${b.nonce}</code></span>
          <span class="chain-field">${b.txs} tx</span>
        </li>`,
      )}
    </ol>
    ${
      data.forks.length || data.reorgs.length
        ? html`<p class="chain-forks">${t('chainForks', { forks: data.forks.length, reorgs: data.reorgs.length })}
            ${data.forks.slice(0, 5).map((f) => html` <code key=${f.id}>#${f.height} ${short(f.id)}</code>`)}</p>`
        : ''
    }
    ${(data.peerChains ?? []).length ? html`<${PeerChains} peers=${data.peerChains} t=${t} />` : ''}
    ${data.broken.length ? html`<p class="chain-broken">${t('chainBroken')} ${data.broken.map((b) => html`<code key=${b.id}>${short(b.id)}</code> `)}</p>` : ''}
    <div class="pair">
      <div><h3>${t('chainMempool')} (${data.mempool.length})</h3>
        <ul>${data.mempool.slice(0, 10).map((m) => html`<li key=${m.id}><code>${short(m.id)}</code> ${m.size} B</li>`)}</ul></div>
      <div><h3>${t('chainBalances')}</h3>
        <ul>${data.balances.slice(0, 10).map((b) => html`<li key=${b.address} class=${b.mine ? 'mine' : ''}><code>${b.address}</code> ${b.coins}</li>`)}</ul></div>
    </div>
  </div>`;
}
