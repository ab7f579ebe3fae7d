// One line of the transcript as the list and the details pane show it: its time, its words (a
// service's change of state, a login, a connection opened or closed), and a credentials line decoded.
import { decodeCredentials, visible } from './credentials.js';
import { html } from './html.js';
import { useT } from './i18n.js';

const pad = (n, width = 2) => String(n).padStart(width, '0');
export function clock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function describe(e, t) {
  if (e.type === 'line') return e.line;
  if (e.type === 'service')
    return (
      t('serviceEvent', { service: e.service, state: t(`state_${e.state}`) }) +
      (e.message ? `: ${e.message}` : '')
    );
  if (e.type === 'login' && e.via === 'access-token') return t('loginToken', { user: e.user });
  if (e.type === 'login') return t(e.ok ? 'loginOk' : 'loginRefused', { user: e.user ?? t('noAccount') });
  return t(e.type === 'open' ? 'opened' : 'closed', { from: e.from, to: e.to });
}

export function decodedText(e, t) {
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

export const isCredentials = (e) => e.type === 'line' && e.flags?.includes('credentials');

export function Row({ e, names, index, top, height, selected, decoded, onSelect, onDecode }) {
  const t = useT();
  const classes = ['row', e.type === 'line' ? `dir-${e.dir}` : `event-${e.type}`];
  if (isCredentials(e)) classes.push('credentials');
  if (e.masked || e.private) classes.push('masked');
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
      <span class="text" title=${e.private ? t('privateLine') : undefined}>${describe(e, t)}${decoded ? html` <span class="decoded">${decodedText(e, t)}</span>` : ''}</span>
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
