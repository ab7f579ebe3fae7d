import { describe, expect, it } from 'vitest';
import { parseEprt, parsePort } from '../src/data-address.js';

describe('PORT and EPRT arguments (data-address.ts)', () => {
  it('reads PORT as an IPv4 address and a port in two bytes (RFC 959 §4.1.2)', () => {
    expect(parsePort('127,0,0,1,200,10')).toEqual({ host: '127.0.0.1', port: 200 * 256 + 10, family: 4 });
  });

  it.each([
    ['five numbers', '127,0,0,1,200'],
    ['a number over 255', '127,0,0,1,256,10'],
    ['a negative number', '127,0,0,-1,200,10'],
    ['words', 'a,b,c,d,e,f'],
    ['nothing', ''],
  ])('refuses a malformed PORT: %s', (_, arg) => {
    expect(parsePort(arg)).toBeNull();
  });

  it('reads EPRT with IPv4 and IPv6, whatever delimiter the client picks (RFC 2428 §2)', () => {
    expect(parseEprt('|1|127.0.0.1|51210|')).toEqual({ host: '127.0.0.1', port: 51210, family: 4 });
    expect(parseEprt('!2!::1!51210!')).toEqual({ host: '::1', port: 51210, family: 6 });
  });

  it.each([
    ['an IPv6 address named as IPv4', '|1|::1|51210|'],
    ['an IPv4 address named as IPv6', '|2|127.0.0.1|51210|'],
    ['an unknown protocol', '|3|127.0.0.1|51210|'],
    ['port 0', '|1|127.0.0.1|0|'],
    ['a port over 65535', '|1|127.0.0.1|70000|'],
    ['a host name', '|1|localhost|51210|'],
    ['nothing', ''],
  ])('refuses a malformed EPRT: %s', (_, arg) => {
    expect(parseEprt(arg)).toBeNull();
  });
});
