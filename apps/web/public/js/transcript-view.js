// The transcript stream: C:/S: lines of every connection, coloured by direction, filtered by service
// and session. Only the rows in sight are in the DOM (a "virtual" list): 5,000 kept events or 50,
// the page draws the same few dozen rows, so it stays responsive while a lab floods it.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { decodeCredentials, visible } from './credentials.js';
import { html } from './html.js';
import { useT } from './i18n.js';
import { MAX_EVENTS } from './store.js';

/** Rows drawn above and below the visible ones, so a quick scroll shows no blank. */
const OVERSCAN = 8;

const pad = (n, width = 2) => String(n).padStart(width, '0');
function clock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function describe(e, t) {
  if (e.type === 'line') return e.line;
  if (e.type === 'service')
    return (
      t('serviceEvent', { service: e.service, state: t(`state_${e.state}`) }) +
      (e.message ? `: ${e.message}` : '')
    );
  if (e.type === 'login') return t(e.ok ? 'loginOk' : 'loginRefused', { user: e.user ?? t('noAccount') });
  return t(e.type === 'open' ? 'opened' : 'closed', { from: e.from, to: e.to });
}

function decodedText(e, t) {
  // The server masked a password this browser may not see (apps/web/src/mask.ts): nothing to decode.
  if (e.masked) return t('maskedSecret');
  const decoded = decodeCredentials(e.line);
  if (!decoded) return null;
  if (decoded.kind === 'clear') return t('alreadyClear');
  if (decoded.kind === 'text') return t('decodedText', { text: visible(decoded.text) });
  const vars = {
    authz: visible(decoded.authz),
    user: visible(decoded.user),
    password: visible(decoded.password),
  };
  return t(decoded.authz ? 'decodedPlainAuthz' : 'decodedPlain', vars);
}

const isCredentials = (e) => e.type === 'line' && e.flags?.includes('credentials');

function Row({ e, names, index, top, height, selected, decoded, onSelect, onDecode }) {
  const t = useT();
  const classes = ['row', e.type === 'line' ? `dir-${e.dir}` : `event-${e.type}`];
  if (isCredentials(e)) classes.push('credentials');
  if (e.masked) classes.push('masked');
  if (e.flags?.includes('tls')) classes.push('tls-switch');
  if (selected) classes.push('selected');
  return html`
    <div class=${classes.join(' ')} role="option" id=${`row-${index}`} aria-selected=${selected}
      style=${{ top: `${top}px`, height: `${height}px` }} data-id=${e.id} onClick=${() => onSelect(e.id)}>
      <span class="time">${clock(e.ts)}</span>
      <span class="where">${e.service}:${e.port}</span>
      <span class="session" title=${e.session ? `${names.nameOf(e.session)} · ${e.session}` : ''}>${e.session ? names.clientOf(e.session) : ''}</span>
      <span class="dir">${e.type === 'line' ? `${e.dir}:` : '—'}</span>
      ${e.secure ? html`<span class="lock" title=${t('secure')}>TLS</span>` : ''}
      <span class="text">${describe(e, t)}${decoded ? html` <span class="decoded">${decodedText(e, t)}</span>` : ''}</span>
      ${
        isCredentials(e) && (e.masked || decodeCredentials(e.line))
          ? html`<button type="button" class="decode" tabindex="-1" onClick=${(ev) => {
              ev.stopPropagation();
              onDecode(e.id);
            }}>${decoded ? t('hide') : t('decode')}</button>`
          : ''
      }
      ${e.flags?.includes('tls') ? html`<span class="tls-mark">${t('tlsMark')}</span>` : ''}
    </div>
  `;
}

/** The height of one row in px: 1.75 × the list's font size (larger in projector mode). */
function useRowHeight(ref, projector) {
  const [rowHeight, setRowHeight] = useState(28);
  useLayoutEffect(() => {
    const measure = () =>
      setRowHeight(Math.round(Number.parseFloat(getComputedStyle(ref.current).fontSize) * 1.75));
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, [projector]);
  return rowHeight;
}

export function TranscriptView({ store, version, projector, panel, commands }) {
  const t = useT();
  const listRef = useRef(null);
  const [service, setService] = useState('');
  const [session, setSession] = useState('');
  const [showOwn, setShowOwn] = useState(false);
  const [selectedId, setSelectedId] = useState(null);
  const [decoded, setDecoded] = useState(() => new Set());
  const [follow, setFollow] = useState(true);
  const [viewport, setViewport] = useState({ top: 0, height: 400 });
  const rowHeight = useRowHeight(listRef, projector);

  const rows = useMemo(
    () =>
      store.events.filter(
        (e) =>
          (!service || e.service === service) && (!session || e.session === session) && (showOwn || !e.own),
      ),
    [version, service, session, showOwn],
  );
  const services = useMemo(
    () => [...new Set([...store.services.map((s) => s.name), ...store.events.map((e) => e.service)])].sort(),
    [version],
  );
  const sessions = useMemo(() => {
    const seen = new Set();
    for (let i = rows.length - 1; i >= 0 && seen.size < 100; i--)
      if (rows[i].session) seen.add(rows[i].session);
    if (session) seen.add(session);
    return [...seen];
  }, [rows, session]);

  // Following: stay at the bottom as lines come in, until the reader scrolls up.
  useLayoutEffect(() => {
    const list = listRef.current;
    if (follow && list) list.scrollTop = list.scrollHeight;
  });
  // Lines that came while the reader looked higher up: counted, so the page can say so.
  const [seen, setSeen] = useState(store.received);
  useEffect(() => {
    if (follow) setSeen(store.received);
  }, [follow, version]);

  const onScroll = () => {
    const list = listRef.current;
    setViewport({ top: list.scrollTop, height: list.clientHeight });
    setFollow(list.scrollTop + list.clientHeight >= list.scrollHeight - rowHeight);
  };
  // The list is taller when the transcript fills the screen (main.js, panels.js): measure it again.
  useLayoutEffect(onScroll, [rowHeight, panel]);

  const toggleDecode = (id) =>
    setDecoded((old) => {
      const next = new Set(old);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  const selectedIndex = rows.findIndex((e) => e.id === selectedId);
  const selected = selectedIndex >= 0 ? rows[selectedIndex] : store.events.find((e) => e.id === selectedId);

  const goLatest = () => {
    setFollow(true);
    listRef.current.scrollTop = listRef.current.scrollHeight;
  };
  const clearFilters = () => {
    setService('');
    setSession('');
  };
  commands.current = {
    goLatest,
    clearFilters,
    focusFilter: () => document.getElementById('filter-service').focus(),
  };

  const moveTo = (index) => {
    if (rows.length === 0) return;
    const i = Math.max(0, Math.min(rows.length - 1, index));
    setSelectedId(rows[i].id);
    const list = listRef.current;
    if (i * rowHeight < list.scrollTop) list.scrollTop = i * rowHeight;
    else if ((i + 1) * rowHeight > list.scrollTop + list.clientHeight)
      list.scrollTop = (i + 1) * rowHeight - list.clientHeight;
  };
  const onKeyDown = (ev) => {
    const page = Math.max(1, Math.floor(viewport.height / rowHeight) - 1);
    const from = selectedIndex >= 0 ? selectedIndex : rows.length - 1;
    const moves = {
      ArrowDown: from + 1,
      ArrowUp: from - 1,
      PageDown: from + page,
      PageUp: from - page,
      Home: 0,
      End: rows.length - 1,
    };
    if (ev.key in moves) {
      ev.preventDefault();
      moveTo(moves[ev.key]);
    } else if (ev.key === 'Enter' && selected && isCredentials(selected)) {
      ev.preventDefault();
      toggleDecode(selected.id);
    } else if (ev.key === 's' && selected?.session) {
      ev.stopPropagation();
      setSession(selected.session);
      setService('');
    }
  };

  const first = Math.max(0, Math.floor(viewport.top / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((viewport.top + viewport.height) / rowHeight) + OVERSCAN);
  const newLines = store.received - seen;

  return html`
    <div class="toolbar">
      <label>${t('filterService')}
        <select id="filter-service" value=${service} onChange=${(ev) => setService(ev.currentTarget.value)}>
          <option value="">${t('allServices')}</option>
          ${services.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <label>${t('filterSession')}
        <select id="filter-session" value=${session} onChange=${(ev) => setSession(ev.currentTarget.value)}>
          <option value="">${t('allSessions')}</option>
          ${sessions.map((s) => html`<option value=${s}>${store.names.nameOf(s)}</option>`)}
        </select>
      </label>
      <label><input type="checkbox" id="show-own" checked=${showOwn}
        onChange=${(ev) => setShowOwn(ev.currentTarget.checked)} /> ${t('showOwn')}</label>
      <button type="button" onClick=${clearFilters} disabled=${!service && !session}>${t('clearFilters')}</button>
      <button type="button" onClick=${goLatest} class=${follow ? '' : 'attention'}>${t('follow')}</button>
      <span class="follow-state" aria-live="polite">${follow ? t('following') : t('paused', { n: newLines })}</span>
      <span class="legend"><span class="dir-C">${t('client')}</span> <span class="dir-S">${t('server')}</span></span>
    </div>
    <div class="rows" ref=${listRef} tabindex="0" role="listbox" aria-label=${t('transcript')}
      aria-activedescendant=${selectedIndex >= 0 ? `row-${selectedIndex}` : undefined}
      onScroll=${onScroll} onKeyDown=${onKeyDown}>
      <div class="spacer" style=${{ height: `${rows.length * rowHeight}px` }}>
        ${rows.length === 0 ? html`<p class="empty">${t('emptyTranscript')}</p>` : ''}
        ${rows.slice(first, last).map(
          (
            e,
            i,
          ) => html`<${Row} key=${e.id} e=${e} names=${store.names} index=${first + i} top=${(first + i) * rowHeight} height=${rowHeight}
            selected=${e.id === selectedId} decoded=${decoded.has(e.id)} onSelect=${setSelectedId} onDecode=${toggleDecode} />`,
        )}
      </div>
    </div>
    <p class="counts">${t('counts', { shown: rows.length, kept: store.events.length, max: MAX_EVENTS })}</p>
    <div class="details" aria-live="polite">
      <h3>${t('selectedLine')}</h3>
      ${
        selected
          ? html`
          <p class="meta">${clock(selected.ts)} · ${selected.service}:${selected.port} · ${selected.session ? `${store.names.nameOf(selected.session)} (${t('sessionId')} ${selected.session})` : ''}
            ${selected.flags?.length ? ` · ${selected.flags.join(', ')}` : ''}</p>
          <pre class=${selected.type === 'line' ? `dir-${selected.dir}` : ''}>${selected.type === 'line' ? `${selected.dir}: ` : ''}${describe(selected, t)}</pre>
          ${decoded.has(selected.id) ? html`<p class="decoded">${decodedText(selected, t)}</p>` : ''}
          <p>
            ${
              isCredentials(selected) && decodeCredentials(selected.line)
                ? html`<button type="button" onClick=${() => toggleDecode(selected.id)}>${decoded.has(selected.id) ? t('hide') : t('decode')}</button> `
                : ''
            }
            ${
              selected.session
                ? html`<button type="button" onClick=${() => {
                    setSession(selected.session);
                    setService('');
                  }}>${t('onlySession')}</button>`
                : ''
            }
          </p>`
          : html`<p>${t('noLine')}</p>`
      }
    </div>
  `;
}
