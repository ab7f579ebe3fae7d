// The chat panel (lab 07): each Matrix room this browser may see, as the graph of its last events.
// An event is a box, laid out left to right by its depth; an arrow goes from it to each of its
// prev_events (the events it says came before: the same picture as lab 08's blocks pointing at the
// previous block's hash). Its colour is the server that made it (the domain of its sender), and a ✔
// says its signature and content hash verify (✘ they do not, ? no key here for that server).
// Data: GET /api/chat/rooms (apps/web/src/routes/chat.ts), asked every few seconds while the page shows.
import { useEffect, useState } from 'preact/hooks';
import { useJson } from './fetch-json.js';
import { html } from './html.js';
import { useT } from './i18n.js';

export const CHAT_POLL_MS = 3000;
const BOX_W = 92;
const BOX_H = 34;
const GAP_X = 36;
const GAP_Y = 14;
const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f'];

/** A colour per server, stable for the page: the first server seen gets the first colour. */
function colourOf(origins, origin) {
  if (!origins.has(origin)) origins.set(origin, PALETTE[origins.size % PALETTE.length]);
  return origins.get(origin);
}

/** Where each event goes: column = rank of its depth, row = its place among events of that depth. */
export function layout(events) {
  const depths = [...new Set(events.map((e) => e.depth))].sort((a, b) => a - b);
  const rows = new Map();
  const at = new Map();
  for (const e of events) {
    const col = depths.indexOf(e.depth);
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    at.set(e.id, { x: 4 + col * (BOX_W + GAP_X), y: 4 + row * (BOX_H + GAP_Y) });
  }
  const height = Math.max(1, ...rows.values()) * (BOX_H + GAP_Y) + 8;
  return { at, width: depths.length * (BOX_W + GAP_X) + 8, height };
}

const shortType = (type) => type.replace(/^m\.room\./, '');
const mark = (verified) => (verified === true ? '✔' : verified === false ? '✘' : '?');

function RoomGraph({ room, origins, t }) {
  const { at, width, height } = layout(room.events);
  return html`<svg class="chat-graph" width=${width} height=${height} role="img"
      aria-label=${t('chatGraphLabel', { n: room.events.length })}>
    <defs><marker id="chat-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto">
      <path d="M0,0 L8,4 L0,8 z" fill="#555" /></marker></defs>
    ${room.events.flatMap((e) =>
      e.prev
        .filter((p) => at.has(p))
        .map((p) => {
          const from = at.get(e.id);
          const to = at.get(p);
          return html`<line key=${`${e.id}>${p}`} class="chat-arrow" x1=${from.x} y1=${from.y + BOX_H / 2}
            x2=${to.x + BOX_W} y2=${to.y + BOX_H / 2} marker-end="url(#chat-arrow)" />`;
        }),
    )}
    ${room.events.map((e) => {
      const { x, y } = at.get(e.id);
      return html`<g key=${e.id} class=${`chat-event ${e.verified === true ? 'ok' : e.verified === false ? 'bad' : 'unknown'}`}
          data-id=${e.id} data-origin=${e.origin} data-verified=${String(e.verified)}>
        <title>${e.id}\n${e.sender} (${e.origin})\n${e.type}\nprev_events: ${e.prev.join(', ') || '—'}</title>
        <rect class=${e.verified === false ? 'chat-tampered' : ''} x=${x} y=${y} width=${BOX_W} height=${BOX_H} rx="4"
          fill=${colourOf(origins, e.origin)} />
        <text class="chat-label" x=${x + 5} y=${y + 14}>${mark(e.verified)} ${shortType(e.type)}</text>
        <text x=${x + 5} y=${y + 28} class="chat-label chat-id">${e.id.slice(0, 11)}…</text>
      </g>`;
    })}
  </svg>`;
}

export function ChatView() {
  const t = useT();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, CHAT_POLL_MS);
    return () => clearInterval(timer);
  }, []);
  const { data, error } = useJson('/api/chat/rooms', tick);
  if (error) return html`<p class="chat-hint">${t('chatSignIn')}</p>`;
  if (!data) return html`<p>${t('loading')}</p>`;
  if (!data.rooms?.length) return html`<p class="chat-hint">${t('chatEmpty')}</p>`;
  const origins = new Map();
  // The lab's own server first: it always has the first colour.
  colourOf(origins, data.server);
  for (const room of data.rooms) for (const e of room.events) colourOf(origins, e.origin);
  return html`<div class="chat" data-rooms=${data.rooms.length}>
    <p class="chat-legend">${t('chatLegend')}
      ${[...origins].map(([origin, colour]) => html` <span key=${origin} class="chat-origin"><span class="chat-swatch" style=${`background:${colour}`}></span><code>${origin}</code></span>`)}
    </p>
    ${data.rooms.map(
      (room) => html`<div key=${room.id} class="chat-room" data-room=${room.id}>
        <h3>${room.name ?? t('chatUnnamed')} <code>${room.id}</code></h3>
        <div class="chat-scroll"><${RoomGraph} room=${room} origins=${origins} t=${t} /></div>
      </div>`,
    )}
  </div>`;
}
