// The lab 5 chart: the same kind of download from one source (FTP: one server) and from several
// (BitTorrent: every peer that holds pieces), their times and throughputs side by side. It shows
// the last of each the lab saw, with their sizes: the figures are the lab's own, not a model's.
// Both times run from the command to the last byte, as lab 5's demo prints them: FTP's from RETR to
// the client's next word (it has every byte then), the torrent's from the downloader's first
// handshake to its last piece (swarm-model.js).
import { html } from './html.js';
import { useT } from './i18n.js';
import { formatBytes, formatDuration, formatRate } from './swarm-format.js';

function Bar({ value, max, text, kind }) {
  const width = max > 0 ? Math.max((value / max) * 100, 1) : 0;
  return html`<div class="bar-cell">
    <span class="track"><span class=${`bar ${kind}`} style=${`width:${width}%`}></span></span>
    <span class="bar-text">${text}</span>
  </div>`;
}

export function SwarmChart({ comparison }) {
  const t = useT();
  const rows = [
    ['ftp', comparison.ftp],
    ['p2p', comparison.p2p],
  ].filter(([, r]) => r);
  const rate = (r) => (r.bytes * 1000) / r.ms;
  const maxTime = Math.max(...rows.map(([, r]) => r.ms));
  const maxRate = Math.max(...rows.map(([, r]) => rate(r)));
  return html`<div class="chart" data-rows=${rows.length}>
    <h3>${t('chartTitle')}</h3>
    ${
      rows.length === 0
        ? html`<p class="empty">${t('chartEmpty')}</p>`
        : html`
    <table class="comparison">
      <thead><tr>
        <th scope="col">${t('chartWay')}</th><th scope="col">${t('chartTime')}</th><th scope="col">${t('chartRate')}</th>
      </tr></thead>
      <tbody>
        ${rows.map(
          ([kind, r]) => html`<tr key=${kind} data-kind=${kind} data-sources=${r.sources} data-ms=${r.ms}
            data-confirmed=${r.confirmed !== false}>
            <th scope="row">${t(`chart_${kind}`)}
              <span class="what">${t('chartWhat', { name: r.name, size: formatBytes(r.bytes), n: r.sources })}${
                r.rest ? ` ${t('chartResumed', { from: formatBytes(r.rest) })}` : ''
              }</span>
            </th>
            <td title=${r.confirmed === false ? t('chartUnconfirmed') : undefined}>
              <${Bar} value=${r.ms} max=${maxTime} kind=${kind}
                text=${`${r.confirmed === false ? '≥ ' : ''}${formatDuration(r.ms)}`} /></td>
            <td><${Bar} value=${rate(r)} max=${maxRate} kind=${kind} text=${formatRate(r.bytes, r.ms)} /></td>
          </tr>`,
        )}
      </tbody>
    </table>`
    }
    ${rows.length === 1 ? html`<p class="note">${t(comparison.ftp ? 'chartNeedP2p' : 'chartNeedFtp')}</p>` : ''}
    <p class="note">${t('chartNote')}</p>
  </div>`;
}
