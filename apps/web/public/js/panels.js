// Which panel fills the screen. On a projector the whole page does not fit: the teacher picks one
// panel (the transcript, the graph, the swarm…) and the page shows it alone, full-screen. The choice
// is kept in this browser (prefs.js) and in the address, so `/lab#panel=transcript` can be
// bookmarked or opened on the classroom's machine. Pure functions: the tests run them in Node.

/** The sections of the page, in the order of the number keys 1 … 9. */
export const PANELS = [
  'services',
  'connections',
  'transcript',
  'mail',
  'files',
  'swarm',
  'progress',
  'chain',
  'chat',
];

/** Other names a teacher may type in the address: #panel=ports, #panel=graph, #panel=pieces… */
const ALIASES = {
  ports: 'services',
  cards: 'services',
  graph: 'connections',
  pieces: 'swarm',
  chart: 'swarm',
  mailboxes: 'mail',
  check: 'progress',
  checks: 'progress',
  progression: 'progress',
  blockchain: 'chain',
  blocks: 'chain',
  matrix: 'chat',
  rooms: 'chat',
};

/** 'all' (every panel, the usual page) or one of PANELS; anything else is 'all'. */
export function normalPanel(name) {
  const key = String(name ?? '')
    .trim()
    .toLowerCase();
  const panel = ALIASES[key] ?? key;
  return PANELS.includes(panel) ? panel : 'all';
}

/**
 * The panel a location hash asks for ("#panel=transcript", "#panel=graph&x=1"), or null when the
 * hash says nothing about panels (a plain "#keys" link, or no hash).
 */
export function panelFromHash(hash) {
  const params = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
  return params.has('panel') ? normalPanel(params.get('panel')) : null;
}

/** The hash for a choice: "#panel=transcript", or "" for the whole page. */
export function hashFor(panel) {
  const chosen = normalPanel(panel);
  return chosen === 'all' ? '' : `#panel=${chosen}`;
}

/** On opening: the address wins (a bookmark), then what this browser remembered, then the whole page. */
export function initialPanel(hash, remembered) {
  return panelFromHash(hash) ?? normalPanel(remembered);
}
