/**
 * The test kit's port picking (packages/testkit): tempLab asks freePortRange to avoid the ports its
 * config already names (a test's MX port, free until the lab binds it), so that no service of the
 * lab gets one of them too: the mail app would refuse that config (exit 2, "port N is also the port
 * of 'smtp'"), as it once did in a full run of apps/mail/test/relay.test.ts.
 */
import { freePortRange } from '@portlab/testkit';
import { describe, expect, it } from 'vitest';

describe('@portlab/testkit ports', () => {
  it('freePortRange never hands out a port it was told to avoid', async () => {
    // Every port it picks from (20000-31999) is to be avoided but one window of ten.
    const avoid = Array.from({ length: 12000 }, (_, i) => 20000 + i).filter((p) => p < 25000 || p >= 25010);
    await expect(freePortRange(11, avoid)).rejects.toThrow(/no 11 contiguous free ports/);
  });
});
