/**
 * Real clients configured for this lab: a FileZilla Site Manager file to import (File > Import),
 * and ready-made curl and swaks command lines, all from the lab's config: its public address (the
 * one students type, config.publicAddress, never 0.0.0.0) and ports.
 * `portlab lab clients` prints them and writes the files to $DATA/clients/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type LabConfig, urlHost } from '@portlab/config';

const xmlEscape = (s: string) =>
  s.replace(/[<>&"']/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`);

/**
 * How FileZilla names the three ways to speak FTP: the `Protocol` of a site is its ServerProtocol
 * enum (FileZilla's src/include/server.h, whose values "never change", so that saved sites keep
 * their meaning). FileZilla has no separate encryption element: the protocol says it.
 */
export const FILEZILLA_PROTOCOL = {
  /** INSECURE_FTP: "Only use plain FTP (insecure)". */
  plain: 6,
  /** FTPES: "Require explicit FTP over TLS" (AUTH TLS on the FTP port, RFC 4217 §4). */
  explicit: 4,
  /** FTPS: "Require implicit FTP over TLS" (TLS from the first byte, on the ftps port). */
  implicit: 3,
} as const;

/**
 * FileZilla's Site Manager file, as its import (File > Import) and sitemanager.xml read it
 * (GetServer in FileZilla's src/commonui/xml_file.cpp): <FileZilla3><Servers>, a <Folder> whose
 * name is its text, then one <Server> per site with Host, Port (1-65535), Protocol, Type (0, the
 * default server type), Logontype, User and Name. Logontype 2 ("ask") makes FileZilla ask for the
 * password when connecting, so none is written here. PasvMode MODE_PASSIVE as the lab teaches.
 */
export function fileZillaSites(config: LabConfig, users: string[] = ['alice', 'bob']): string {
  const site = (user: string, name: string, service: 'ftp' | 'ftps', protocol: number) => `
      <Server>
        <Host>${xmlEscape(config.publicAddress)}</Host>
        <Port>${config.portOf(service)}</Port>
        <Protocol>${protocol}</Protocol>
        <Type>0</Type>
        <User>${xmlEscape(user)}</User>
        <Logontype>2</Logontype>
        <PasvMode>MODE_PASSIVE</PasvMode>
        <Name>${xmlEscape(name)}</Name>
      </Server>`;
  const servers = users.flatMap((u) => [
    site(u, `portlab ${u} (FTP)`, 'ftp', FILEZILLA_PROTOCOL.plain),
    site(u, `portlab ${u} (FTP + TLS)`, 'ftp', FILEZILLA_PROTOCOL.explicit),
    site(u, `portlab ${u} (FTPS)`, 'ftps', FILEZILLA_PROTOCOL.implicit),
  ]);
  return `<?xml version="1.0" encoding="UTF-8"?>
<FileZilla3>
  <Servers>
    <Folder expanded="1">portlab${servers.join('')}
    </Folder>
  </Servers>
</FileZilla3>
`;
}

/** curl and swaks lines for every service, with this lab's ports. */
export function commandLines(config: LabConfig, user: string, password: string): string[] {
  const h = urlHost(config.publicAddress);
  const p = (s: Parameters<LabConfig['portOf']>[0]) => config.portOf(s);
  const me = `${user}@${config.domain}`;
  const other = `${user === 'bob' ? 'alice' : 'bob'}@${config.domain}`;
  return [
    `curl http://${h}:${p('http')}/`,
    `curl -k https://${h}:${p('https')}/`,
    `curl -T index.html ftp://${h}:${p('ftp')}/public_html/ -u ${user}:${password}`,
    `curl --ssl-reqd -k -T index.html ftp://${h}:${p('ftp')}/public_html/ -u ${user}:${password}`,
    `curl ftp://${h}:${p('ftp')}/ -u ${user}:${password}`,
    `curl -C - -O ftp://${h}:${p('ftp')}/big.bin -u ${user}:${password}`,
    `curl pop3://${h}:${p('pop3')}/1 -u ${user}:${password}`,
    `curl imap://${h}:${p('imap')}/INBOX -u ${user}:${password}`,
    `curl smtp://${h}:${p('submission')} -u ${user}:${password} --mail-from ${me} --mail-rcpt ${other} -T mail.txt`,
    `swaks --server ${h}:${p('smtp')} --from ${me} --to ${other} --header 'Subject: hello'`,
    `swaks --server ${h}:${p('submission')} --tls --auth PLAIN --auth-user ${user} --auth-password ${password} --from ${me} --to ${other}`,
    `swaks --server ${h}:${p('smtps')} --tlsc --auth PLAIN --auth-user ${user} --auth-password ${password} --from ${me} --to ${other}`,
  ];
}

/** Writes $DATA/clients/filezilla-sites.xml and commands.txt; returns their paths. */
export async function writeClientFiles(config: LabConfig): Promise<string[]> {
  const dir = path.join(config.dataDir, 'clients');
  await mkdir(dir, { recursive: true });
  const sites = path.join(dir, 'filezilla-sites.xml');
  const commands = path.join(dir, 'commands.txt');
  await writeFile(sites, fileZillaSites(config));
  await writeFile(commands, `${commandLines(config, 'alice', 'wonderland').join('\n')}\n`);
  return [sites, commands];
}
