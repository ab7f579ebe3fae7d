import { execFileSync } from 'node:child_process';
import v8 from 'node:v8';
import { APPS } from '@portlab/config';
import { describe, expect, it } from 'vitest';
import { appEnv, appNodeFlags, collectGarbage } from '../src/index.js';

/** The size V8's young generation reaches in a Node started with `flags`, after making garbage. */
function youngGeneration(flags: string[]): number {
  const script = `
    const keep = [];
    for (let i = 0; i < 200000; i++) { keep.push({ i }); if (keep.length > 50000) keep.length = 0; }
    const young = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(young.space_size);`;
  return Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
}

describe('an idle process gives its start-up garbage back (issue #20, memory)', () => {
  it('the flags of every app run on this Node (a refused flag would crash every app at start)', () => {
    const sets = new Set(APPS.map((app) => JSON.stringify(appNodeFlags(app))));
    for (const flags of sets) expect(youngGeneration(JSON.parse(flags)), flags).toBeGreaterThan(0);
  });

  it('peer keeps a small young generation; files, web and mail keep V8 default', () => {
    expect(youngGeneration(appNodeFlags('peer'))).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(youngGeneration(appNodeFlags('files'))).toBeGreaterThan(2 * 1024 * 1024);
    expect(youngGeneration(appNodeFlags('web'))).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('apps run with one malloc arena, unless the user chose otherwise; the rest of the env is kept', () => {
    const saved = process.env.MALLOC_ARENA_MAX;
    try {
      delete process.env.MALLOC_ARENA_MAX;
      expect(appEnv().MALLOC_ARENA_MAX).toBe('1');
      expect(appEnv().PATH).toBe(process.env.PATH);
      process.env.MALLOC_ARENA_MAX = '4';
      expect(appEnv().MALLOC_ARENA_MAX).toBe('4');
    } finally {
      if (saved === undefined) delete process.env.MALLOC_ARENA_MAX;
      else process.env.MALLOC_ARENA_MAX = saved;
    }
  });

  it('collectGarbage shrinks a heap that garbage grew, without exposing gc() to the process', () => {
    let junk: { i: number; s: string }[] = [];
    for (let i = 0; i < 300_000; i++) junk.push({ i, s: `x${i}` });
    junk = [];
    const grown = v8.getHeapStatistics().total_heap_size;
    collectGarbage();
    expect(v8.getHeapStatistics().total_heap_size).toBeLessThan(grown);
    expect(junk).toEqual([]);
    expect('gc' in globalThis).toBe(false);
  });
});
