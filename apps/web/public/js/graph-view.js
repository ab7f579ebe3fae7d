// Draws the connection graph (graph-model.js) as SVG: processes that listen in the middle, plain
// clients around them. One server and its clients make a star; peers that listen and connect make a mesh.
import { useMemo } from 'preact/hooks';
import { shapeOf } from './graph-model.js';
import { html } from './html.js';
import { useT } from './i18n.js';

const W = 760;
const H = 460;
const CX = W / 2;
const CY = H / 2;
const LINE = 15;
const CHAR = 7.2;

/** A client on the lab machine itself (loopback) is named by its port alone; others by ip:port. */
const LOOPBACK = /^(127\.[\d.]+|\[::1\]):(\d+)$/;

function nodeLines(node, t) {
  if (node.kind === 'endpoint') return [node.label.replace(LOOPBACK, ':$2')];
  const services = [...node.services].sort();
  return services.length ? services : [t('process', { tag: node.label })];
}

/** The inner ellipse (processes that listen) and the outer one (plain clients). */
const INNER = { rx: 200, ry: 120 };
const OUTER = { rx: 300, ry: 180 };
const on = (ellipse, angle) => ({
  x: CX + ellipse.rx * Math.cos(angle),
  y: CY + ellipse.ry * Math.sin(angle),
});

/**
 * Places processes on the inner ellipse (one alone at the centre), sorted by what they serve so that
 * peers sit side by side; each plain client goes on the outer ellipse next to the node it talks to.
 */
function layout(view, t) {
  const placed = new Map();
  const processes = view.nodes
    .filter((n) => n.kind === 'process')
    .map((n) => ({ ...n, lines: nodeLines(n, t) }))
    .sort((a, b) => a.lines[0].localeCompare(b.lines[0]) || a.id.localeCompare(b.id));
  processes.forEach((n, i) => {
    const angle = (2 * Math.PI * i) / processes.length - Math.PI / 2;
    placed.set(n.id, { ...n, angle, ...(processes.length === 1 ? { x: CX, y: CY } : on(INNER, angle)) });
  });
  const groups = new Map();
  for (const n of view.nodes.filter((node) => node.kind === 'endpoint')) {
    const edge = view.edges.find((e) => e.from === n.id || e.to === n.id);
    const anchor = edge ? (edge.from === n.id ? edge.to : edge.from) : '';
    if (!groups.has(anchor)) groups.set(anchor, []);
    groups.get(anchor).push({ ...n, lines: nodeLines(n, t) });
  }
  const clients = view.nodes.length - processes.length;
  for (const [anchorId, members] of groups) {
    const anchor = placed.get(anchorId);
    const centred = !anchor || processes.length === 1;
    // Around a lone server: the whole circle. Around one of several: an arc facing it, as wide as
    // its share of all the clients.
    const arc = centred
      ? 2 * Math.PI
      : Math.min((2 * Math.PI * members.length) / clients, 0.45 * members.length);
    members.forEach((n, i) => {
      const angle = centred
        ? (2 * Math.PI * i) / members.length - Math.PI / 2 + 0.3
        : anchor.angle + (members.length === 1 ? 0 : (i / (members.length - 1) - 0.5) * arc);
      placed.set(n.id, { ...n, ...on(OUTER, angle) });
    });
  }
  for (const n of placed.values()) {
    n.hw = n.kind === 'process' ? (Math.max(...n.lines.map((l) => l.length)) * CHAR) / 2 + 10 : 7;
    n.hh = n.kind === 'process' ? (n.lines.length * LINE) / 2 + 7 : 7;
  }
  return placed;
}

/** Where the ray from a node's centre toward (dx, dy) leaves its box: arrows stop at the edge. */
function boundary(n, dx, dy) {
  const len = Math.hypot(dx, dy) || 1;
  const k = Math.min(n.hw / Math.abs(dx / len || 1e-9), n.hh / Math.abs(dy / len || 1e-9));
  return { x: n.x + (dx / len) * k, y: n.y + (dy / len) * k };
}

/** Arrows between the same two nodes (both ways, several ports) curve apart so none hides another. */
function edgeGeometry(edges, placed) {
  const groups = new Map();
  for (const e of edges) {
    const pair = [e.from, e.to].sort().join('|');
    if (!groups.has(pair)) groups.set(pair, []);
    groups.get(pair).push(e);
  }
  const drawn = [];
  for (const [pair, group] of groups) {
    const [first, second] = pair.split('|').map((id) => placed.get(id));
    const px = -(second.y - first.y);
    const py = second.x - first.x;
    const plen = Math.hypot(px, py) || 1;
    group.forEach((e, i) => {
      const a = placed.get(e.from);
      const b = placed.get(e.to);
      const slot = i - (group.length - 1) / 2;
      const c = {
        x: (a.x + b.x) / 2 + (px / plen) * slot * 60,
        y: (a.y + b.y) / 2 + (py / plen) * slot * 60,
      };
      const start = boundary(a, c.x - a.x, c.y - a.y);
      const end = boundary(b, c.x - b.x, c.y - b.y);
      const label = { x: (start.x + 2 * c.x + end.x) / 4, y: (start.y + 2 * c.y + end.y) / 4 };
      drawn.push({ ...e, d: `M${start.x},${start.y} Q${c.x},${c.y} ${end.x},${end.y}`, label });
    });
  }
  return drawn;
}

function Node({ n }) {
  const peer = n.in > 0 && n.out > 0;
  if (n.kind === 'endpoint') {
    return html`<g class="node endpoint" data-id=${n.id}>
      <circle cx=${n.x} cy=${n.y} r="6" />
      <text x=${n.x} y=${n.y + 19} text-anchor="middle">${n.lines[0]}</text>
      <title>${n.label}</title>
    </g>`;
  }
  return html`<g class=${`node process${peer ? ' peer' : ''}`} data-id=${n.id}>
    <rect x=${n.x - n.hw} y=${n.y - n.hh} width=${2 * n.hw} height=${2 * n.hh} rx="6" />
    ${n.lines.map(
      (line, i) =>
        html`<text x=${n.x} y=${n.y - n.hh + 7 + LINE * (i + 0.8)} text-anchor="middle">${line}</text>`,
    )}
  </g>`;
}

function caption(form, placed, t) {
  const peers = form.peers >= 2 ? ` ${t('shapePeers', { n: form.peers })}` : '';
  switch (form.kind) {
    case 'none':
      return t('shapeNone');
    case 'star': {
      const hub = placed.get(form.hub);
      const name = hub.kind === 'endpoint' ? hub.label : hub.lines.join(', ');
      return t(form.hubListens ? 'shapeStar' : 'shapeStarHub', { n: form.leaves, hub: name });
    }
    case 'stars':
      return t('shapeStars', { n: form.groups });
    default:
      return t('shapeMesh') + peers;
  }
}

export function GraphView({ graph, version }) {
  const t = useT();
  const view = useMemo(() => graph.view(), [graph, version]);
  const placed = layout(view, t);
  const edges = edgeGeometry(view.edges, placed);
  // The caption follows what is drawn (graph-model.js, shapeOf), never a guess from the services.
  const form = shapeOf(view);
  const shape = caption(form, placed, t);
  const label = t('graphLabel', { nodes: view.nodes.length, edges: view.edges.length });
  const name = (id) => {
    const n = placed.get(id);
    return n.kind === 'endpoint' ? n.label : n.lines.join(', ');
  };
  return html`
    <p class="shape" data-shape=${form.kind} data-groups=${form.groups}>${shape}</p>
    <svg class="graph" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${`${label}. ${shape}`}
      data-nodes=${view.nodes.length} data-edges=${view.edges.length} data-peers=${view.peers}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
        </marker>
      </defs>
      ${edges.map(
        (e) => html`<g class="edge" key=${e.key} data-from=${e.from} data-to=${e.to} data-port=${e.port}>
          <path d=${e.d} marker-end="url(#arrow)" />
          <text x=${e.label.x} y=${e.label.y + 4} text-anchor="middle">${e.port}${e.count > 1 ? ` ×${e.count}` : ''}</text>
        </g>`,
      )}
      ${[...placed.values()].map((n) => html`<${Node} key=${n.id} n=${n} />`)}
      ${view.hiddenClients ? html`<text class="more" x="8" y=${H - 8}>${t('moreClients', { n: view.hiddenClients })}</text>` : ''}
    </svg>
    <details class="connections">
      <summary>${t('connectionsList')} (${view.edges.length})</summary>
      <table>
        <thead><tr><th scope="col">${t('fromSide')}</th><th scope="col">${t('toSide')}</th><th scope="col">${t('port')}</th><th scope="col">${t('service')}</th><th scope="col">${t('count')}</th></tr></thead>
        <tbody>
          ${view.edges.map(
            (e) =>
              html`<tr key=${e.key}><td>${name(e.from)}</td><td>${name(e.to)}</td><td>${e.port}</td><td>${e.service}</td><td>${e.count}</td></tr>`,
          )}
        </tbody>
      </table>
    </details>
  `;
}
