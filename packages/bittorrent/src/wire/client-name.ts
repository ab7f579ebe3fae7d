/**
 * A client's name from its peer_id, as a swarm's other peers (and anyone watching it) read it.
 * BEP 20 lists the conventions; the common one is Azureus-style: '-', two letters naming the client,
 * four version characters, '-', then random bytes ("-TR3000-…" is Transmission 3.00). aria2 writes
 * "A2-1-36-0-…" (its version in dashes). A peer_id is whatever the client chooses to send: this is
 * what it says it is, not proof.
 */

/** Azureus-style client codes (BEP 20 and the clients' own sources), the ones a lab meets. */
const AZUREUS_CODES: Record<string, string> = {
  PL: 'portlab',
  PW: 'portlab watch',
  TR: 'Transmission',
  qB: 'qBittorrent',
  UT: 'µTorrent',
  UM: 'µTorrent Mac',
  LT: 'libtorrent (Rasterbar)',
  lt: 'libTorrent (rakshasa)',
  DE: 'Deluge',
  AZ: 'Azureus/Vuze',
  BI: 'BiglyBT',
  KT: 'KTorrent',
  WW: 'WebTorrent',
  BT: 'BitTorrent (mainline)',
};

/** The version characters of an Azureus-style id, as the client numbers its releases. */
function azureusVersion(code: string, v: string): string {
  // Transmission 1.x-3.x: "3000" is 3.00; from 4.0 on, "4050" is 4.0.5 (its libtransmission/version.h).
  if (code === 'TR' && Number(v[0]) < 4) return `${v[0]}.${v.slice(1, 3)}`;
  const digits = [...v.replace(/-+$/, '')].map((c) => (/\d/.test(c) ? c : String(c.charCodeAt(0) - 55)));
  while (digits.length > 2 && digits.at(-1) === '0') digits.pop();
  return digits.join('.');
}

/** "Transmission 3.00", "aria2 1.36.0", "portlab 0.1", or the printable tag of an unknown id. */
export function clientName(peerId: Buffer): string {
  const text = peerId.toString('latin1');
  const azureus = /^-([A-Za-z~]{2})([0-9A-Za-z]{4})-/.exec(text);
  if (azureus) {
    const [, code, version] = azureus as unknown as [string, string, string];
    const name = AZUREUS_CODES[code];
    return name ? `${name} ${azureusVersion(code, version)}` : `-${code}${version}-`;
  }
  // aria2 (src/PeerStorage and util::makePeerId): "A2-" major "-" minor "-" patch "-".
  const aria2 = /^A2-(\d+)-(\d+)-(\d+)-/.exec(text);
  if (aria2) return `aria2 ${aria2[1]}.${aria2[2]}.${aria2[3]}`;
  if (text.startsWith('-aria2-')) return 'aria2';
  // Unknown: its printable beginning, as a person would copy it into a search engine.
  const tag = /^[!-~]*/.exec(text)![0];
  return tag.length > 0 ? tag.slice(0, 20) : `0x${peerId.subarray(0, 8).toString('hex')}`;
}
