// Read-only view of the users' mailboxes (/api/mail, Maildir++ on disk). A message is shown as
// text: its main headers and its text/plain part, or its raw source; HTML is never rendered.
import { useState } from 'preact/hooks';
import { useJson } from './fetch-json.js';
import { html } from './html.js';
import { useT } from './i18n.js';

const enc = encodeURIComponent;

export function UserPicker({ id, users, user, onChange }) {
  const t = useT();
  return html`<label>${t('user')}
    <select id=${id} value=${user} onChange=${(ev) => onChange(ev.currentTarget.value)}>
      <option value="">${t('chooseUser')}</option>
      ${users.map((u) => html`<option value=${u}>${u}</option>`)}
    </select>
  </label>`;
}

export const Problem = ({ state }) =>
  state.error ? html`<p class="problem" role="alert">${state.error}</p>` : '';

function MessageView({ message }) {
  const t = useT();
  const [tab, setTab] = useState('rendered');
  const head = [
    ['fromH', message.from],
    ['toH', message.to],
    ['subject', message.subject],
    ['date', message.date],
    ['flags', message.flags.join(', ')],
  ];
  return html`
    <div class="message">
      <div class="tabs" role="tablist">
        ${['rendered', 'raw'].map(
          (name) =>
            html`<button type="button" role="tab" aria-selected=${tab === name} onClick=${() => setTab(name)}>${t(name)}</button>`,
        )}
      </div>
      ${
        tab === 'rendered'
          ? html`<dl class="headers">${head.map(([k, v]) => html`<dt>${t(k)}</dt><dd>${v}</dd>`)}</dl>
            <pre class="body">${message.text ?? t('noText')}</pre>`
          : html`<pre class="raw">${message.raw}</pre>`
      }
      ${message.truncated ? html`<p>${t('truncated')}</p>` : ''}
      <p class="note">${t('htmlNote')}</p>
    </div>
  `;
}

export function MailView({ tick }) {
  const t = useT();
  const [user, setUser] = useState('');
  const [folder, setFolder] = useState('INBOX');
  const [id, setId] = useState('');
  const [refresh, setRefresh] = useState(0);
  const users = useJson('/api/mail', refresh);
  const folders = useJson(user ? `/api/mail/${enc(user)}` : null, tick + refresh);
  const messages = useJson(user ? `/api/mail/${enc(user)}/${enc(folder)}` : null, tick + refresh);
  const message = useJson(user && id ? `/api/mail/${enc(user)}/${enc(folder)}/${enc(id)}` : null, refresh);
  return html`
    <div class="toolbar">
      <${UserPicker} id="mail-user" users=${users.data?.users ?? []} user=${user}
        onChange=${(u) => {
          setUser(u);
          setFolder('INBOX');
          setId('');
        }} />
      <button type="button" onClick=${() => setRefresh((n) => n + 1)}>${t('refresh')}</button>
    </div>
    <${Problem} state=${folders} />
    ${
      user && folders.data
        ? html`<div class="mail">
          <nav aria-label=${t('folders')}>
            <h3>${t('folders')}</h3>
            <ul class="plain">
              ${folders.data.folders.map(
                (f) => html`<li><button type="button" class="link" aria-current=${f.name === folder}
                  onClick=${() => {
                    setFolder(f.name);
                    setId('');
                  }}>${f.name} (${f.messages}${f.unread ? `, ${t('unread', { n: f.unread })}` : ''})</button></li>`,
              )}
            </ul>
          </nav>
          <div>
            <h3>${t('messages')}</h3>
            <${Problem} state=${messages} />
            ${messages.data?.messages.length === 0 ? html`<p>${t('noMessages')}</p>` : ''}
            <ul class="plain message-list">
              ${(messages.data?.messages ?? []).map(
                (
                  m,
                ) => html`<li><button type="button" class="link" aria-current=${m.id === id} onClick=${() => setId(m.id)}>
                  <strong>${m.subject || '—'}</strong> <span>${m.from}</span> <span class="muted">${m.date}</span></button></li>`,
              )}
            </ul>
            <${Problem} state=${message} />
            ${message.data ? html`<${MessageView} key=${id} message=${message.data} />` : ''}
          </div>
        </div>`
        : ''
    }
  `;
}
