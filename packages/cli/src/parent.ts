import { isAlive } from '@portlab/service';

/**
 * A long-running command started in the background (`npx portlab p2p seed … &`, as lab 5's and 6's
 * sheets do) must stop when whatever started it goes away. `kill $(jobs -p)` signals the job's
 * first process only, npx: npm dies, the `sh -c` between it and us dies with it, and this node
 * process, which no signal reached, would go on seeding with nobody to stop it but `ps` and `kill`.
 *
 * How it is noticed: the parent is polled once a second. On Linux and macOS an orphan is adopted
 * (by init, or by the nearest subreaper: systemd --user, tini), so `process.ppid` (read afresh by
 * Node at each access) changes; on Windows nobody adopts it, but the parent's pid stops existing.
 * Not chosen: the end of stdin, which is /dev/null, or the terminal, for a job started with `&`
 * (never closed, or closed at once), and SIGHUP, which a background job does not get when its
 * parent dies. The timer is unref'd: it never keeps the process alive by itself.
 */
export function exitWithParent(stop: () => void): void {
  const parent = process.ppid;
  // Started by init itself (a service, a container's first process): no shell to outlive.
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === parent && isAlive(parent)) return;
    clearInterval(timer);
    stop();
  }, 1000);
  timer.unref();
}
