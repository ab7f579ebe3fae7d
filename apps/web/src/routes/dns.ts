import { isIPv4 } from 'node:net';
import type { LabConfig, UserStore } from '@portlab/config';
// The registry alone: @portlab/dns's index brings its DNS server and dns2, about 0.4 MB of heap the
// web app would hold for as long as it runs (issue #20, idle memory).
import { RegistrationError, ZoneRegistry } from '@portlab/dns/registry';
import type { LoginThrottle } from '@portlab/service';
import { plainAddress } from '@portlab/transcript';
import type { FastifyInstance } from 'fastify';

interface RegisterBody {
  user?: unknown;
  password?: unknown;
  name?: unknown;
}

/**
 * POST /api/dns/register `{"user", "password", "name": "pc07"}`: a student's lab enters the class
 * zone (apps/dns answers pc07.lab.test: A and MX). `portlab up --class-dns TEACHER --name pc07`
 * sends it at start. The rules (packages/dns registry.ts):
 *  - authenticated by a class account, checked as every login of the lab (LoginThrottle: a wrong
 *    password is answered 401 after a growing delay);
 *  - the address recorded is the request's source address, never one the request names: a lab
 *    registers only where it is, and cannot send a classmate's mail elsewhere;
 *  - an account registers one name, its own: the first it registers (403 for another, or for a
 *    name another account holds or the teacher listed).
 * Answers `{"name", "fqdn", "address"}`. JSON only, as POST /api/session: a form on another site
 * cannot post JSON without the browser asking first.
 */
export function dnsRoutes(
  app: FastifyInstance,
  config: LabConfig,
  users: UserStore,
  throttle: LoginThrottle,
): void {
  const registry = new ZoneRegistry(config.paths.dns);
  app.post<{ Body: RegisterBody }>('/api/dns/register', async (request, reply) => {
    const { user, password, name } = request.body ?? {};
    if (typeof user !== 'string' || typeof password !== 'string' || typeof name !== 'string' || user === '') {
      return reply.code(400).send({
        error: 'send {"user": "<account>", "password": "<its password>", "name": "<your lab, e.g. pc07>"}',
      });
    }
    const address = plainAddress(request.socket.remoteAddress, '?');
    const login = await throttle.authenticate(users, {
      name: user,
      password,
      domain: config.domain,
      address,
    });
    if (login.user === null) {
      return reply.code(401).send({
        error: `wrong user name or password (answered after ${login.waitedMs} ms; each failure from this address doubles the wait)`,
      });
    }
    if (!isIPv4(address)) {
      return reply
        .code(400)
        .send({ error: `the class zone holds IPv4 addresses; this request came from ${address}` });
    }
    try {
      const entry = registry.register(login.user, name.toLowerCase(), address);
      return { name: entry.name, fqdn: `${entry.name}.${config.dns.zone}`, address: entry.address };
    } catch (err) {
      if (!(err instanceof RegistrationError)) throw err;
      return reply.code(err.status).send({ error: err.message });
    }
  });
}
