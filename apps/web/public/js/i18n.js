// The interface in English and French (the lab sheets come in both). A missing French string falls
// back to English, so a new key never shows up as a blank.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

const en = {
  title: 'Lab dashboard',
  home: 'Home page',
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'connection to the web server lost: reconnecting…',
  resumed: 'reconnected: the stream resumed where it stopped',
  gap: 'some events were too old to be sent again after the reconnection',
  otherLanguage: 'Français',
  otherLanguageName: 'Passer en français',
  projector: 'Projector mode',
  shortcuts: 'Keyboard shortcuts',
  close: 'Close',

  portMap: 'Services and ports',
  portMapIntro:
    'One machine, several services: a client chooses the service by the port number it connects to. A grey card is a stopped service.',
  labPort: 'lab port',
  standardPort: 'standard port',
  tls: 'TLS',
  tls_none: 'none',
  tls_starttls: 'STARTTLS, on the same port',
  tls_implicit: 'implicit, from the first byte',
  clients: 'clients now',
  state_listening: 'listening',
  state_stopped: 'stopped',
  state_failed: 'failed',
  noServices: 'Waiting for the list of services…',

  graph: 'Connections',
  graphIntro:
    'Each arrow goes from the side that connected (the client) to the side that listened (the server), labelled with the port. A client on this machine is named by its own port (:54321).',
  shapeNone: 'No connection open right now.',
  shapeStar: 'Client-server: clients connect to a server that listens. It draws a star.',
  shapeMesh: 'Peer-to-peer: {n} nodes both listen and connect. It draws a mesh.',
  graphLabel: '{nodes} nodes, {edges} connections',
  connectionsList: 'The connections as a list',
  fromSide: 'from (connected)',
  toSide: 'to (listened)',
  port: 'port',
  service: 'service',
  count: 'connections',
  moreClients: '+{n} more clients',
  process: 'process {tag}',

  swarm: 'Swarm (BitTorrent)',
  swarmSoon:
    'The piece bar of each torrent, coloured by the peer each piece came from, and the FTP versus peer-to-peer chart will appear here with the peer-to-peer lab.',

  transcript: 'Transcript',
  transcriptIntro: 'What the client (C:) and the server (S:) say to each other, line by line, on each port.',
  client: 'C: client',
  server: 'S: server',
  allServices: 'all services',
  allSessions: 'all sessions',
  filterService: 'Service',
  filterSession: 'Session',
  clearFilters: 'Clear filters',
  follow: 'Go to the latest',
  following: 'following the latest lines',
  paused: 'paused: {n} new lines below',
  counts: '{shown} lines shown, {kept} kept (at most {max})',
  decode: 'decode',
  hide: 'hide',
  decodedPlain: 'in clear: user “{user}”, password “{password}”',
  decodedPlainAuthz: 'in clear: acting as “{authz}”, user “{user}”, password “{password}”',
  decodedText: 'in clear: “{text}”',
  alreadyClear: 'this line was already in clear on the wire',
  credentials: 'credentials',
  tlsMark: 'TLS from here: what follows is encrypted on the wire',
  secure: 'encrypted (TLS)',
  opened: 'connection opened {from} → {to}',
  closed: 'connection closed {from} → {to}',
  serviceEvent: 'service {service} {state}',
  selectedLine: 'Selected line',
  noLine: 'Select a line (click, or the arrow keys in the list) to see it whole.',
  sessionOf: 'session {session}',
  onlySession: 'only this session',
  emptyTranscript: 'Nothing said yet. Connect a client to one of the ports above.',

  mail: 'Mailboxes',
  mailIntro: 'Each user’s Maildir as the mail server keeps it on disk ($DATA/mail/<user>/). Read only.',
  user: 'User',
  chooseUser: 'choose a user',
  folders: 'Folders',
  messages: 'Messages',
  unread: '{n} new',
  noMessages: 'No message in this folder.',
  fromH: 'From',
  toH: 'To',
  subject: 'Subject',
  date: 'Date',
  flags: 'Flags',
  rendered: 'Message',
  raw: 'Source',
  htmlNote: 'HTML is never rendered here: the page shows the text/plain part, or the raw source as text.',
  noText: 'This message has no text/plain part: see its source.',
  refresh: 'Refresh',
  truncated: 'Cut: only the start is shown.',
  files: 'Files',
  filesIntro: 'Each user’s FTP folder as it is on disk ($DATA/files/<user>/). Read only.',
  parent: 'Parent folder',
  binary: 'Binary file, {size} bytes: not shown as text.',
  emptyDir: 'Empty folder.',
  size: 'Size',
  name: 'Name',
  loading: 'loading…',

  keys: [
    ['?', 'go to this list'],
    ['1 … 6', 'go to: services, connections, transcript, mailboxes, files, swarm'],
    ['/', 'filter the transcript by service'],
    ['↑ ↓ PgUp PgDn Home End', 'move in the transcript (when it has the focus)'],
    ['Enter', 'decode the selected credentials line'],
    ['s', 'show only the session of the selected line'],
    ['f', 'go to the latest lines and follow them'],
    ['Esc', 'clear the transcript filters'],
    ['p', 'projector mode on or off'],
    ['l', 'switch language'],
    ['Tab', 'move between controls; the focused one has a thick blue outline'],
  ],
};

const fr = {
  title: 'Tableau de bord du labo',
  home: 'Page d’accueil',
  connecting: 'connexion…',
  live: 'en direct',
  reconnecting: 'connexion au serveur web perdue : reconnexion…',
  resumed: 'reconnecté : le flux a repris là où il s’était arrêté',
  gap: 'après la reconnexion, certains événements trop anciens n’ont pas pu être renvoyés',
  otherLanguage: 'English',
  otherLanguageName: 'Switch to English',
  projector: 'Mode projecteur',
  shortcuts: 'Raccourcis clavier',
  close: 'Fermer',

  portMap: 'Services et ports',
  portMapIntro:
    'Une machine, plusieurs services : le client choisit le service par le numéro de port auquel il se connecte. Une carte grise est un service arrêté.',
  labPort: 'port du labo',
  standardPort: 'port standard',
  tls_none: 'aucun',
  tls_starttls: 'STARTTLS, sur le même port',
  tls_implicit: 'implicite, dès le premier octet',
  clients: 'clients connectés',
  state_listening: 'en écoute',
  state_stopped: 'arrêté',
  state_failed: 'en échec',
  noServices: 'En attente de la liste des services…',

  graph: 'Connexions',
  graphIntro:
    'Chaque flèche va du côté qui s’est connecté (le client) vers le côté qui écoutait (le serveur), avec le numéro de port. Un client sur cette machine est désigné par son propre port (:54321).',
  shapeNone: 'Aucune connexion ouverte en ce moment.',
  shapeStar: 'Client-serveur : les clients se connectent à un serveur qui écoute. Cela dessine une étoile.',
  shapeMesh: 'Pair-à-pair : {n} nœuds écoutent et se connectent à la fois. Cela dessine un maillage.',
  graphLabel: '{nodes} nœuds, {edges} connexions',
  connectionsList: 'Les connexions sous forme de liste',
  fromSide: 'de (s’est connecté)',
  toSide: 'vers (écoutait)',
  count: 'connexions',
  moreClients: '+{n} autres clients',
  process: 'processus {tag}',

  swarm: 'Essaim (BitTorrent)',
  swarmSoon:
    'La barre des pièces de chaque torrent, colorée selon le pair d’où vient chaque pièce, et le graphique FTP contre pair-à-pair apparaîtront ici avec le labo pair-à-pair.',

  transcript: 'Transcription',
  transcriptIntro: 'Ce que se disent le client (C:) et le serveur (S:), ligne par ligne, sur chaque port.',
  allServices: 'tous les services',
  allSessions: 'toutes les sessions',
  filterSession: 'Session',
  clearFilters: 'Effacer les filtres',
  follow: 'Aller aux dernières lignes',
  following: 'suit les dernières lignes',
  paused: 'en pause : {n} nouvelles lignes plus bas',
  counts: '{shown} lignes affichées, {kept} gardées (au plus {max})',
  decode: 'décoder',
  hide: 'masquer',
  decodedPlain: 'en clair : utilisateur « {user} », mot de passe « {password} »',
  decodedPlainAuthz:
    'en clair : pour le compte de « {authz} », utilisateur « {user} », mot de passe « {password} »',
  decodedText: 'en clair : « {text} »',
  alreadyClear: 'cette ligne circulait déjà en clair sur le réseau',
  credentials: 'identifiants',
  tlsMark: 'TLS à partir d’ici : la suite est chiffrée sur le réseau',
  secure: 'chiffré (TLS)',
  opened: 'connexion ouverte {from} → {to}',
  closed: 'connexion fermée {from} → {to}',
  serviceEvent: 'service {service} {state}',
  selectedLine: 'Ligne choisie',
  noLine: 'Choisissez une ligne (clic, ou les flèches dans la liste) pour la voir en entier.',
  onlySession: 'seulement cette session',
  emptyTranscript: 'Rien n’a encore été dit. Connectez un client à l’un des ports ci-dessus.',

  mail: 'Boîtes aux lettres',
  mailIntro:
    'Le Maildir de chaque utilisateur, tel que le serveur de courrier le garde sur le disque ($DATA/mail/<utilisateur>/). Lecture seule.',
  user: 'Utilisateur',
  chooseUser: 'choisir un utilisateur',
  folders: 'Dossiers',
  unread: '{n} nouveaux',
  noMessages: 'Aucun message dans ce dossier.',
  fromH: 'De',
  toH: 'À',
  subject: 'Objet',
  flags: 'Drapeaux',
  raw: 'Source',
  htmlNote:
    'Le HTML n’est jamais affiché ici : la page montre la partie text/plain, ou la source brute en texte.',
  noText: 'Ce message n’a pas de partie text/plain : voir sa source.',
  refresh: 'Actualiser',
  truncated: 'Coupé : seul le début est affiché.',
  files: 'Fichiers',
  filesIntro:
    'Le dossier FTP de chaque utilisateur, tel qu’il est sur le disque ($DATA/files/<utilisateur>/). Lecture seule.',
  parent: 'Dossier parent',
  binary: 'Fichier binaire de {size} octets : non affiché en texte.',
  emptyDir: 'Dossier vide.',
  size: 'Taille',
  name: 'Nom',
  loading: 'chargement…',

  keys: [
    ['?', 'aller à cette liste'],
    ['1 … 6', 'aller à : services, connexions, transcription, boîtes aux lettres, fichiers, essaim'],
    ['/', 'filtrer la transcription par service'],
    ['↑ ↓ PgUp PgDn Début Fin', 'se déplacer dans la transcription (quand elle a le focus)'],
    ['Entrée', 'décoder la ligne d’identifiants choisie'],
    ['s', 'n’afficher que la session de la ligne choisie'],
    ['f', 'aller aux dernières lignes et les suivre'],
    ['Échap', 'effacer les filtres de la transcription'],
    ['p', 'mode projecteur ou non'],
    ['l', 'changer de langue'],
    ['Tab', 'passer d’une commande à l’autre ; celle qui a le focus a un épais contour bleu'],
  ],
};

const STRINGS = { en, fr };

export function defaultLanguage(navigatorLanguage) {
  return (navigatorLanguage ?? '').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

/** t('paused', { n: 3 }): the string in the current language with its {placeholders} filled. */
export function translator(lang) {
  const strings = STRINGS[lang] ?? en;
  return (key, vars = {}) => {
    const text = strings[key] ?? en[key] ?? key;
    return typeof text === 'string'
      ? text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''))
      : text;
  };
}

export const I18n = createContext(translator('en'));
export const useT = () => useContext(I18n);
