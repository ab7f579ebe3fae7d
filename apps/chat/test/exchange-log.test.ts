import { describe, expect, it } from 'vitest';
import { maskUrl, summarizeBody } from '../src/exchange-log.js';

describe('what the transcript shows of a body', () => {
  it('masks passwords and tokens in small and large bodies, and in the query', () => {
    expect(summarizeBody('{"type":"m.login.password","user":"bob","password":"builder"}')).toBe(
      '{"type":"m.login.password","user":"bob","password":"***"}',
    );
    const large = JSON.stringify({ access_token: 'mat_secret', pad: 'x'.repeat(10_000) });
    const line = summarizeBody(large);
    expect(line).not.toContain('mat_secret');
    expect(line).toContain('"access_token":"***"');
    expect(line).toMatch(/… \(\d+ chars\)$/);
    expect(maskUrl('/sync?since=s1&access_token=mat_secret&timeout=0')).toBe(
      '/sync?since=s1&access_token=***&timeout=0',
    );
  });

  it('shows a body that is not JSON (malformed input) as it came, its password masked', () => {
    expect(summarizeBody('{"type": "m.login.password",')).toBe('{"type": "m.login.password",');
    expect(summarizeBody('{"user":"bob","password": "builder" oops')).toBe(
      '{"user":"bob","password":"***" oops',
    );
  });
});
