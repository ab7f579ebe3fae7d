import { command, SELECTED } from './command.js';
import { parseCopy, transfer } from './copy.js';

/** RFC 6851: MOVE set mailbox: COPY then EXPUNGE of the originals, in one step. */
export default command({
  name: 'MOVE',
  states: SELECTED,
  usage: 'MOVE message-set mailbox',
  uidForm: true,
  parse: parseCopy,
  run: ({ session, uid }, args) => transfer(session, uid, args, true),
});
