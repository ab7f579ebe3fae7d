import append from './append.js';
import authenticate from './authenticate.js';
import capability from './capability.js';
import check from './check.js';
import close from './close.js';
import type { Command } from './command.js';
import copy from './copy.js';
import create from './create.js';
import del from './delete.js';
import enable from './enable.js';
import examine from './examine.js';
import expunge from './expunge.js';
import fetch from './fetch.js';
import id from './id.js';
import idle from './idle.js';
import list from './list.js';
import login from './login.js';
import logout from './logout.js';
import lsub from './lsub.js';
import move from './move.js';
import namespace from './namespace.js';
import noop from './noop.js';
import rename from './rename.js';
import search from './search.js';
import select from './select.js';
import starttls from './starttls.js';
import status from './status.js';
import store from './store.js';
import subscribe from './subscribe.js';
import unselect from './unselect.js';
import unsubscribe from './unsubscribe.js';

/** Every command this server knows, by name: the session looks a command up here. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  (
    [
      capability,
      noop,
      logout,
      starttls,
      authenticate,
      login,
      select,
      examine,
      create,
      del,
      rename,
      subscribe,
      unsubscribe,
      list,
      lsub,
      status,
      append,
      check,
      close,
      expunge,
      search,
      fetch,
      store,
      copy,
      move,
      idle,
      namespace,
      id,
      unselect,
      enable,
    ] as Command<unknown>[]
  ).map((c) => [c.name, c]),
);
