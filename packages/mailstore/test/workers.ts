import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `count` copies of a worker script (./uid-worker.js, ./busy-worker.js) as separate processes on
 * the same mail root, each told its index; resolves with what each reported ({ message id: uid }).
 */
export function runWorkers(script: string, root: string, count: number): Promise<Record<string, number>[]> {
  const worker = fileURLToPath(new URL(script, import.meta.url));
  return Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<Record<string, number>>((resolve, reject) => {
          const child = fork(worker, [root, String(i)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          child.once('message', (seen) => resolve(seen as Record<string, number>));
          child.once('exit', (code) => code !== 0 && reject(new Error(`worker ${i} exited with ${code}`)));
        }),
    ),
  );
}
