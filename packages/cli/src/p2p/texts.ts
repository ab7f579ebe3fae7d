/**
 * @portlab/bittorrent speaks English: its words are protocol facts, written to the transcripts the
 * dashboard shows. Those that reach a student's screen through `portlab p2p` (why a peer left, what
 * a web seed is, why the tracker is out of reach) are put in the command's language here, at the
 * output. Words it does not know pass as they are.
 */
import { explainStall, type StallFacts, Torrent, WebSeed } from '@portlab/bittorrent';
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

/** Why `portlab p2p get` stopped waiting, and what to check (stall.ts gives the facts and the English). */
export function stallText(lang: Lang, facts: StallFacts): string {
  if (lang === 'en') return explainStall(facts);
  const { seconds, trackerUrl, tracker, reached } = facts;
  const why =
    'answered' in tracker
      ? `le tracker ${trackerUrl} n'a pas encore répondu`
      : 'error' in tracker
        ? `le tracker ${trackerUrl} a mal répondu : ${tracker.error}`
        : reached.length > 0
          ? `des pairs ont été joints (${reached.join(', ')}) mais n'ont envoyé aucun morceau`
          : tracker.peers === 0
            ? `le tracker ${trackerUrl} ne connaît aucun autre pair de ce torrent`
            : `le tracker ${trackerUrl} a donné ${tracker.peers} pair(s), mais aucun n'a répondu`;
  return [
    `aucun morceau reçu en ${seconds} s : ${why}.`,
    'À vérifier :',
    `  - l'adresse du tracker : le lab tourne-t-il là ? (npx portlab ports ; le torrent s'annonce à ${trackerUrl})`,
    "  - les adresses et ports des pairs : le tracker doit donner l'adresse du lab (PORTLAB_HOST, --public-address), pas 127.0.0.1 pour un lab sur une autre adresse ;",
    '    un pair partage-t-il ce fichier ? (npx portlab p2p seed FICHIER, ou le pair résident sur 6881)',
    '  - un pare-feu entre les machines : TCP vers le tracker (6969) et vers les pairs (6881 et au-delà) doit passer.',
  ].join('\n');
}
