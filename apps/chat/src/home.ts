import path from 'node:path';
import type { LabConfig, UserStore } from '@portlab/config';
import { loadOrCreateSigningKey, type SigningKey } from '@portlab/matrix';
import type { LoginThrottle } from '@portlab/service';
import type { FastifyRequest } from 'fastify';
import { MatrixError, notFound } from './errors.js';
import { Federation } from './federation/federation.js';
import { RoomService } from './rooms/room-service.js';
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
  /** The server-server API's side (src/federation): keys, outbound queue, remote joins. */
  federation: Federation | undefined;

  private constructor(
    readonly config: LabConfig,
    readonly users: UserStore,
    readonly throttle: LoginThrottle,
    /** The server name in every user and room id (server-server API §"Server names"). */
    readonly serverName: string,
    /** This server's ed25519 key: it signs every event made here ($DATA/chat/signing.key). */
    readonly signingKey: SigningKey,
    readonly rooms: RoomService,
  ) {
    this.tokens = new TokenStore(config.paths.chat);
    this.userData = new UserData(config.paths.chat);
  }

  /** Loads the server's key, tokens and every room log under $DATA/chat. */
  static async open(
    config: LabConfig,
    users: UserStore,
    throttle: LoginThrottle,
    serverName: string,
  ): Promise<Home> {
    const dir = config.paths.chat;
    const key = await loadOrCreateSigningKey(path.join(dir, 'signing.key'));
    const rooms = await RoomService.open(dir, serverName, key);
    const home = new Home(config, users, throttle, serverName, key, rooms);
    home.federation = await Federation.open({
      dir,
      serverName,
      key,
      publicAddress: config.publicAddress,
      rooms,
    });
    rooms.onLocalEvent = (event) => home.federation?.fanOut(event);
    return home;
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
   * A user id a client names (to invite): one of this server's accounts, or any user of another
   * server (federation: its server says at invite time whether the user exists).
   */
  checkUserId(userId: string): void {
    const m = /^@([^:]+):(.+)$/.exec(userId);
    if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', `'${userId}' is not a user id (@name:server)`);
    if (m[2] !== this.serverName) return;
    if (!this.localAccount(userId)) throw notFound(`No user ${userId} on this server`);
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
