// The transcript stream: C:/S: lines of every connection, coloured by direction, filtered by service
// and session. Only the rows in sight are in the DOM (a "virtual" list): 5,000 kept events or 50,
// the page draws the same few dozen rows, so it stays responsive while a lab floods it.
// Its pieces: transcript-filter.js (which lines), transcript-toolbar.js, transcript-row.js (one line),
// transcript-details.js (the selected line). This file keeps the list: scrolling, following, the keys.
import { useEffect, useImperativeHandle, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { useT } from './i18n.js';
import { MAX_EVENTS } from './store.js';
import { TranscriptDetails } from './transcript-details.js';
import { useTranscriptFilter } from './transcript-filter.js';
import { isCredentials, Row } from './transcript-row.js';
import { TranscriptToolbar } from './transcript-toolbar.js';

/** Rows drawn above and below the visible ones, so a quick scroll shows no blank. */
const OVERSCAN = 8;

/**
 * What the page's keyboard shortcuts (main.js) ask of the transcript, through the `commands` ref
 * given to TranscriptView: set once the view is mounted (useImperativeHandle), never during a render.
 * @typedef {object} TranscriptCommands
 * @property {() => void} goLatest Scroll to the newest line and follow again (key f).
 * @property {() => void} clearFilters Show every service and session again (Escape).
 * @property {() => void} focusFilter Put the focus on the service filter (key /).
 */

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

/** @param {{ commands: { current: TranscriptCommands | null } }} props and the store, its version, the page's mode */
export function TranscriptView({ store, version, projector, panel, commands }) {
  const t = useT();
  const listRef = useRef(null);
  const { filter, setFilter, rows, services, sessions } = useTranscriptFilter(store, version);
  const [selectedId, setSelectedId] = useState(null);
  const [decoded, setDecoded] = useState(() => new Set());
  const [follow, setFollow] = useState(true);
  const [viewport, setViewport] = useState({ top: 0, height: 400 });
  const rowHeight = useRowHeight(listRef, projector);

  // Following: stay at the bottom as lines come in, until the reader scrolls up. The browser sends
  // the scroll event at its next frame: lines drawn before it would take the reader back down, so a
  // list found above where it was last put at the bottom (and not at the bottom now: a list made
  // shorter is put back there by the browser) stops following here already.
  const bottomTop = useRef(null);
  useLayoutEffect(() => {
    const list = listRef.current;
    if (!follow || !list) return;
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - rowHeight;
    if (bottomTop.current !== null && list.scrollTop < bottomTop.current - 1 && !atBottom) {
      setFollow(false);
      return;
    }
    list.scrollTop = list.scrollHeight;
    bottomTop.current = list.scrollTop;
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
  const clearFilters = () => setFilter({ service: '', session: '' });
  const onlySession = (session) => setFilter({ session, service: '' });
  // Only the refs and state setters are used: the handle made once stays right.
  useImperativeHandle(
    commands,
    () => ({
      goLatest,
      clearFilters,
      focusFilter: () => document.getElementById('filter-service').focus(),
    }),
    [],
  );

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
      onlySession(selected.session);
    }
  };

  const first = Math.max(0, Math.floor(viewport.top / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((viewport.top + viewport.height) / rowHeight) + OVERSCAN);

  return html`
    <${TranscriptToolbar} filter=${filter} setFilter=${setFilter} services=${services} sessions=${sessions}
      names=${store.names} follow=${follow} newLines=${store.received - seen} onClear=${clearFilters} onLatest=${goLatest} />
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
    <${TranscriptDetails} selected=${selected} names=${store.names} decoded=${selected ? decoded.has(selected.id) : false}
      onDecode=${toggleDecode} onOnlySession=${onlySession} />
  `;
}
