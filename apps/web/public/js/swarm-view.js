// The swarm section: for each download, a bar with one cell per piece, coloured by the peer the
// piece came from and marked with that peer's letter (colour is never the only cue: a colour-blind
// student, or a washed-out projector, still reads the letters); the peers with what each sent; who
// joined and left. Below, the lab 5 chart: one FTP source against several BitTorrent sources.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { useT } from './i18n.js';
import { SwarmChart } from './swarm-chart.js';
import { formatBytes } from './swarm-format.js';
import { isWebSeed, SILENT_MS } from './swarm-model.js';

/**
 * Peer colours, all dark enough for a white letter (WCAG AA, 4.5:1) and for a cell to stand out
 * from the white bar (3:1); ratios against white in lab.css. Told apart by hue and lightness for the
 * common colour blindnesses, and by letter always; past eight peers, colours repeat, letters do not.
 */
export const PEER_COLOURS = [
  '#1f5fa8',
  '#b04a00',
  '#1d6b2a',
  '#8b2a7a',
  '#6b5600',
  '#00677a',
  '#a01c3c',
  '#4a4a4a',
];
/**
 * A web seed's pieces (BEP 19: HTTP, not a peer) are black, a colour no peer gets: the bar shows at
 * a glance what the web server sent. White on black: 21:1.
 */
export const WEB_COLOUR = '#000000';
const colourOf = (peer) => (peer.web ? WEB_COLOUR : PEER_COLOURS[(peer.index ?? 0) % PEER_COLOURS.length]);

/** Cells per row, and cell size in SVG units: small torrents get large cells with their letter. */
const geometry = (pieces) => (pieces <= 512 ? { cols: 32, cell: 16 } : { cols: 64, cell: 12 });
/** Above this many pieces the letters would be too small to read: colours only, and the table. */
const MAX_LETTERED = 1024;

function PieceBar({ download, peers }) {
  const t = useT();
  const { pieces } = download.torrent;
  const { cols, cell } = geometry(pieces);
  const rows = Math.ceil(pieces / cols);
  const cells = [];
  for (let i = 0; i < pieces; i++) {
    const got = download.pieces.get(i);
    const peer = got && peers.get(got.from);
    const x = (i % cols) * cell;
    const y = Math.floor(i / cols) * cell;
    const marks = `${download.bad.has(i) ? ' bad' : ''}${download.retried.has(i) ? ' retried' : ''}`;
    cells.push(html`<g class=${`piece${got ? ' got' : ''}${marks}`} data-piece=${i} data-from=${peer?.letter ?? ''}>
      <rect class="cell" x=${x + 1} y=${y + 1} width=${cell - 2} height=${cell - 2} fill=${peer ? colourOf(peer) : '#ffffff'} />
      ${peer && pieces <= MAX_LETTERED ? html`<text class="letter" x=${x + cell / 2} y=${y + cell * 0.72} font-size=${cell * 0.62}>${peer.letter}</text>` : ''}
      ${!got && download.bad.has(i) ? html`<text class="cross" x=${x + cell / 2} y=${y + cell * 0.72} font-size=${cell * 0.7}>×</text>` : ''}
    </g>`);
  }
  const have = download.pieces.size;
  return html`<svg class="pieces" viewBox=${`0 0 ${cols * cell} ${rows * cell}`} role="img"
      aria-label=${t('pieceBarLabel', { have, pieces, sources: download.sources.length })}
      data-pieces=${pieces} data-have=${have}>
    ${cells}
  </svg>`;
}

function Legend({ download, peers }) {
  const t = useT();
  const total = download.pieces.size || 1;
  return html`<table class="legend-peers">
    <thead><tr>
      <th scope="col">${t('peer')}</th><th scope="col">${t('address')}</th><th scope="col">${t('pieces')}</th>
      <th scope="col">${t('bytes')}</th><th scope="col">${t('share')}</th><th scope="col">${t('peerState')}</th>
    </tr></thead>
    <tbody>
      ${[...peers.values()].map(
        (p) => html`<tr key=${p.address} class=${p.connected ? 'connected' : 'gone'} data-letter=${p.letter}>
          <td><span class="swatch" style=${`background:${colourOf(p)}`}>${p.letter}</span></td>
          <td class="mono">${p.address}</td>
          <td>${p.pieces}</td>
          <td>${formatBytes(p.bytes)}</td>
          <td>${Math.round((p.pieces / total) * 100)} %</td>
          <td>${t(p.web ? 'webSeed' : p.connected ? 'connected' : 'left')}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Web seeds against peers: what the web server sent, and what the peers did (lab 06). */
function SourceBytes({ download }) {
  const t = useT();
  const { web, peers } = download.bytesBySource;
  if (web === 0 && ![...download.peers.keys()].some(isWebSeed)) return '';
  const total = web + peers || 1;
  return html`<div class="source-bytes" data-web=${web} data-peers=${peers}>
    <span class="track" aria-hidden="true">
      <span class="bar web" style=${`width:${(web / total) * 100}%`}></span><span class="bar peers" style=${`width:${(peers / total) * 100}%`}></span>
    </span>
    <span><span class="swatch web"></span> ${t('bytesByHttp', { bytes: formatBytes(web) })}</span>
    <span><span class="swatch peers"></span> ${t('bytesByPeers', { bytes: formatBytes(peers) })}</span>
  </div>`;
}

function Moves({ download }) {
  const t = useT();
  const moves = download.moves.slice(-10).reverse();
  if (moves.length === 0) return '';
  const what = (m) =>
    m.joined ? t('joined') : m.reason ? t('leftBecause', { reason: m.reason }) : t('left');
  return html`<ul class="moves plain" aria-label=${t('moves')}>
    ${moves.map(
      (m) => html`<li key=${m.id} class=${m.joined ? 'joined' : 'left'}>
        ${`${m.ts.slice(11, 19)} ${m.joined ? '+' : '−'} ${m.letter} ${m.address} ${what(m)}`}
      </li>`,
    )}
  </ul>`;
}

function Marks({ download, peers }) {
  const t = useT();
  const letter = (address) => peers.get(address)?.letter ?? address;
  const bad = [...download.bad].map(([i, from]) => `${i} (${letter(from)})`);
  const retried = [...download.retried];
  if (bad.length === 0 && retried.length === 0) return '';
  return html`<p class="marks">
    ${retried.length ? html`<span class="retried-key">${t('retried', { list: retried.join(', ') })}</span> ` : ''}
    ${bad.length ? html`<span class="bad-key">${t('badPieces', { list: bad.join(', ') })}</span>` : ''}
  </p>`;
}

/** The download's state in words: done, stopped where it was (and why), or going. */
function progressText(download, state, t) {
  const { pieces } = download.torrent;
  if (state === 'done')
    return t('downloadDone', { seconds: ((download.end - download.start) / 1000).toFixed(1) });
  const have = download.progress;
  if (state === 'stopped')
    return t(download.stopReason === 'closed' ? 'downloadClosed' : 'downloadSilent', {
      have,
      pieces,
      seconds: SILENT_MS / 1000,
    });
  return t('downloading', { have, pieces });
}

function DownloadView({ download, state, open }) {
  const t = useT();
  // Each peer with its place in the order of letters, for its colour (web seeds have their own).
  let n = 0;
  const peers = new Map(
    [...download.peers.values()].map((p) => {
      const web = isWebSeed(p.address);
      return [p.address, { ...p, web, index: web ? -1 : n++ }];
    }),
  );
  const { torrent } = download;
  return html`<article class="download" data-torrent=${torrent.key} data-node=${download.node}
      data-complete=${download.complete} data-state=${state}>
    <h3>${torrent.name || torrent.key.slice(0, 12)} <span class="muted">${formatBytes(torrent.length)} · ${t('piecesOf', { n: torrent.pieces, size: formatBytes(torrent.pieceLength) })}</span>
      ${state === 'live' ? '' : html` <span class=${`badge ${state}`}>${t(`badge_${state}`)}</span>`}</h3>
    <p class="muted">${t('downloadedBy', { node: download.node })} · <span class="progress">${progressText(download, state, t)}</span></p>
    ${torrent.pieces ? html`<${PieceBar} download=${download} peers=${peers} />` : ''}
    <${Marks} download=${download} peers=${peers} />
    <${SourceBytes} download=${download} />
    <details open=${open}>
      <summary>${t('peersOf', { n: peers.size })}</summary>
      <${Legend} download=${download} peers=${peers} />
      <${Moves} download=${download} />
    </details>
  </article>`;
}

/** Downloads that finished or stopped a while ago: one line each, out of the way. */
function PastDownloads({ downloads, now }) {
  const t = useT();
  if (downloads.length === 0) return '';
  return html`<details class="past-downloads">
    <summary>${t('pastDownloads', { n: downloads.length })}</summary>
    <ul class="plain">
      ${downloads.map((d) => {
        const state = d.state(now);
        return html`<li key=${d.id} class="download-line" data-state=${state} data-torrent=${d.torrent.key}>
          <span class=${`badge ${state}`}>${t(`badge_${state}`)}</span>
          ${` ${d.torrent.name || d.torrent.key.slice(0, 12)} · ${t('downloadedBy', { node: d.node })} · ${progressText(d, state, t)}`}
        </li>`;
      })}
    </ul>
  </details>`;
}

/** Re-renders every `ms`: a download with no news turns "stopped" though no event came. */
function useTick(ms) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

export function SwarmView({ swarm }) {
  const t = useT();
  useTick(5000);
  const now = swarm.now();
  const { current, past } = swarm.byState(now);
  const downloads = current.filter((d) => d.torrent.pieces);
  const idle = swarm.idleTorrents();
  return html`
    ${downloads.length === 0 && idle.length === 0 && past.length === 0 ? html`<p class="empty">${t('swarmEmpty')}</p>` : ''}
    ${idle.map(
      (torrent) =>
        html`<p key=${torrent.key} class="idle">${t('swarmIdle', {
          name: torrent.name,
          n: torrent.holders.size,
        })}</p>`,
    )}
    ${downloads.map(
      (d, i) => html`<${DownloadView} key=${d.id} download=${d} state=${d.state(now)} open=${i === 0} />`,
    )}
    <${PastDownloads} downloads=${past.filter((d) => d.torrent.pieces)} now=${now} />
    <${SwarmChart} comparison=${swarm.comparison()} />
  `;
}
