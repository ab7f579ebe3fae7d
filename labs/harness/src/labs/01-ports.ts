/**
 * Lab 1 — ports: one machine offers several services, and the port number says which one a
 * client wants. The demo asks `portlab probe` who answers where, then speaks to a wrong port on
 * purpose; the exercise is a quiz on the well-known ports (IANA registry, RFC 6335).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type LabConfig, type ServiceName, serviceSpec, urlHost } from '@portlab/config';
import { HandTyped, REPLY } from '../clients/hand-typed.js';
import { type CheckItem, checkedUser, checkItem, type Lab } from '../lab.js';

/** The answers file's name, in the account's FTP folder ($DATA/files/<user>/). */
export const QUIZ_FILE = 'ports-quiz.txt';

/**
 * The quiz: each question names the service it is about first (IMAPS, not "IMAP (imaps)"), so a
 * student who knows IMAP is on 143 does not take the IMAPS question for the IMAP one. The
 * sentence reads after "n'est pas" / "is not" in the check's hint, so the hint says what is asked.
 */
export const QUIZ: {
  key: string;
  question: { fr: string; en: string };
  answer(config: LabConfig): number;
}[] = [
  ...(
    [
      ['http', 'HTTP — le web, en clair', 'HTTP — the web, in clear text'],
      [
        'https',
        'HTTPS — HTTP sur TLS (chiffré dès le premier octet)',
        'HTTPS — HTTP over TLS (encrypted from the first byte)',
      ],
      [
        'smtp',
        'SMTP — livraison du courrier entre serveurs (MX)',
        'SMTP — mail delivery between servers (MX)',
      ],
      [
        'submission',
        'SMTP submission — un client envoie un courrier après s’être identifié (AUTH)',
        'SMTP submission — a client sends a mail after logging in (AUTH)',
      ],
      [
        'imap',
        'IMAP — lire son courrier, qui reste sur le serveur (en clair, ou STARTTLS)',
        'IMAP — reading mail that stays on the server (clear text, or STARTTLS)',
      ],
      [
        'imaps',
        'IMAPS — IMAP sur TLS (TLS implicite : chiffré dès le premier octet)',
        'IMAPS — IMAP over TLS (implicit TLS: encrypted from the first byte)',
      ],
      ['pop3', 'POP3 — télécharger son courrier', 'POP3 — downloading mail'],
      ['ftp', 'FTP — la connexion de contrôle', 'FTP — the control connection'],
    ] as [ServiceName, string, string][]
  ).map(([s, fr, en]) => ({
    key: s,
    // French elides « de » before a vowel: « le port standard d’IMAPS ».
    question: {
      fr: `le port standard ${/^[AEIOU]/.test(fr) ? 'd’' : 'de '}${fr}`,
      en: `the standard port of ${en}`,
    },
    answer: () => serviceSpec(s).standardPort,
  })),
  {
    key: 'lab-imap',
    question: {
      fr: 'le port IMAP (pas IMAPS) de ce lab',
      en: 'the IMAP port (not IMAPS) of this lab',
    },
    answer: (config) => config.portOf('imap'),
  },
  {
    key: 'lab-ftp',
    question: { fr: 'le port FTP (contrôle) de ce lab', en: 'the FTP (control) port of this lab' },
    answer: (config) => config.portOf('ftp'),
  },
];

/** The answers file: one `key = port` per line; `#` starts a comment. */
export function parseAnswers(text: string): Map<string, string> {
  const answers = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^([a-z0-9-]+)\s*[=:]\s*(.*)$/i.exec(line);
    if (m) answers.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return answers;
}

export const portsLab: Lab = {
  id: '01',
  slug: 'ports',
  title: { fr: 'Les ports : un serveur, plusieurs services', en: 'Ports: one server, several services' },
  steps: [
    {
      title: { fr: 'Qui écoute sur quel port ?', en: 'Who listens on which port?' },
      intro: {
        fr: 'portlab probe frappe à chaque port du lab et nomme le protocole qui répond (sa bannière). Même machine, même adresse IP : seul le numéro de port change.',
        en: 'portlab probe knocks on every port of the lab and names the protocol that answers (its banner). Same machine, same IP address: only the port number changes.',
      },
      async run({ services }) {
        await services.portlab(['probe']);
      },
    },
    {
      title: { fr: 'Parler au mauvais port, exprès', en: 'Speaking to the wrong port, on purpose' },
      intro: {
        fr: 'On envoie une requête HTTP (langue du web) au port SMTP (langue du courrier). Le serveur SMTP ne comprend pas : il répond 421, un code d’erreur 4xx (« je ne peux pas continuer »), et raccroche. Le port choisit le service ; le protocole doit être le bon.',
        en: 'We send an HTTP request (the language of the web) to the SMTP port (the language of mail). The SMTP server does not understand it: it answers 421, a 4xx error code ("I cannot go on"), and hangs up. The port picks the service; the protocol must match.',
      },
      async run({ config, out, transcript }) {
        const smtp = await HandTyped.open(config, config.portOf('smtp'));
        out.command(`nc -C ${config.publicAddress} ${config.portOf('smtp')}`);
        out.say(await smtp.read(REPLY));
        out.say('GET / HTTP/1.1', 'cyan');
        out.say(await smtp.say('GET / HTTP/1.1', REPLY));
        smtp.type('QUIT');
        await smtp.read(REPLY).catch(() => '');
        smtp.close();
        await transcript.show(out);
        out.say({
          fr: "Et l'inverse : une commande SMTP au port HTTP. Le serveur web répond « 400 Bad Request ».",
          en: "And the other way round: an SMTP command to the HTTP port. The web server answers '400 Bad Request'.",
        });
        const http = await HandTyped.open(config, config.portOf('http'));
        out.command(`nc -C ${config.publicAddress} ${config.portOf('http')}`);
        out.say('EHLO me', 'cyan');
        http.type('EHLO me');
        out.say((await http.read(/HTTP\/1\.1 \d{3}[^\n]*\n/)).trim());
        http.close();
        await transcript.show(out);
      },
    },
    {
      title: { fr: 'Pourquoi 8000 de plus ?', en: 'Why 8000 more?' },
      intro: {
        fr: "Les ports standard sont sous 1024 : ce sont des ports « privilégiés » que seul l'administrateur (root) peut ouvrir. Le lab tourne comme un utilisateur ordinaire, il ajoute donc 8000 (25 → 8025). Les ports de 1024 et plus gardent leur numéro.",
        en: 'Standard ports are below 1024: they are "privileged" ports that only the administrator (root) may open. The lab runs as an ordinary user, so it adds 8000 (25 -> 8025). Ports of 1024 and above keep their number.',
      },
      async run({ config, out }) {
        const start = await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').catch(
          () => null,
        );
        if (start) {
          out.command('cat /proc/sys/net/ipv4/ip_unprivileged_port_start');
          out.say(`  ${start.trim()}`);
        }
        out.table(
          ['service', 'protocol', 'standard', 'lab'],
          config.services.map((s) => [s.name, s.protocol, s.standardPort, s.port]),
        );
      },
    },
  ],
  async check(config, options) {
    // In a class the answers are the student's file in their FTP folder, on the server, where the
    // check runs (`portlab check 01 --server`); --answers reads a file of this PC instead (solo).
    const user = checkedUser(options);
    const file = options.answers ?? path.join(config.paths.files, user, QUIZ_FILE);
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) {
      // The address students type (with host 0.0.0.0, the LAN address), never the one bound.
      const ftp = `ftp://${urlHost(config.publicAddress)}:${config.portOf('ftp')}/`;
      return [
        checkItem(
          'quiz-file',
          false,
          // Its text on the teacher's board and in `class export`'s CSV, done or not.
          { fr: `${QUIZ_FILE} trouvé`, en: `${QUIZ_FILE} found` },
          options.answers
            ? {
                fr: `impossible de lire ${file} : copiez labs/01-ports/${QUIZ_FILE} et remplissez-le`,
                en: `cannot read ${file}: copy labs/01-ports/${QUIZ_FILE} and fill it in`,
              }
            : {
                // As the sheet says (step 7): a copy in the student's work folder, not the template.
                fr: `pas encore de ${QUIZ_FILE} dans le dossier FTP de ${user} : copiez labs/01-ports/${QUIZ_FILE} dans votre dossier travail, remplissez-le et envoyez-le (curl -T ${QUIZ_FILE} ${ftp} -u ${user}, ou FileZilla)`,
                en: `no ${QUIZ_FILE} in ${user}'s FTP folder yet: copy labs/01-ports/${QUIZ_FILE} into your work folder, fill it in and upload it (curl -T ${QUIZ_FILE} ${ftp} -u ${user}, or FileZilla)`,
              },
        ),
      ];
    }
    const answers = parseAnswers(text);
    return QUIZ.map((q): CheckItem => {
      const given = answers.get(q.key);
      const right = given !== undefined && Number(given) === q.answer(config);
      return {
        id: q.key,
        ok: right,
        done: { fr: `${q.key} : juste`, en: `${q.key}: right` },
        todo:
          given === undefined || given === ''
            ? {
                fr: `${q.key} : pas encore de réponse (${q.question.fr} ?)`,
                en: `${q.key}: no answer yet (${q.question.en}?)`,
              }
            : {
                fr: `${q.key} : ${given} n'est pas ${q.question.fr}`,
                en: `${q.key}: ${given} is not ${q.question.en}`,
              },
      };
    });
  },
};
