import path from 'node:path';
import { JsonFile } from './json-file.js';

/**
 * Per-user data a client stores on the server: sync filters (client-server API §"Filtering") and the
 * display name (§"Profiles"). Each user reads only their own: the routes check the token's user.
 */
export class UserData {
  private readonly filters: JsonFile<Record<string, unknown[]>>;
  private readonly profiles: JsonFile<Record<string, { displayname?: string }>>;

  constructor(dir: string) {
    this.filters = new JsonFile(path.join(dir, 'filters.json'), () => ({}));
    this.profiles = new JsonFile(path.join(dir, 'profiles.json'), () => ({}));
  }

  /** Stores a filter; its id is its index in the user's list (ids are opaque to clients). */
  addFilter(user: string, filter: unknown): string {
    let id = 0;
    this.filters.update((all) => {
      const list = all[user] ?? [];
      all[user] = list;
      id = list.push(filter) - 1;
    });
    return String(id);
  }

  filter(user: string, id: string): unknown {
    if (!/^\d+$/.test(id)) return undefined;
    return this.filters.data[user]?.[Number(id)];
  }

  displayName(user: string): string | undefined {
    return this.profiles.data[user]?.displayname;
  }

  setDisplayName(user: string, name: string): void {
    this.profiles.update((all) => {
      all[user] = { ...all[user], displayname: name };
    });
  }
}
