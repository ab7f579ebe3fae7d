import { describe, expect, it } from 'vitest';
import { labName } from '../src/commands/dns.js';

describe("a lab's name in the class zone", () => {
  const zone = { zone: 'lab.test', ttl: 60, maxQueriesPerSecondPerAddress: 50 };
  it('is dns.name when set, else the first label of a mail domain of the zone', () => {
    expect(labName({ dns: { ...zone, name: 'pc07' }, domain: 'lab.test' })).toBe('pc07');
    expect(labName({ dns: zone, domain: 'pc12.lab.test' })).toBe('pc12');
  });
  it('is none for a domain outside the zone, the zone itself, or deeper in it', () => {
    expect(labName({ dns: zone, domain: 'lab.test' })).toBeUndefined();
    expect(labName({ dns: zone, domain: 'pc12.example.org' })).toBeUndefined();
    expect(labName({ dns: zone, domain: 'a.pc12.lab.test' })).toBeUndefined();
  });
});
