import type { CommandHandler } from './types.js';

/**
 * FEAT (RFC 2389): what this server supports beyond RFC 959, so a client knows it may use MLSD, resume
 * with REST, or secure the session with AUTH TLS (RFC 4217) before sending a password.
 */
const FEATURES = [
  'AUTH TLS',
  'EPRT',
  'EPSV',
  'MDTM',
  'MLST type*;size*;modify*;',
  'PBSZ',
  'PROT',
  'REST STREAM',
  'SIZE',
  'UTF8',
];

export const feat: CommandHandler = {
  beforeLogin: true,
  run({ connection }) {
    const lines = FEATURES.map((f) => ({ raw: true, message: ` ${f}` }));
    return connection.reply(211, 'Extensions supported:', ...lines, 'End');
  },
};
