// The class board's words, in English and French (the dashboard's own are in i18n.js). The language
// is the dashboard's choice, kept in this browser (prefs.js, `lang`): one switch for both pages.

const en = {
  title: 'Class board',
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'connection to the web server lost: reconnecting…',
  otherLanguage: 'Français',
  otherLanguageName: 'Passer en français',
  projector: 'Projector mode',
  projectorOff: 'Leave projector mode',
  cards: 'Credential cards (print)',
  dashboard: 'Lab dashboard',
  home: 'Home page',
  students: '{n} students',
  connectedNow: '{n} connected now',
  finished: '{n} of {total} finished',
  student: 'Student',
  connected: 'Connected now',
  notConnected: '—',
  since: '{service} since {time}, from {peer}',
  pending: 'not checked yet',
  checkFailed: 'the check could not run: {error}',
  done: 'done',
  notYet: 'not yet',
  noStudents:
    'No students yet. Make the class with: portlab class create --students 30 (the board finds them at once).',
  intro:
    'Each mark is one item of a lab’s check (portlab check NN), run on the server for each student from what their account did: ✔ done, ✘ not yet. Hover a mark for what it says.',
  updated: 'updated {time}',
  cost: 'checks of {n} students took {ms} ms',
};

const fr = {
  title: 'Tableau de la classe',
  connecting: 'connexion…',
  live: 'en direct',
  reconnecting: 'connexion au serveur web perdue : reconnexion…',
  otherLanguage: 'English',
  otherLanguageName: 'Switch to English',
  projector: 'Mode projecteur',
  projectorOff: 'Quitter le mode projecteur',
  cards: 'Cartes d’identifiants (impression)',
  dashboard: 'Tableau de bord du TP',
  home: 'Page d’accueil',
  students: '{n} élèves',
  connectedNow: '{n} connectés en ce moment',
  finished: '{n} sur {total} ont fini',
  student: 'Élève',
  connected: 'Connecté à',
  notConnected: '—',
  since: '{service} depuis {time}, depuis {peer}',
  pending: 'pas encore vérifié',
  checkFailed: 'la vérification n’a pas pu se faire : {error}',
  done: 'fait',
  notYet: 'pas encore',
  noStudents:
    'Pas encore d’élèves. Créez la classe avec : portlab class create --students 30 (le tableau les trouve aussitôt).',
  intro:
    'Chaque marque est un point de la vérification d’un TP (portlab check NN), faite sur le serveur pour chaque élève d’après ce qu’a fait son compte : ✔ fait, ✘ pas encore. Survolez une marque pour lire ce qu’elle dit.',
  updated: 'mis à jour à {time}',
  cost: 'vérifier {n} élèves a pris {ms} ms',
};

const STRINGS = { en, fr };

export function defaultLanguage(navigatorLanguage) {
  return (navigatorLanguage ?? '').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

/** t('students', { n: 30 }): the string in `lang` with its {placeholders} filled. */
export function translator(lang) {
  const strings = STRINGS[lang] ?? en;
  return (key, vars = {}) =>
    (strings[key] ?? en[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}
