import { AUTHENTICATED, command, no, ok, refuseName } from './command.js';

/**
 * RFC 3501 §6.3.5: RENAME old new, with the mailboxes under it. Renaming INBOX is special: its
 * messages move to the new mailbox and INBOX stays, empty.
 */
export default command({
  name: 'RENAME',
  states: AUTHENTICATED,
  usage: 'RENAME mailbox new-name',
  parse(args) {
    const from = args.astring('mailbox');
    const to = args.astring('new name');
    args.end();
    return { from, to };
  },
  async run({ session }, { from, to }) {
    const refused = refuseName(from) ?? refuseName(to);
    if (refused) return refused;
    const mailbox = session.mailbox!;
    const names = (await mailbox.listFolders()).map((f) => f.name);
    if (to.toUpperCase() === 'INBOX' || names.includes(to))
      return no(`mailbox ${to} already exists`, 'ALREADYEXISTS');
    if (from.toUpperCase() === 'INBOX') {
      await mailbox.createFolder(to);
      const inbox = (await mailbox.folder('INBOX'))!;
      const uids = (await inbox.messages()).map((m) => m.uid);
      if (uids.length) await inbox.moveTo(uids, (await mailbox.folder(to))!);
      return ok('RENAME completed: the messages of INBOX moved');
    }
    if (!names.includes(from)) return no(`no mailbox ${from}`, 'NONEXISTENT');
    if (session.selected?.name === from) session.deselect();
    await mailbox.renameFolder(from, to);
    return ok('RENAME completed');
  },
});
