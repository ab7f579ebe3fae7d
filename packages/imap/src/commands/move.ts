import { command, SELECTED } from './command.js';
import { parseCopy, transfer } from './copy.js';

/**
 * RFC 6851: MOVE set mailbox: COPY then EXPUNGE of the originals, in one step. The bytes only
 * change folder, so the quota never refuses it: a user at quota files mail away, or moves it to
 * Trash to make room (the store does not count the copies while the originals wait to go).
 */
export default command({
  name: 'MOVE',
  states: SELECTED,
  usage: 'MOVE message-set mailbox',
  uidForm: true,
  parse: parseCopy,
  run: ({ session, uid }, args) => transfer(session, uid, args, true),
});
