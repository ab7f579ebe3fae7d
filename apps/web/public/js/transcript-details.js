// The details pane under the transcript: the selected line whole, with its session and flags, and
// what can be done with it (decode its credentials, show its session alone).
import { decodeCredentials } from './credentials.js';
import { html } from './html.js';
import { useT } from './i18n.js';
import { clock, decodedText, describe, isCredentials } from './transcript-row.js';

export function TranscriptDetails({ selected, names, decoded, onDecode, onOnlySession }) {
  const t = useT();
  return html`
    <div class="details" aria-live="polite">
      <h3>${t('selectedLine')}</h3>
      ${
        selected
          ? html`
          <p class="meta">${clock(selected.ts)} · ${selected.service}:${selected.port} · ${selected.session ? `${names.nameOf(selected.session)} (${t('sessionId')} ${selected.session})` : ''}
            ${selected.flags?.length ? ` · ${selected.flags.join(', ')}` : ''}</p>
          <pre class=${selected.type === 'line' ? `dir-${selected.dir}` : ''}>${selected.type === 'line' ? `${selected.dir}: ` : ''}${describe(selected, t)}</pre>
          ${decoded ? html`<p class="decoded">${decodedText(selected, t)}</p>` : ''}
          <p>
            ${
              isCredentials(selected) && decodeCredentials(selected.line)
                ? html`<button type="button" onClick=${() => onDecode(selected.id)}>${decoded ? t('hide') : t('decode')}</button> `
                : ''
            }
            ${
              selected.session
                ? html`<button type="button" onClick=${() => onOnlySession(selected.session)}>${t('onlySession')}</button>`
                : ''
            }
          </p>`
          : html`<p>${t('noLine')}</p>`
      }
    </div>
  `;
}
