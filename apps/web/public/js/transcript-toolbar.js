// The transcript's toolbar: filters by service and by session, the dashboard's own requests shown or
// not, and following the newest lines (with how many came while the reader looked higher up).
import { html } from './html.js';
import { useT } from './i18n.js';

export function TranscriptToolbar({
  filter,
  setFilter,
  services,
  sessions,
  names,
  follow,
  newLines,
  onClear,
  onLatest,
}) {
  const t = useT();
  const { service, session, showOwn } = filter;
  return html`
    <div class="toolbar">
      <label>${t('filterService')}
        <select id="filter-service" value=${service} onChange=${(ev) => setFilter({ service: ev.currentTarget.value })}>
          <option value="">${t('allServices')}</option>
          ${services.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <label>${t('filterSession')}
        <select id="filter-session" value=${session} onChange=${(ev) => setFilter({ session: ev.currentTarget.value })}>
          <option value="">${t('allSessions')}</option>
          ${sessions.map((s) => html`<option value=${s}>${names.nameOf(s)}</option>`)}
        </select>
      </label>
      <label><input type="checkbox" id="show-own" checked=${showOwn}
        onChange=${(ev) => setFilter({ showOwn: ev.currentTarget.checked })} /> ${t('showOwn')}</label>
      <button type="button" onClick=${onClear} disabled=${!service && !session}>${t('clearFilters')}</button>
      <button type="button" onClick=${onLatest} class=${follow ? '' : 'attention'}>${t('follow')}</button>
      <span class="follow-state" aria-live="polite">${follow ? t('following') : t('paused', { n: newLines })}</span>
      <span class="legend"><span class="dir-C">${t('client')}</span> <span class="dir-S">${t('server')}</span></span>
    </div>
  `;
}
