/**
 * commander option parsers of `portlab p2p`, apart from peers.ts: `portlab` registers its
 * commands at every start, `portlab up` too, whose process then supervises the lab for its whole
 * life; these need no BitTorrent code, which loads only when a p2p command runs (issue #20, idle
 * memory: the @portlab/bittorrent index held about 2.4 MB of the supervisor's heap).
 */
import { isIP } from 'node:net';
import { parseRate } from '@portlab/bittorrent/rate';
import { isLocalAddress, USER_NAME } from '@portlab/config';
import { InvalidArgumentError } from 'commander';

/** commander option parsers that turn bad input into a clear usage error. */
export function rateOption(text: string): number {
  try {
    return parseRate(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** --host ADDRESS: one address of this machine (127.0.0.2, a LAN address), never a wildcard. */
export function hostOption(text: string): string {
  if (isIP(text) === 0 || text === '0.0.0.0' || text === '::') {
    throw new InvalidArgumentError(`'${text}' is not one IP address: give one, e.g. 127.0.0.2`);
  }
  if (!isLocalAddress(text)) {
    throw new InvalidArgumentError(
      `${text} is not an address of this machine: 127.0.0.2 to 127.0.0.254 on Linux, or this PC's own address`,
    );
  }
  return text;
}

/** --user NAME: an account name, as users.json spells them. */
export function userOption(text: string): string {
  if (!USER_NAME.test(text)) {
    throw new InvalidArgumentError(
      `'${text}' is not an account name: a lower-case letter, then letters, digits, '.', '_' or '-'`,
    );
  }
  return text;
}

export function integerOption(min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return value;
  };
}
