import { accountName } from '@portlab/config';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type JsonObject, objectBody, optionalString, requiredString } from '../body.js';
import { badJson, forbidden, MatrixError, notFound } from '../errors.js';
import { accessToken, type Home } from '../home.js';
import { defaultPushRules } from '../push-rules.js';
import { newDeviceId } from '../tokens.js';

const V3 = '/_matrix/client/v3';

/**
 * Spec versions this server speaks (client-server API §"GET /_matrix/client/versions"). Clients
 * pick endpoints by them; v1.1 is the first "v3" path version.
 */
const VERSIONS = ['r0.6.1', 'v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6'];

/** The only room version this server makes and joins (room version 10: spec "Room versions"). */
export const ROOM_VERSION = '10';

/** Accounts: login and logout, who am I, what the server can do, filters, push rules, profiles. */
export function accountRoutes(app: FastifyInstance, home: Home): void {
  app.get('/_matrix/client/versions', async () => ({ versions: VERSIONS, unstable_features: {} }));

  // §"Login": GET lists the login types; the lab accounts log in with their password.
  app.get(`${V3}/login`, async () => ({ flows: [{ type: 'm.login.password' }] }));
  app.post(`${V3}/login`, async (request) => login(home, request));

  app.post(`${V3}/logout`, async (request) => {
    home.device(request);
    home.tokens.revoke(accessToken(request)!);
    return {};
  });

  app.post(`${V3}/logout/all`, async (request) => {
    const { user } = home.device(request);
    home.tokens.revokeAll(user);
    return {};
  });

  app.get(`${V3}/account/whoami`, async (request) => {
    const device = home.device(request);
    return { user_id: device.user, device_id: device.deviceId, is_guest: false };
  });

  app.get(`${V3}/capabilities`, async (request) => {
    home.device(request);
    return {
      capabilities: {
        // Passwords are the lab's (`portlab user`), not changed from a chat client.
        'm.change_password': { enabled: false },
        'm.room_versions': { default: ROOM_VERSION, available: { [ROOM_VERSION]: 'stable' } },
        'm.set_displayname': { enabled: true },
        'm.set_avatar_url': { enabled: false },
        'm.3pid_changes': { enabled: false },
      },
    };
  });

  app.get(`${V3}/pushrules/`, async (request) => {
    const { user } = home.device(request);
    return defaultPushRules(user, localpartOf(user));
  });

  // §"Filtering": a client stores a filter and names it by id in /sync. A user's filters are theirs.
  app.post<{ Params: { userId: string } }>(`${V3}/user/:userId/filter`, async (request) => {
    const { user } = home.device(request);
    if (request.params.userId !== user) throw forbidden('You can only make filters for your own account');
    const filter = objectBody(request.body);
    return { filter_id: home.userData.addFilter(user, filter) };
  });
  app.get<{ Params: { userId: string; filterId: string } }>(
    `${V3}/user/:userId/filter/:filterId`,
    async (request) => {
      const { user } = home.device(request);
      if (request.params.userId !== user) throw forbidden("You cannot read another user's filters");
      const filter = home.userData.filter(user, request.params.filterId);
      if (filter === undefined) throw notFound('No such filter');
      return filter;
    },
  );

  // §"Profiles": public to any logged-in user; the display name is set by its owner only.
  app.get<{ Params: { userId: string } }>(`${V3}/profile/:userId`, async (request) => {
    home.device(request);
    return { displayname: displayNameOf(home, request.params.userId) };
  });
  app.get<{ Params: { userId: string } }>(`${V3}/profile/:userId/displayname`, async (request) => {
    home.device(request);
    return { displayname: displayNameOf(home, request.params.userId) };
  });
  app.put<{ Params: { userId: string } }>(`${V3}/profile/:userId/displayname`, async (request) => {
    const { user } = home.device(request);
    if (request.params.userId !== user) throw forbidden("You cannot change another user's display name");
    const name = requiredString(objectBody(request.body), 'displayname');
    if (name.length > 256) throw badJson('displayname is longer than 256 characters');
    home.userData.setDisplayName(user, name);
    return {};
  });
}

function displayNameOf(home: Home, userId: string): string {
  if (!home.localAccount(userId)) throw notFound('No such user on this server');
  return home.userData.displayName(userId) ?? localpartOf(userId);
}

export function localpartOf(userId: string): string {
  return userId.slice(1).split(':')[0]!;
}

/**
 * POST /login, m.login.password (§"Password-based"): the user named by an m.id.user identifier (or the
 * legacy top-level `user`), as "alice" or "@alice:server". Wrong passwords cost the lab's growing delay
 * (packages/service LoginThrottle); a try while one for the same account and address is still being
 * answered gets M_LIMIT_EXCEEDED at once, with the time to wait (§"Rate limiting").
 */
async function login(home: Home, request: FastifyRequest) {
  const body = objectBody(request.body);
  const type = requiredString(body, 'type');
  if (type !== 'm.login.password') {
    throw new MatrixError(400, 'M_UNKNOWN', `Login type '${type}' is not supported: use m.login.password`);
  }
  const password = requiredString(body, 'password');
  const name = userOfLogin(home, body);
  const address = request.socket.remoteAddress ?? '';
  const account = accountName(name, home.config.domain) ?? name.toLowerCase();
  const key = home.throttle.keyOf(address, account);
  if (home.loginsInFlight.has(key)) {
    throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many login attempts: wait and try again', {
      retry_after_ms: home.throttle.delayFor(key),
    });
  }
  home.loginsInFlight.add(key);
  let result: Awaited<ReturnType<Home['throttle']['authenticate']>>;
  try {
    result = await home.throttle.authenticate(home.users, {
      name,
      password,
      domain: home.config.domain,
      address,
      transcript: request.transcriptSession,
    });
  } finally {
    home.loginsInFlight.delete(key);
  }
  if (!result.user) throw forbidden('Invalid username or password');
  const userId = home.userId(result.user);
  const deviceId = optionalString(body, 'device_id') ?? newDeviceId();
  const accessToken = home.tokens.issue(userId, deviceId);
  return { user_id: userId, access_token: accessToken, device_id: deviceId, home_server: home.serverName };
}

function userOfLogin(home: Home, body: JsonObject): string {
  const identifier = body.identifier;
  let user: string | undefined;
  if (identifier !== undefined) {
    if (!identifier || typeof identifier !== 'object') throw badJson("'identifier' must be an object");
    const id = identifier as JsonObject;
    if (id.type !== 'm.id.user') {
      throw new MatrixError(400, 'M_UNKNOWN', 'Only the m.id.user identifier is supported');
    }
    user = requiredString(id, 'user');
  } else {
    user = requiredString(body, 'user');
  }
  // "@alice:server" names alice only on this server; another server's user is no account here.
  if (user.startsWith('@')) {
    const [localpart, ...server] = user.slice(1).split(':');
    if (server.join(':') !== home.serverName) throw forbidden('Invalid username or password');
    return localpart!;
  }
  return user;
}
