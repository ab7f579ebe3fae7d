import type { LabConfig, ServiceName } from '@portlab/config';
import type { FastifyInstance } from 'fastify';
import { escapeMarkup } from '../escape.js';

/**
 * Thunderbird autoconfiguration (clientConfig 1.1,
 * https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat): asked for an address,
 * Thunderbird fetches this file and learns which servers, ports and socket types to use. It asks
 * http://autoconfig.<domain>/mail/config-v1.1.xml and http://<domain>/.well-known/autoconfig/mail/…;
 * both paths are served, with this lab's public address (config.publicAddress: with host 0.0.0.0,
 * the address students type, not 0.0.0.0) and ports.
 */
const SOCKET: Record<'none' | 'starttls' | 'implicit', string> = {
  none: 'plain',
  starttls: 'STARTTLS',
  implicit: 'SSL',
};

export function autoconfigXml(config: LabConfig): string {
  const server = (direction: 'incoming' | 'outgoing', type: string, service: ServiceName) => {
    const spec = config.services.find((s) => s.name === service);
    return `    <${direction}Server type="${type}">
      <hostname>${escapeMarkup(config.publicAddress)}</hostname>
      <port>${config.portOf(service)}</port>
      <socketType>${SOCKET[spec?.tls ?? 'none']}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </${direction}Server>`;
  };
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${escapeMarkup(config.domain)}">
    <domain>${escapeMarkup(config.domain)}</domain>
    <displayName>portlab lab (${escapeMarkup(config.domain)})</displayName>
    <displayShortName>portlab</displayShortName>
${[
  server('incoming', 'imap', 'imap'),
  server('incoming', 'imap', 'imaps'),
  server('incoming', 'pop3', 'pop3'),
  server('incoming', 'pop3', 'pop3s'),
  server('outgoing', 'smtp', 'submission'),
  server('outgoing', 'smtp', 'smtps'),
].join('\n')}
  </emailProvider>
</clientConfig>
`;
}

export function autoconfigRoutes(app: FastifyInstance, config: LabConfig): void {
  const xml = autoconfigXml(config);
  for (const url of ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml']) {
    app.get(url, async (_request, reply) => reply.type('application/xml; charset=utf-8').send(xml));
  }
}
