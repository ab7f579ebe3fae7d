// Who this browser is, and the sign-in form. A student signs in with their lab account to see their
// own passwords in the transcript (everyone else's stay masked) and their own mail and files; the
// teacher, on the lab machine itself or signed in as `teacher`, sees all. The server decides: the
// page only asks (GET /api/session) and shows the answer.
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './fetch-json.js';
import { html } from './html.js';
import { useT } from './i18n.js';

async function send(method, body) {
  const res = await fetch('/api/session', {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.error ?? `${res.status} ${res.statusText}`);
  return answer;
}

/**
 * After signing in or out, the page loads again: the stream starts over with what this browser may
 * now see (lines drawn masked come back in clear, or the other way round).
 */
const reload = () => window.location.reload();

let asked = null;
/** GET /api/session, asked once per page: the sign-in form and the progress panel both need it. */
export function loadViewer() {
  asked ??= getJson('/api/session');
  return asked;
}

/** Who this browser is (null until the server answered), and the error if it could not say. */
export function useViewer() {
  const [viewer, setViewer] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    loadViewer().then(setViewer, (err) => setError(err.message));
  }, []);
  return { viewer, error };
}

export function SignIn() {
  const t = useT();
  const { viewer, error: unknown } = useViewer();
  const [failed, setError] = useState(null);
  const error = failed ?? unknown;
  const [busy, setBusy] = useState(false);

  if (!viewer) return html`<p class="sign-in">${error ?? ''}</p>`;

  if (viewer.account) {
    return html`<p class="sign-in" data-account=${viewer.account}>
      ${t(viewer.teacher ? 'signedInTeacher' : 'signedInAs', { user: viewer.account })}
      <button type="button" onClick=${() => send('DELETE').then(reload, (err) => setError(err.message))}>${t('signOut')}</button>
    </p>`;
  }

  // The lab machine's own browser sees everything already: no form to clutter a solo lab's page.
  if (viewer.loopbackTeacher) return html`<p class="sign-in">${t('teacherHere')}</p>`;

  const submit = (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.currentTarget);
    setBusy(true);
    setError(null);
    send('POST', { user: form.get('user'), password: form.get('password') }).then(reload, (err) => {
      setBusy(false);
      setError(err.message);
    });
  };
  return html`<form class="sign-in" onSubmit=${submit} aria-describedby="sign-in-why">
    <span id="sign-in-why" class="why">${t('signInWhy')}</span>
    <label>${t('user')} <input name="user" autocomplete="username" required size="10" /></label>
    <label>${t('password')} <input name="password" type="password" autocomplete="current-password" required size="10" /></label>
    <button type="submit" disabled=${busy}>${t('signIn')}</button>
    ${error ? html`<span class="error" role="alert">${error}</span>` : ''}
  </form>`;
}
