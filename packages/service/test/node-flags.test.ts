import { execFileSync } from 'node:child_process';
import { APPS } from '@portlab/config';
import { describe, expect, it } from 'vitest';
import { appNodeFlags } from '../src/index.js';

// What a forked app sees of the flags the supervisor gives it: V8's young generation limit (the
// semi-space is a third of `new_space`'s reach at most) and the collector exposed for
// collectStartupGarbage. A flag this Node refused would crash every app at start, in a loop.
const SEE = `
const v8 = require('node:v8');
const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(JSON.stringify({ gc: typeof gc, young: young.space_size }));
`;

function run(flags: string[]): { gc: string; young: number } {
  return JSON.parse(execFileSync(process.execPath, [...flags, '-e', SEE], { encoding: 'utf8' }));
}

describe('the Node flags apps are forked with', () => {
  it('every app runs with them on this Node, and can collect its start-up garbage', () => {
    const sets = new Set(APPS.map((app) => JSON.stringify(appNodeFlags(app))));
    for (const flags of sets) expect(run(JSON.parse(flags)).gc, flags).toBe('function');
  });

  it('peer and files keep a small young generation; web and mail keep V8 default', () => {
    const lean = run(appNodeFlags('peer')).young;
    expect(run(appNodeFlags('files')).young).toBe(lean);
    // Allocate enough that V8's default would grow the young generation past the lean limit.
    const grown = (flags: string[]) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            ...flags,
            '-e',
            `const keep = []; for (let i = 0; i < 200000; i++) { keep.push({ i }); if (keep.length > 50000) keep.length = 0; }
             const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
             console.log(s.space_size);`,
          ],
          { encoding: 'utf8' },
        ),
      ) as number;
    expect(grown(appNodeFlags('peer'))).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(grown(appNodeFlags('web'))).toBeGreaterThan(2 * 1024 * 1024);
  });
});
