// Read-only view of the users' FTP folders (/api/files, a plain folder tree on disk).
import { useState } from 'preact/hooks';
import { useJson } from './fetch-json.js';
import { html } from './html.js';
import { useT } from './i18n.js';
import { Problem, UserPicker } from './mail-view.js';

const parentOf = (path) => path.replace(/\/[^/]*$/, '') || '/';
const join = (dir, name) => `${dir === '/' ? '' : dir}/${name}`;

export function FilesView({ tick }) {
  const t = useT();
  const [user, setUser] = useState('');
  const [path, setPath] = useState('/');
  const [refresh, setRefresh] = useState(0);
  const users = useJson('/api/files', refresh);
  const view = useJson(
    user ? `/api/files/${encodeURIComponent(user)}?path=${encodeURIComponent(path)}` : null,
    tick + refresh,
  );
  const data = view.data;
  return html`
    <div class="toolbar">
      <${UserPicker} id="files-user" users=${users.data?.users ?? []} user=${user}
        onChange=${(u) => {
          setUser(u);
          setPath('/');
        }} />
      <button type="button" onClick=${() => setRefresh((n) => n + 1)}>${t('refresh')}</button>
    </div>
    <${Problem} state=${view} />
    ${
      data
        ? html`
        <p class="path"><code>${user}:${data.path}</code>
          ${data.path !== '/' ? html` <button type="button" class="link" onClick=${() => setPath(parentOf(data.path))}>${t('parent')}</button>` : ''}</p>
        ${
          data.type === 'dir'
            ? data.entries.length === 0
              ? html`<p>${t('emptyDir')}</p>`
              : html`<table class="entries">
                <thead><tr><th scope="col">${t('name')}</th><th scope="col">${t('size')}</th><th scope="col">${t('date')}</th></tr></thead>
                <tbody>${data.entries.map(
                  (e) =>
                    html`<tr><td>${
                      e.type === 'dir' || e.type === 'file'
                        ? html`<button type="button" class="link" onClick=${() => setPath(join(data.path, e.name))}>${e.name}${e.type === 'dir' ? '/' : ''}</button>`
                        : `${e.name} (${e.type})`
                    }</td><td>${e.type === 'file' ? e.size : ''}</td><td>${e.mtime.slice(0, 16).replace('T', ' ')}</td></tr>`,
                )}</tbody>
              </table>`
            : html`${data.text === null ? html`<p>${t('binary', { size: data.size })}</p>` : html`<pre class="file">${data.text}</pre>`}
              ${data.truncated ? html`<p>${t('truncated')}</p>` : ''}`
        }`
        : ''
    }
  `;
}
