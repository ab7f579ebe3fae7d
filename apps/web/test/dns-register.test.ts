import { request } from 'node:http';
import { type LabConfig, loadConfig, UserStore } from '@portlab/config';
import { ZoneRegistry } from '@portlab/dns';
import { LoginThrottle } from '@portlab/service';
import { type TempLab, tempLab } from '@portlab/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsRoutes } from '../src/routes/dns.js';

let lab: TempLab;
let config: LabConfig;
let web: FastifyInstance;
let registry: ZoneRegistry;

/** POST /api/dns/register from a chosen loopback address (127.0.0.N: each a student PC). */
function register(from: string, body: object): Promise<{ status: number; body: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    request(
      {
        host: '127.0.0.1',
        port: lab.ports.http,
        localAddress: from,
        method: 'POST',
        path: '/api/dns/register',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    )
      .on('error', reject)
      .end(data);
  });
}

const addressOf = (name: string) => registry.list().find((e) => e.name === name)?.address;

beforeAll(async () => {
  lab = await tempLab();
  config = loadConfig({ file: lab.configFile, env: {} });
  const users = new UserStore(config.paths.users);
  await users.ensure();
  await users.setMany([
    { name: 'e07', password: 'kafu-rime-47', role: 'student' },
    { name: 'e08', password: 'lome-tiva-12', role: 'student' },
  ]);
  registry = new ZoneRegistry(config.paths.dns);
  web = Fastify();
  dnsRoutes(web, config, users, new LoginThrottle({ baseDelayMs: 10, maxDelayMs: 20 }));
  await web.listen({ port: lab.ports.http, host: '127.0.0.1' });
});

afterAll(async () => {
  await web.close();
  lab.cleanup();
});

describe('POST /api/dns/register: a lab enters the class zone', () => {
  it('records the name at the source address of the request, never one the body names', async () => {
    const res = await register('127.0.0.7', {
      user: 'e07',
      password: 'kafu-rime-47',
      name: 'PC07',
      address: '10.9.9.9',
    });
    expect(res).toEqual({
      status: 200,
      body: { name: 'pc07', fqdn: 'pc07.lab.test', address: '127.0.0.7' },
    });
    expect(registry.list()).toMatchObject([{ name: 'pc07', address: '127.0.0.7', account: 'e07' }]);
  });

  it('refuses a wrong password (401), and records nothing', async () => {
    const res = await register('127.0.0.8', { user: 'e08', password: 'wrong', name: 'pc08' });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/wrong user name or password/);
    expect(addressOf('pc08')).toBeUndefined();
  });

  it("refuses another lab's name (403): e08 cannot take pc07 from e07", async () => {
    const res = await register('127.0.0.8', { user: 'e08', password: 'lome-tiva-12', name: 'pc07' });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/another lab's name/);
    expect(addressOf('pc07')).toBe('127.0.0.7');
  });

  it('binds an account to its first name: e07 cannot register a second one, but may move its own', async () => {
    const second = await register('127.0.0.7', { user: 'e07', password: 'kafu-rime-47', name: 'pc09' });
    expect(second.status).toBe(403);
    expect(second.body.error).toMatch(/already registered the lab 'pc07'/);
    const moved = await register('127.0.0.17', { user: 'e07', password: 'kafu-rime-47', name: 'pc07' });
    expect(moved.body.address).toBe('127.0.0.17');
    expect(addressOf('pc07')).toBe('127.0.0.17');
  });

  it('refuses a name the teacher listed, and names that are no DNS label (400)', async () => {
    registry.add('pc10', '192.168.1.60');
    const listed = await register('127.0.0.8', { user: 'e08', password: 'lome-tiva-12', name: 'pc10' });
    expect(listed.status).toBe(403);
    expect(listed.body.error).toMatch(/listed by the teacher/);
    for (const name of ['pc08.lab.test', '-pc08', 'ns', 'a'.repeat(64), '']) {
      const bad = await register('127.0.0.8', { user: 'e08', password: 'lome-tiva-12', name });
      expect(bad.status).toBe(400);
    }
    const ok = await register('127.0.0.8', { user: 'e08', password: 'lome-tiva-12', name: 'pc08' });
    expect(ok.body).toEqual({ name: 'pc08', fqdn: 'pc08.lab.test', address: '127.0.0.8' });
  });
});
