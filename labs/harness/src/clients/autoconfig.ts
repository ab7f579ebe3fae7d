/**
 * Reads a Thunderbird autoconfig file (clientConfig 1.1,
 * https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat) as Thunderbird does:
 * the servers it lists, each with its host, port and socket type. Lab 2 configures a real client
 * from nothing else.
 */
export interface AutoconfigServer {
  direction: 'incoming' | 'outgoing';
  type: string;
  hostname: string;
  port: number;
  /** plain, STARTTLS or SSL (implicit TLS). */
  socketType: string;
  username: string;
}

export function parseAutoconfig(xml: string, email: string): AutoconfigServer[] {
  const [local = '', domain = ''] = email.split('@');
  const servers: AutoconfigServer[] = [];
  for (const m of xml.matchAll(/<(incoming|outgoing)Server type="([a-z0-9]+)">([\s\S]*?)<\/\1Server>/g)) {
    const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(m[3]!)?.[1] ?? '';
    servers.push({
      direction: m[1] as 'incoming' | 'outgoing',
      type: m[2]!,
      hostname: field('hostname'),
      port: Number(field('port')),
      socketType: field('socketType'),
      // The placeholders Thunderbird fills in from the address the user typed.
      username: field('username')
        .replace('%EMAILADDRESS%', email)
        .replace('%EMAILLOCALPART%', local)
        .replace('%EMAILDOMAIN%', domain),
    });
  }
  return servers;
}
