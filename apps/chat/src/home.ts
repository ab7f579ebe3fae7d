import type { LabConfig, UserStore } from '@portlab/config';
import type { LoginThrottle } from '@portlab/service';
import type { FastifyRequest } from 'fastify';
import { MatrixError } from './errors.js';
import { type Device, TokenStore } from './tokens.js';
import { UserData } from './user-data.js';

/**
 * One homeserver: what the HTTP (8008) and TLS (8448) servers share. Both ports serve the same users,
 * tokens and rooms: a client may log in on one and sync on the other.
 */
export class Home {
  readonly tokens: TokenStore;
  readonly userData: UserData;
  /** Logins under way, by throttle key: a flood of tries for one key is answered M_LIMIT_EXCEEDED. */
  readonly loginsInFlight = new Set<string>();

  constructor(
    readonly config: LabConfig,
    readonly users: UserStore,
    readonly throttle: LoginThrottle,
    /** The server name in every user and room id (server-server API §"Server names"). */
    readonly serverName: string,
  ) {
    this.tokens = new TokenStore(config.paths.chat);
    this.userData = new UserData(config.paths.chat);
  }

  userId(account: string): string {
    return `@${account}:${this.serverName}`;
  }

  /** The lab account of a local user id ("@alice:127.0.0.1:8448" → "alice"), else undefined. */
  localAccount(userId: string): string | undefined {
    const m = /^@([^:]+):(.+)$/.exec(userId);
    if (!m || m[2] !== this.serverName) return undefined;
    return this.users.find(m[1]!) ? m[1] : undefined;
  }

  /**
   * The device of the request's access token (client-server API §"Using access tokens"): the
   * Authorization: Bearer header, or the deprecated access_token query parameter.
   */
  device(request: FastifyRequest): Device {
    const token = accessToken(request);
    if (token === undefined) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    const device = this.tokens.find(token);
    // soft_logout false: the token is gone for good (logged out), the client must log in again.
    if (!device) {
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token', { soft_logout: false });
    }
    return device;
  }
}

export function accessToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    return m ? m[1] : undefined;
  }
  const query = (request.query as Record<string, unknown>).access_token;
  return typeof query === 'string' ? query : undefined;
}
