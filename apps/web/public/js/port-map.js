// The port map: one card per service. The lesson in one look: one machine, many ports, one service
// on each; a card turns grey when its service stops.
import { html } from './html.js';
import { useT } from './i18n.js';

function stateOf(service) {
  if (service.listening) return 'listening';
  return service.error ? 'failed' : 'stopped';
}

function Card({ service }) {
  const t = useT();
  const state = stateOf(service);
  return html`
    <li class=${`card ${state}`} data-service=${service.name} data-state=${state}>
      <h3><span class="protocol">${service.protocol}</span> <span class="name">${service.name}</span></h3>
      <p class="lab-port"><span class="label">${t('labPort')}</span> <strong>${service.port}</strong></p>
      <dl>
        <dt>${t('standardPort')}</dt><dd>${service.standardPort}</dd>
        <dt>${t('tls')}</dt><dd>${t(`tls_${service.tls}`)}</dd>
        <dt>${t('clients')}</dt><dd class="clients">${service.clients}</dd>
        ${service.transport === 'udp+tcp' ? html`<dt>${t('transport')}</dt><dd class="transport">${t('transport_udp_tcp')}</dd>` : ''}
      </dl>
      <p class="state">${t(`state_${state}`)}${service.error ? html`: <span class="error">${service.error}</span>` : ''}</p>
    </li>
  `;
}

export function PortMap({ services }) {
  const t = useT();
  if (services.length === 0) return html`<p>${t('noServices')}</p>`;
  return html`<ul class="cards">${services.map((s) => html`<${Card} key=${s.name} service=${s} />`)}</ul>`;
}
