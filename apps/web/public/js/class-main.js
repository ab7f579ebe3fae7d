// The teacher's board (/lab/class): each student, who is connected on what, and each lab's check
// items, ✔ or ✘, live. `?projector=1` (or the button) shows it big, for the class to see: names and
// progress only — no addresses, no texts (a wrong answer quoted on the wall helps nobody).
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { defaultLanguage, translator } from './class-i18n.js';
import { openClassStream } from './class-stream.js';
import { html } from './html.js';
import { loadPref, usePageLanguage } from './prefs.js';

const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** One student's connections as badges, one per service (×2 when two sessions). */
function Connected({ connected, t }) {
  if (connected.length === 0) return html`<span class="idle">${t('notConnected')}</span>`;
  const byService = new Map();
  for (const c of connected) byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  return html`${[...byService].map(
    ([service, list]) =>
      html`<span class="service" data-service=${service} title=${list.map((c) => t('since', { service, time: time(c.since), peer: c.peer })).join('\n')}>
        ${service}${list.length > 1 ? html` <small>×${list.length}</small>` : ''}
      </span>`,
  )}`;
}

function LabCell({ progress, lang, t, projector }) {
  if (!progress) return html`<td class="lab pending" title=${t('pending')}>…</td>`;
  if (progress.error) {
    return html`<td class="lab failed" title=${projector ? '' : t('checkFailed', { error: progress.error })}>?</td>`;
  }
  const complete = progress.total > 0 && progress.done === progress.total;
  return html`<td class=${`lab${complete ? ' complete' : ''}`} data-done=${progress.done} data-total=${progress.total}>
    <span class="count">${progress.done}/${progress.total}</span>
    <span class="marks">${progress.items.map((item) => {
      const said = projector ? t(item.ok ? 'done' : 'notYet') : `${item.ok ? '✔' : '✘'} ${item.text[lang]}`;
      return html`<span class=${`mark ${item.ok ? 'ok' : 'no'}`} role="img" aria-label=${said} title=${said}>${item.ok ? '✔' : '✘'}</span>`;
    })}</span>
  </td>`;
}

function Board({ board, lang, t, projector }) {
  if (board.students.length === 0) return html`<p class="empty">${t('noStudents')}</p>`;
  const connected = board.students.filter((s) => s.connected.length > 0).length;
  const finished = (id) =>
    board.students.filter((s) => s.labs[id] && s.labs[id].total > 0 && s.labs[id].done === s.labs[id].total)
      .length;
  return html`
    <p class="summary">
      <span>${t('students', { n: board.students.length })}</span>
      ${projector ? '' : html`<span>${t('connectedNow', { n: connected })}</span>`}
    </p>
    <table class="board-table">
      <thead>
        <tr>
          <th scope="col">${t('student')}</th>
          ${projector ? '' : html`<th scope="col">${t('connected')}</th>`}
          ${board.labs.map(
            (lab) => html`<th scope="col" class="lab">
              <span class="lab-id">${lab.id}</span> <span class="lab-title">${lab.title[lang]}</span>
              <small class="finished">${t('finished', { n: finished(lab.id), total: board.students.length })}</small>
            </th>`,
          )}
        </tr>
      </thead>
      <tbody>
        ${board.students.map(
          (
            s,
          ) => html`<tr data-student=${s.name} class=${!projector && s.connected.length > 0 ? 'online' : ''}>
            <th scope="row">${s.name}</th>
            ${projector ? '' : html`<td class="connected"><${Connected} connected=${s.connected} t=${t} /></td>`}
            ${board.labs.map((lab) => html`<${LabCell} progress=${s.labs[lab.id]} lang=${lang} t=${t} projector=${projector} />`)}
          </tr>`,
        )}
      </tbody>
    </table>
    ${
      projector || !board.recompute?.last
        ? ''
        : html`<p class="footnote">${t('updated', { time: time(board.updatedAt) })} · ${t('cost', {
            n: board.recompute.last.students,
            ms: board.recompute.last.ms,
          })}</p>`
    }`;
}

function App() {
  const [lang, setLang] = useState(() => loadPref('lang', defaultLanguage(navigator.language)));
  const [projector, setProjector] = useState(
    () => new URLSearchParams(window.location.search).get('projector') === '1',
  );
  const [board, setBoard] = useState(null);
  const [state, setState] = useState('connecting');
  const [refused, setRefused] = useState(null);
  const t = useMemo(() => translator(lang), [lang]);

  useEffect(
    () =>
      openClassStream({
        board: (b) => {
          setRefused(null);
          setBoard(b);
        },
        state: setState,
        refused: setRefused,
      }),
    [],
  );
  usePageLanguage(lang, `portlab — ${t('title')}`);
  useEffect(() => {
    document.documentElement.classList.toggle('projector', projector);
    // The address says the mode: a projector's browser can be opened on /lab/class?projector=1.
    const url = new URL(window.location.href);
    if (projector) url.searchParams.set('projector', '1');
    else url.searchParams.delete('projector');
    window.history.replaceState(null, '', url);
  }, [projector]);

  return html`
    <header class="top">
      <h1>portlab · ${t('title')}</h1>
      <p class=${`status ${state}`} role="status" data-state=${state}>${t(state)}</p>
      <nav class="switches">
        <button type="button" lang=${lang === 'fr' ? 'en' : 'fr'} aria-label=${t('otherLanguageName')} onClick=${() => setLang((l) => (l === 'fr' ? 'en' : 'fr'))}>${t('otherLanguage')}</button>
        <button type="button" aria-pressed=${projector} onClick=${() => setProjector((p) => !p)}>${t(projector ? 'projectorOff' : 'projector')}</button>
        ${projector ? '' : html`<a href="/lab/class/cards">${t('cards')}</a> <a href="/lab">${t('dashboard')}</a> <a href="/">${t('home')}</a>`}
      </nav>
    </header>
    <main>
      ${projector ? '' : html`<p class="intro">${t('intro')}</p>`}
      ${refused ? html`<p class="refused" role="alert">${refused}</p>` : ''}
      ${board ? html`<${Board} board=${board} lang=${lang} t=${t} projector=${projector} />` : ''}
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
