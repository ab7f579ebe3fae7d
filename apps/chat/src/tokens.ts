import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { JsonFile } from './json-file.js';

/** One logged-in device (client-server API §"Login"): whose token it is, and the device it names. */
export interface Device {
  user: string;
  deviceId: string;
  createdAt: string;
}

/**
 * Access tokens, persisted so that a restart does not log every client out, and stored hashed
 * (SHA-256 of a 256-bit random token): reading $DATA/chat/tokens.json gives no one a token to use.
 */
export class TokenStore {
  private readonly file: JsonFile<Record<string, Device>>;

  constructor(dir: string) {
    this.file = new JsonFile(path.join(dir, 'tokens.json'), () => ({}));
  }

  issue(user: string, deviceId: string): string {
    const token = `mat_${randomBytes(32).toString('base64url')}`;
    this.file.update((all) => {
      // One token per device: logging in again on a device replaces its token (spec: "login").
      for (const [hash, d] of Object.entries(all)) {
        if (d.user === user && d.deviceId === deviceId) delete all[hash];
      }
      all[hashOf(token)] = { user, deviceId, createdAt: new Date().toISOString() };
    });
    return token;
  }

  find(token: string): Device | undefined {
    return this.file.data[hashOf(token)];
  }

  /** Logs every device of `user` out (POST /logout/all). */
  revokeAll(user: string): void {
    this.file.update((all) => {
      for (const [hash, d] of Object.entries(all)) if (d.user === user) delete all[hash];
    });
  }

  revoke(token: string): void {
    this.file.update((all) => {
      delete all[hashOf(token)];
    });
  }
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A device id when the client gives none: ten capital letters, as Synapse makes them. */
export function newDeviceId(): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return Array.from(randomBytes(10), (b) => letters[b % 26]).join('');
}
