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

  it("hides a message's words in a server-server exchange, keeping its shape and length", () => {
    const pdu = {
      type: 'm.room.message',
      sender: '@bob:pc08',
      content: { msgtype: 'm.text', body: 'my secret plan' },
    };
    const txn = JSON.stringify({ origin: 'pc08', pdus: [pdu] });
    expect(summarizeBody(txn)).toContain('"body":"my secret plan"');
    const hidden = summarizeBody(txn, { hideMessages: true });
    expect(hidden).not.toContain('secret');
    expect(hidden).toContain('"content":{"msgtype":"m.text","body":"<14 chars>"}');
    // A large transaction is cut from its start, as text: the words are hidden there too.
    const large = JSON.stringify({ pdus: [pdu], pad: 'x'.repeat(10_000) });
    expect(summarizeBody(large, { hideMessages: true })).not.toContain('secret');
    expect(
      summarizeBody('{"content":{"formatted_body":"<b>my secret</b>", oops', { hideMessages: true }),
    ).not.toContain('secret');
  });

  it('shows a body that is not JSON (malformed input) as it came, its password masked', () => {
    expect(summarizeBody('{"type": "m.login.password",')).toBe('{"type": "m.login.password",');
    expect(summarizeBody('{"user":"bob","password": "builder" oops')).toBe(
      '{"user":"bob","password":"***" oops',
    );
  });
});
