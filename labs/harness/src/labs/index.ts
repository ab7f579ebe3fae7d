import type { Lab } from '../lab.js';
import { portsLab } from './01-ports.js';
import { mailLab } from './02-mail.js';
import { filesLab } from './03-files.js';
import { webLab } from './04-web.js';
import { p2pLab } from './05-p2p.js';
import { usesLab } from './06-uses.js';
import { chatLab } from './07-chat.js';
import { chainLab } from './08-chain.js';

/** The labs in their order; `portlab lab 2`, `lab 02` and `lab mail` name the same one. */
export const LABS: readonly Lab[] = [portsLab, mailLab, filesLab, webLab, p2pLab, usesLab, chatLab, chainLab];

export function findLab(name: string): Lab {
  const wanted = /^\d+$/.test(name) ? name.padStart(2, '0') : name.toLowerCase();
  const lab = LABS.find((l) => l.id === wanted || l.slug === wanted);
  if (!lab) {
    throw new Error(`no lab '${name}': choose one of ${LABS.map((l) => `${l.id} (${l.slug})`).join(', ')}`);
  }
  return lab;
}
