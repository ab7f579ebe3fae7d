// "My progress": a signed-in student's own checks, lab by lab (issue #13), the same the teacher's
// board shows and `portlab check NN --server` prints, without installing anything on the student's
// PC. The server computes them (GET /api/check/:lab, apps/web/src/routes/check.ts) and answers them
// only to the account itself: the page asks, it never decides who may see what.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { getJson } from './fetch-json.js';
import { html } from './html.js';
import { useT } from './i18n.js';

/**
 * While the page is visible it asks again this often: a check also counts what no session of the
 * account's own shows (lab 04's page fetched by a browser that is not signed in…). Five small
 * requests per student every 30 s (30 students: 5 a second); a hidden tab asks nothing.
 */
export const POLL_MS = 30_000;

/** Several of the student's sessions closing at once (an FTP client's data connections): one check. */
const SETTLE_MS = 300;

/**
 * `viewer` is GET /api/session's answer; `lang` the dashboard's language (the check texts come in
 * both); `tick` grows when a session of the signed-in account closes (store.js `closedOf`).
 */
export function ProgressView({ viewer, lang, tick }) {
  const t = useT();
  if (!viewer) return html`<p>${t('loading')}</p>`;
  if (viewer.teacher) {
    return html`<p class="progress-hint" data-why="teacher">${t('progressTeacher')}
      <a href="/lab/class">${t('progressBoard')}</a></p>`;
  }
  if (!viewer.account) return html`<p class="progress-hint" data-why="signed-out">${t('progressSignIn')}</p>`;
  return html`<${Checks} account=${viewer.account} lang=${lang} tick=${tick} />`;
}

function Checks({ account, lang, tick }) {
  const t = useT();
  const [labs, setLabs] = useState(null);
  const [checks, setChecks] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  /** Rounds of checks answered so far (data-round: a test waits for the next one). */
  const [round, setRound] = useState(0);
  // One round of checks at a time; asked again meanwhile (a session just closed): one more after it,
  // so the answer shown is never older than the last reason to ask.
  const asking = useRef(false);
  const again = useRef(false);

  useEffect(() => {
    getJson('/api/labs').then(setLabs, (err) => setError(err.message));
  }, []);

  /** Every lab's check, asked together; an answer already shown stays until its new one comes. */
  const checkAll = useCallback(async () => {
    if (!labs) return;
    if (asking.current) {
      again.current = true;
      return;
    }
    asking.current = true;
    setBusy(true);
    do {
      again.current = false;
      const answers = await Promise.all(
        labs.map((lab) =>
          getJson(`/api/check/${encodeURIComponent(lab.id)}`).then(
            (check) => [lab.id, check],
            (err) => [lab.id, { error: err.message }],
          ),
        ),
      );
      setChecks(Object.fromEntries(answers));
      setRound((n) => n + 1);
    } while (again.current);
    asking.current = false;
    setBusy(false);
  }, [labs]);

  // First, then after the account's own sessions closed (debounced).
  useEffect(() => {
    if (!labs) return;
    const timer = setTimeout(checkAll, tick ? SETTLE_MS : 0);
    return () => clearTimeout(timer);
  }, [labs, tick]);

  // Every POLL_MS while the page is visible, and at once when it becomes visible again.
  useEffect(() => {
    if (!labs) return;
    const timer = setInterval(() => document.visibilityState === 'visible' && checkAll(), POLL_MS);
    const onVisible = () => document.visibilityState === 'visible' && checkAll();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [labs]);

  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!labs) return html`<p>${t('loading')}</p>`;
  return html`
    <div class="toolbar">
      <span>${t('progressOf', { user: account })}</span>
      <button type="button" class="check-again" onClick=${checkAll} aria-busy=${busy}>${t('checkAgain')}</button>
    </div>
    <div class="progress-labs" data-round=${round}>
      ${labs.map((lab) => html`<${LabCheck} key=${lab.id} lab=${lab} check=${checks[lab.id]} lang=${lang} />`)}
    </div>`;
}

function LabCheck({ lab, check, lang }) {
  const t = useT();
  const title = lab.title[lang] ?? lab.title.en;
  const complete = check && !check.error && check.total > 0 && check.done === check.total;
  return html`<section class="progress-lab" data-lab=${lab.id} data-done=${check?.done ?? ''}
      data-total=${check?.total ?? ''} data-complete=${complete ? 'true' : 'false'}
      aria-labelledby=${`progress-${lab.id}`}>
    <h3 id=${`progress-${lab.id}`}>${t('labN', { id: lab.id })} · ${title}
      ${check && !check.error ? html` <span class="score">${t('doneOf', { done: check.done, total: check.total })}</span>` : ''}</h3>
    ${
      !check
        ? html`<p>${t('loading')}</p>`
        : check.error
          ? html`<p class="error">${check.error}</p>`
          : html`<ul class="check-items">${check.items.map(
              (item) => html`<li data-ok=${item.ok ? 'true' : 'false'}>
                <span class="mark" aria-label=${t(item.ok ? 'itemDone' : 'itemTodo')}>${item.ok ? '✔' : '✘'}</span>
                ${item.text[lang] ?? item.text.en}</li>`,
            )}</ul>`
    }
  </section>`;
}
