/**
 * @portlab/bittorrent speaks English: its words are protocol facts, written to the transcripts the
 * dashboard shows. Those that reach a student's screen through `portlab p2p` (why a peer left, what
 * a web seed is, why the tracker is out of reach) are put in the command's language here, at the
 * output. Words it does not know pass as they are.
 */
import { Torrent, WebSeed } from '@portlab/bittorrent';
import { type Lang, say } from './say.js';

/** Why a peer left ('peer-gone'), as a PeerWire or the Torrent closed the connection. */
export function reasonText(lang: Lang, reason: string): string {
  if (reason === Torrent.BOTH_COMPLETE)
    return say(lang, { fr: 'les deux ont tous les morceaux', en: reason });
  if (reason === 'connection closed') return say(lang, { fr: 'connexion fermée', en: reason });
  return reason;
}

/** A source's client column: the peer's software (its peer id: a name, not translated), or a web seed. */
export function clientText(lang: Lang, client: string): string {
  return client === WebSeed.CLIENT ? say(lang, { fr: 'source web (HTTP, BEP 19)', en: client }) : client;
}

/**
 * A tracker warning: "cannot reach the tracker at URL[ from ADDRESS]: WHY" (tracker/client.ts,
 * requestTracker), the one a student meets first (the lab is not running, or a firewall). WHY is the
 * system's own error (ECONNREFUSED…), kept as it is.
 */
export function trackerText(lang: Lang, message: string): string {
  const m = /^cannot reach the tracker at (\S+?)(?: from (\S+))?: ([\s\S]*)$/.exec(message);
  if (!m || lang === 'en') return message;
  const [, url, from, why] = m;
  return `impossible de joindre le tracker ${url}${from ? ` depuis ${from}` : ''} : ${why}`;
}
