// Preloaded into every process of a lab by `npm run bench -- memory` (NODE_OPTIONS=--require, which
// the supervisor's forks inherit). On SIGUSR2 it writes what V8 holds to $PORTLAB_MEMORY_PROBE/<pid>.json:
// the heap used and reserved, per space (code_space is compiled code), and the modules loaded.
// It changes nothing else; without the signal it only waits.
const { writeFileSync } = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

const dir = process.env.PORTLAB_MEMORY_PROBE;
if (dir) {
  process.on('SIGUSR2', () => {
    // With the bench's --gc (node --expose-gc): what a full collection would give back.
    if (process.env.PORTLAB_MEMORY_PROBE_GC && typeof globalThis.gc === 'function') globalThis.gc();
    const heap = v8.getHeapStatistics();
    const spaces = Object.fromEntries(
      v8.getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, size: s.space_size }]),
    );
    const code = v8.getHeapCodeStatistics();
    const report = {
      pid: process.pid,
      argv: process.argv.slice(1),
      memory: process.memoryUsage(),
      heap: { used: heap.used_heap_size, total: heap.total_heap_size, malloced: heap.malloced_memory },
      spaces,
      code,
      // CommonJS modules in require's cache (the ESM ones are not listed there; see `scripts`).
      cjsModules: Object.keys(require.cache).length,
    };
    writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(report));
  });
}
