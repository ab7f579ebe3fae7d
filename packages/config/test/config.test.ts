import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  classDnsServer,
  labPort,
  loadConfig,
  loopbackApiHost,
  releaseConfigSchema,
} from '../src/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-config-'));
function file(content: unknown): string {
  const f = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('the port rule', () => {
  it('adds the offset below 1024 and keeps ports of 1024 and above', () => {
    expect(labPort(25, 8000)).toBe(8025);
    expect(labPort(993, 8000)).toBe(8993);
    expect(labPort(1023, 8000)).toBe(9023);
    expect(labPort(1024, 8000)).toBe(1024);
    expect(labPort(6969, 8000)).toBe(6969);
    expect(labPort(80, 0)).toBe(80);
  });

  it('gives every service its lab port, and explicit ports win', () => {
    const c = loadConfig({ file: file({ portOffset: 10000, ports: { https: 9443 } }), env: {} });
    expect(c.portOf('smtp')).toBe(10025);
    expect(c.portOf('http')).toBe(10080);
    expect(c.portOf('https')).toBe(9443);
    expect(c.portOf('tracker')).toBe(6969);
  });
});

describe('loading the config', () => {
  it('works with an empty config: loopback, offset 8000, lab.test', () => {
    const c = loadConfig({ file: file({}), env: {} });
    expect(c.host).toBe('127.0.0.1');
    expect(c.portOffset).toBe(8000);
    expect(c.domain).toBe('lab.test');
    expect(c.services.find((s) => s.name === 'http')?.port).toBe(8080);
  });

  it('names a misspelt key', () => {
    const err = errorOf(() => loadConfig({ file: file({ portOfset: 1 }), env: {} }));
    expect(err.key).toBe('portOfset');
    expect(err.message).toMatch(/unknown key/);
  });

  it('names a nested bad value and says why', () => {
    const err = errorOf(() => loadConfig({ file: file({ ports: { http: 70000 } }), env: {} }));
    expect(err.key).toBe('ports.http');
    expect(err.reason).toMatch(/65535/);
    expect(errorOf(() => loadConfig({ file: file({ ports: { htp: 1 } }), env: {} })).key).toBe('ports.htp');
    expect(errorOf(() => loadConfig({ file: file({ host: 'not a host' }), env: {} })).key).toBe('host');
  });

  it('refuses two services on one port, naming the key that was set', () => {
    const err = errorOf(() => loadConfig({ file: file({ ports: { smtp: 8080 } }), env: {} }));
    expect(err.key).toBe('ports.smtp');
    expect(err.reason).toMatch(/also the port of 'http'/);
  });

  it('says when the file is not JSON, or not an object', () => {
    expect(errorOf(() => loadConfig({ file: file('{ "host": '), env: {} })).reason).toMatch(/not valid JSON/);
    expect(errorOf(() => loadConfig({ file: file('[1]'), env: {} })).reason).toMatch(/JSON object/);
  });

  it('fails when a config file named explicitly does not exist', () => {
    expect(
      errorOf(() => loadConfig({ file: path.join(dir, 'nope.json'), env: { PORTLAB_CONFIG: 'x' } })).reason,
    ).toMatch(/cannot read/);
    expect(
      errorOf(() => loadConfig({ env: { PORTLAB_CONFIG: path.join(dir, 'nope.json') } })).reason,
    ).toMatch(/cannot read/);
  });

  it('takes PORTLAB_* overrides from the environment, validated like the file', () => {
    const c = loadConfig({
      file: file({}),
      env: { PORTLAB_PORT_OFFSET: '9000', PORTLAB_HOST: '127.0.0.2', PORTLAB_DATA_DIR: '/tmp/x-data' },
    });
    expect(c.portOf('imap')).toBe(9143);
    expect(c.host).toBe('127.0.0.2');
    expect(c.dataDir).toBe('/tmp/x-data');
    expect(c.paths.users).toBe('/tmp/x-data/users.json');
    const err = errorOf(() => loadConfig({ file: file({}), env: { PORTLAB_PORT_OFFSET: 'lots' } }));
    expect(err.key).toBe('PORTLAB_PORT_OFFSET');
    expect(errorOf(() => loadConfig({ file: file({}), env: { PORTLAB_PORT_OFFSET: '70000' } })).key).toBe(
      'PORTLAB_PORT_OFFSET',
    );
  });
});

describe('the public address (what every handed-out address names)', () => {
  // Interfaces as os.networkInterfaces() lists them: loopback first, as Linux does.
  const lo = {
    address: '127.0.0.1',
    netmask: '255.0.0.0',
    family: 'IPv4',
    mac: '00:00:00:00:00:00',
    internal: true,
    cidr: '127.0.0.1/8',
  } as const;
  const eth = {
    ...lo,
    address: '10.0.0.1',
    netmask: '255.255.255.0',
    internal: false,
    cidr: '10.0.0.1/24',
  } as const;
  const v6 = { ...eth, address: 'fe80::1', family: 'IPv6', scopeid: 2, cidr: 'fe80::1/64' } as const;

  it('is the host when the host is one address', () => {
    expect(loadConfig({ file: file({}), env: {} }).publicAddress).toBe('127.0.0.1');
    expect(loadConfig({ file: file({ host: '127.0.0.2' }), env: {} }).publicAddress).toBe('127.0.0.2');
    expect(loadConfig({ file: file({}), env: { PORTLAB_HOST: '127.0.0.2' } }).publicAddress).toBe(
      '127.0.0.2',
    );
  });

  it('is the first non-loopback IPv4 address with host 0.0.0.0 or ::, unless set', () => {
    const interfaces = { lo: [lo], eth0: [v6, eth] };
    expect(loadConfig({ file: file({ host: '0.0.0.0' }), env: {}, interfaces }).publicAddress).toBe(
      '10.0.0.1',
    );
    expect(loadConfig({ file: file({ host: '::' }), env: {}, interfaces }).publicAddress).toBe('10.0.0.1');
    const set = loadConfig({
      file: file({ host: '0.0.0.0', publicAddress: '127.0.0.3' }),
      env: {},
      interfaces,
    });
    expect(set.publicAddress).toBe('127.0.0.3');
    expect(
      loadConfig({ file: file({}), env: { PORTLAB_HOST: '0.0.0.0', PORTLAB_PUBLIC_ADDRESS: '192.168.1.20' } })
        .publicAddress,
    ).toBe('192.168.1.20');
  });

  it('is an error with host 0.0.0.0 on a machine with no non-loopback interface, saying what to set', () => {
    const err = errorOf(() =>
      loadConfig({ file: file({ host: '0.0.0.0' }), env: {}, interfaces: { lo: [lo] } }),
    );
    expect(err.key).toBe('host');
    expect(err.reason).toMatch(/no non-loopback IPv4 address.*--public-address/);
  });

  it('refuses a bad address, naming the key or variable: not an IP, a wildcard, a name', () => {
    expect(errorOf(() => loadConfig({ file: file({ publicAddress: 'teacher-pc' }), env: {} })).key).toBe(
      'publicAddress',
    );
    expect(errorOf(() => loadConfig({ file: file({ publicAddress: '0.0.0.0' }), env: {} })).reason).toMatch(
      /not 0\.0\.0\.0/,
    );
    expect(errorOf(() => loadConfig({ file: file({}), env: { PORTLAB_HOST: '10.0.0.300' } })).key).toBe(
      'PORTLAB_HOST',
    );
    expect(errorOf(() => loadConfig({ file: file({}), env: { PORTLAB_PUBLIC_ADDRESS: '::' } })).key).toBe(
      'PORTLAB_PUBLIC_ADDRESS',
    );
  });
});

describe('the login throttle settings', () => {
  it('default to 250 ms doubling to 8 s, per address and account', () => {
    expect(loadConfig({ file: file({}), env: {} }).login).toEqual({
      failureDelayMs: 250,
      maxDelayMs: 8000,
      throttleBy: 'account',
    });
  });

  it('are read from the file, and a bad value names its key', () => {
    const c = loadConfig({
      file: file({ login: { failureDelayMs: 100, maxDelayMs: 2000, throttleBy: 'address' } }),
      env: {},
    });
    expect(c.login).toEqual({ failureDelayMs: 100, maxDelayMs: 2000, throttleBy: 'address' });
    expect(errorOf(() => loadConfig({ file: file({ login: { throttleBy: 'room' } }), env: {} })).key).toBe(
      'login.throttleBy',
    );
    expect(errorOf(() => loadConfig({ file: file({ login: { delay: 1 } }), env: {} })).key).toBe(
      'login.delay',
    );
    expect(
      errorOf(() => loadConfig({ file: file({ login: { failureDelayMs: 500, maxDelayMs: 100 } }), env: {} }))
        .reason,
    ).toMatch(/maxDelayMs/);
  });
});

describe('the class DNS settings (dns, PORTLAB_CLASS_DNS, PORTLAB_DNS_NAME)', () => {
  it('serves lab.test on 53 + offset, UDP and TCP, with a 60 s TTL by default', () => {
    const config = loadConfig({ file: file({}), env: {} });
    expect(config.dns).toEqual({ zone: 'lab.test', ttl: 60, maxQueriesPerSecondPerAddress: 50 });
    expect(config.portOf('dns')).toBe(8053);
    expect(config.services.find((s) => s.name === 'dns')).toMatchObject({ app: 'dns', transport: 'udp+tcp' });
  });

  it('takes the class DNS and the lab name from the environment (portlab up --class-dns, --name)', () => {
    const config = loadConfig({
      file: file({ portOffset: 9000 }),
      env: { PORTLAB_CLASS_DNS: '192.168.1.20', PORTLAB_DNS_NAME: 'pc07' },
    });
    expect(config.dns).toMatchObject({ classDns: '192.168.1.20', name: 'pc07' });
    expect(classDnsServer(config)).toEqual({ host: '192.168.1.20', port: 9053 });
    expect(classDnsServer({ ...config, dns: { classDns: '[fd00::20]:5353' } })).toEqual({
      host: 'fd00::20',
      port: 5353,
    });
    expect(classDnsServer({ ...config, dns: {} })).toBeNull();
    expect(() => classDnsServer({ ...config, dns: { classDns: '192.168.1.20:99999' } })).toThrow(
      /bad class DNS/,
    );
  });

  it('makes a named lab its own mail domain (pc07.lab.test) unless the config sets one', () => {
    const named = loadConfig({ file: file({}), env: { PORTLAB_DNS_NAME: 'pc07' } });
    expect(named.domain).toBe('pc07.lab.test');
    const inZone = loadConfig({ file: file({ dns: { name: 'pc12', zone: 'tp.test' } }), env: {} });
    expect(inZone.domain).toBe('pc12.tp.test');
    // A domain the config sets stays, name or not; no name: the demo domain lab.test.
    const chosen = loadConfig({ file: file({ domain: 'lycee.test' }), env: { PORTLAB_DNS_NAME: 'pc07' } });
    expect(chosen.domain).toBe('lycee.test');
    expect(loadConfig({ file: file({}), env: {} }).domain).toBe('lab.test');
  });

  it('refuses a lab name that is no DNS label, naming the variable or the key', () => {
    expect(
      errorOf(() => loadConfig({ file: file({}), env: { PORTLAB_DNS_NAME: 'pc07.lab.test' } })).key,
    ).toBe('PORTLAB_DNS_NAME');
    expect(errorOf(() => loadConfig({ file: file({ dns: { name: '-pc' } }), env: {} })).key).toBe('dns.name');
    expect(errorOf(() => loadConfig({ file: file({ dns: { zon: 'x.test' } }), env: {} })).key).toBe(
      'dns.zon',
    );
  });
});

describe('the mail relay settings (mail between the labs of a class)', () => {
  it('default to the lab.test zone, the system resolver, 30 s doubling to 5 min, a bounce after an hour', () => {
    const c = loadConfig({ file: file({ mail: { maxMessageBytes: 4096 } }), env: {} });
    expect(c.mail.relay).toEqual({
      classZone: 'lab.test',
      retry: { firstDelayMs: 30_000, maxDelayMs: 300_000 },
      maxAgeSeconds: 3600,
      connectTimeoutMs: 10_000,
    });
    expect(c.paths.queue).toBe(path.join(c.dataDir, 'queue'));
  });

  it('are read from the file, and a bad value names its key', () => {
    const relay = {
      classZone: 'class.test',
      dns: '192.168.1.20:8053',
      retry: { firstDelayMs: 100, maxDelayMs: 400 },
    };
    expect(loadConfig({ file: file({ mail: { relay } }), env: {} }).mail.relay).toMatchObject(relay);
    // A misspelt key, a zone that is not a domain name, a backoff that would shrink.
    expect(
      errorOf(() => loadConfig({ file: file({ mail: { relay: { dnsServer: 'x' } } }), env: {} })).key,
    ).toBe('mail.relay.dnsServer');
    expect(
      errorOf(() => loadConfig({ file: file({ mail: { relay: { classZone: '*.lab.test' } } }), env: {} }))
        .key,
    ).toBe('mail.relay.classZone');
    expect(
      errorOf(() =>
        loadConfig({
          file: file({ mail: { relay: { retry: { firstDelayMs: 500, maxDelayMs: 100 } } } }),
          env: {},
        }),
      ).reason,
    ).toMatch(/maxDelayMs/);
  });
});

describe('the mail quota (mail.quotaBytes)', () => {
  it('is 100 MB per mailbox by default, like files.quotaBytes, and read from the file', () => {
    expect(loadConfig({ file: file({}), env: {} }).mail.quotaBytes).toBe(100 * 1024 * 1024);
    expect(loadConfig({ file: file({ mail: { maxMessageBytes: 4096 } }), env: {} }).mail.quotaBytes).toBe(
      100 * 1024 * 1024,
    );
    expect(loadConfig({ file: file({ mail: { quotaBytes: 200_000 } }), env: {} }).mail.quotaBytes).toBe(
      200_000,
    );
  });

  it('refuses a negative, fractional or non-number quota, naming mail.quotaBytes', () => {
    for (const quotaBytes of [-1, 1.5, '100 MB']) {
      const err = errorOf(() => loadConfig({ file: file({ mail: { quotaBytes } }), env: {} }));
      expect(err.key).toBe('mail.quotaBytes');
    }
  });
});

describe('the limits per address of the peers, tracker, chain node and DNS (a class behind one NAT address)', () => {
  it('have defaults, and a NAT class raises each in the file', () => {
    const defaults = loadConfig({ file: file({}), env: {} });
    expect(defaults.p2p.maxConnectionsPerAddress).toBe(16);
    expect(defaults.tracker.maxPeersPerAddress).toBe(64);
    expect(defaults.chain.maxConnectionsPerAddress).toBe(8);
    expect(defaults.dns.maxQueriesPerSecondPerAddress).toBe(50);
    const nat = loadConfig({
      file: file({
        p2p: { maxConnectionsPerAddress: 100 },
        tracker: { maxPeersPerAddress: 300 },
        chain: { maxConnectionsPerAddress: 64 },
        dns: { maxQueriesPerSecondPerAddress: 500 },
      }),
      env: {},
    });
    expect(nat.p2p.maxConnectionsPerAddress).toBe(100);
    expect(nat.tracker.maxPeersPerAddress).toBe(300);
    expect(nat.chain.maxConnectionsPerAddress).toBe(64);
    expect(nat.dns).toMatchObject({ zone: 'lab.test', maxQueriesPerSecondPerAddress: 500 });
  });

  it('refuses 0, a fraction or a misspelt key, naming it', () => {
    expect(
      errorOf(() => loadConfig({ file: file({ p2p: { maxConnectionsPerAddress: 0 } }), env: {} })).key,
    ).toBe('p2p.maxConnectionsPerAddress');
    expect(
      errorOf(() => loadConfig({ file: file({ chain: { maxConnectionsPerAddress: 2.5 } }), env: {} })).key,
    ).toBe('chain.maxConnectionsPerAddress');
    const misspelt = errorOf(() => loadConfig({ file: file({ tracker: { maxPeers: 10 } }), env: {} }));
    expect(misspelt.key).toBe('tracker.maxPeers');
    expect(misspelt.message).toMatch(/unknown key/);
  });
});

describe('loopbackApiHost (where the chain node API listens)', () => {
  it("is the lab's own loopback address, so two labs on one machine each keep theirs", () => {
    expect(loopbackApiHost({ host: '127.0.0.2' })).toBe('127.0.0.2');
    expect(loopbackApiHost({ host: '127.0.0.1' })).toBe('127.0.0.1');
  });

  it('is 127.0.0.1 when the lab listens on a LAN address or on every interface', () => {
    expect(loopbackApiHost({ host: '0.0.0.0' })).toBe('127.0.0.1');
    expect(loopbackApiHost({ host: '192.168.1.20' })).toBe('127.0.0.1');
  });
});

describe('the schema let go after start (issue #20: zod out of an idle process)', () => {
  it('validates the same after releaseConfigSchema: a good file loads, a misspelt key and a bad port are still refused', () => {
    const good = file({ portOffset: 9000, mail: { maxMessageBytes: 2048 } });
    const before = loadConfig({ file: good, env: {} });
    releaseConfigSchema();
    releaseConfigSchema(); // twice: nothing left to let go, no error
    const after = loadConfig({ file: good, env: {} });
    expect(after.portOf('smtp')).toBe(before.portOf('smtp'));
    expect(after.mail).toEqual(before.mail);
    releaseConfigSchema();
    const misspelt = errorOf(() => loadConfig({ file: file({ portOfset: 1 }), env: {} }));
    expect(misspelt.key).toBe('portOfset');
    releaseConfigSchema();
    const badPort = errorOf(() => loadConfig({ file: file({}), env: { PORTLAB_PORT_OFFSET: '99999' } }));
    expect(badPort.key).toBe('PORTLAB_PORT_OFFSET');
  });
});
