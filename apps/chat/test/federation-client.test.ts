// The outbound side's pure parts: server names with their port (no DNS, no .well-known), and the
// TLS whitelist (loopback and the class network only).
import { describe, expect, it } from 'vitest';
import { skipsCertificateCheck, splitServerName } from '../src/federation/client.js';

describe('server names (server-server API §"Resolving server names")', () => {
  it('takes the host and port as they are written', () => {
    expect(splitServerName('127.0.0.2:8448')).toEqual({ host: '127.0.0.2', port: 8448 });
    expect(splitServerName('[::1]:9448')).toEqual({ host: '::1', port: 9448 });
    expect(splitServerName('lab.test')).toEqual({ host: 'lab.test', port: 8448 });
  });
  it('refuses malformed names: a port out of range, a path, an empty name', () => {
    expect(splitServerName('127.0.0.1:0')).toBeUndefined();
    expect(splitServerName('127.0.0.1:70000')).toBeUndefined();
    expect(splitServerName('evil.test/path:8448')).toBeUndefined();
    expect(splitServerName('user@host:8448')).toBeUndefined();
    expect(splitServerName('')).toBeUndefined();
    expect(splitServerName('a:b:c')).toBeUndefined();
  });
});

describe('certificate checks skipped for the whitelist only', () => {
  it('skips them for loopback, on any lab address', () => {
    expect(skipsCertificateCheck('127.0.0.2', '127.0.0.1')).toBe(true);
    expect(skipsCertificateCheck('::1', '192.168.1.20')).toBe(true);
  });
  it('skips them for the class network: the private /24 of the lab’s public address', () => {
    expect(skipsCertificateCheck('192.168.1.31', '192.168.1.20')).toBe(true);
    expect(skipsCertificateCheck('10.0.5.7', '10.0.5.1')).toBe(true);
  });
  it('checks every other server: another network, a public address, a host name', () => {
    expect(skipsCertificateCheck('192.168.2.31', '192.168.1.20')).toBe(false);
    expect(skipsCertificateCheck('8.8.8.8', '127.0.0.1')).toBe(false);
    // A lab on a public address has no class network to trust.
    expect(skipsCertificateCheck('203.0.113.9', '203.0.113.5')).toBe(false);
    expect(skipsCertificateCheck('localhost', '127.0.0.1')).toBe(false);
    expect(skipsCertificateCheck('matrix.org', '192.168.1.20')).toBe(false);
  });
});
