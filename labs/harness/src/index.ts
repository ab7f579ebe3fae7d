/**
 * @portlab/labs: the lab harness. `registerLabCommands` adds `portlab lab NN` (the scripted demo),
 * `portlab lab clients` (ready-made client settings) and `portlab check NN` (the exercise check).
 */

import { SOLO_USER } from './lab.js';

export { registerLabCommands } from './cli.js';
export { type AutoconfigServer, parseAutoconfig } from './clients/autoconfig.js';
// The hand-typed client, the INBOX and the transcript as the labs read them: also for the end-to-end tests (test/).
export { HandTyped, POP3_END, POP3_STATUS } from './clients/hand-typed.js';
export { commandLines, FILEZILLA_PROTOCOL, fileZillaSites, writeClientFiles } from './clients/lab-clients.js';
export { chooseLang, type Lang, type Text } from './i18n.js';
export type { CheckItem, CheckOptions, Lab } from './lab.js';
export { parseAnswers, QUIZ } from './labs/01-ports.js';
export { UPDATE_TORRENT_PATH } from './labs/06-uses.js';
export { findLab, LABS } from './labs/index.js';
export { inbox, type StoredMessage } from './maildir.js';
export { Printer, table } from './output.js';
// Lab 5's and 6's machinery (labs/harness/src/p2p/): its seams, unit-tested in test/labs/p2p-machinery.test.ts.
export { type AnnouncedPeer, announceFields, announcesOf } from './p2p/announces.js';
export { barChart, seederLabels, sourceRows } from './p2p/charts.js';
export { type Seeder, seedingLine, startSeeder } from './p2p/seeders.js';
export { makeFile, sha1Of } from './p2p/shared-file.js';
export { askPassword } from './password.js';
export { type CheckLine, checkLines, printCheck, runCheck, runDemo } from './runner.js';
export { renderSheet, type SheetSource, sheetSources, writeSheets } from './sheets.js';
export { readTranscript } from './transcript-file.js';
export { deliverWelcome, welcomeMessage } from './welcome.js';
export { SOLO_USER };
