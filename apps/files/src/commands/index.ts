import { active } from './active.js';
import { auth } from './auth.js';
import { feat } from './feat.js';
import { list, mlst } from './list.js';
import { passive } from './passive.js';
import { retr } from './retr.js';
import { stor } from './stor.js';
import type { CommandHandler } from './types.js';

/**
 * The commands this app answers itself; every other one goes to ftp-srv's own handler (CWD, PWD, MKD,
 * RMD, DELE, RNFR/RNTO, SIZE, MDTM, REST, TYPE, PBSZ/PROT, USER/PASS, QUIT…).
 * Why each is ours:
 * - RETR, STOR, APPE, LIST, NLST: the 150 reply before the data connection (transfer.ts), the Upload
 *   (nothing half-stored), 552 for the quota, 426 for a broken transfer; ftp-srv replies 550 to all
 *   and writes the target file in place.
 * - PASV, EPSV: our port range (passive-ports.ts) and the data connection in the transcript.
 * - PORT, EPRT: the data connection in the transcript, no privileged ports.
 * - AUTH: the switch to TLS without a byte read in clear after it (see auth.ts).
 * - MLSD, MLST (RFC 3659): missing from ftp-srv; FEAT, to announce them.
 * ftp-srv's own LIST and NLST, the few lines it had, are replaced by list.ts.
 */
export const COMMANDS = new Map<string, CommandHandler>([
  ['RETR', retr],
  ['STOR', stor],
  ['APPE', stor],
  ['PASV', passive],
  ['EPSV', passive],
  ['PORT', active],
  ['EPRT', active],
  ['LIST', list],
  ['NLST', list],
  ['MLSD', list],
  ['MLST', mlst],
  ['FEAT', feat],
  ['AUTH', auth],
]);

export type { CommandContext, CommandHandler } from './types.js';
