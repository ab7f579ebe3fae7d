/**
 * A virtual classroom on one machine (issue 13): Linux network namespaces, one per PC, wired to a
 * switch. Everything lives inside namespaces this module makes, so nothing touches the host's own
 * interfaces, routes or addresses, and nothing leaves the machine:
 *
 *   <prefix>-sw         the switch: a bridge br0, and one end of every PC's veth pair (its "port")
 *   <prefix>-t          the teacher's PC: eth0 = 10.213.0.1/24 (and lo)
 *   <prefix>-s01 …      a student's PC each: eth0 = 10.213.0.11/24, .12, …
 *
 * 10.213.0.0/24 (RFC 1918 private space) exists only inside those namespaces, so two runs at once
 * (each with its own prefix, made from its pid) do not collide. Links are shaped with tc's token
 * bucket filter (tbf), on the egress of each end of a veth pair: the PC's eth0 shapes what it sends
 * (upload), the switch's port what it receives (download). netem is not on these machines; tbf is
 * all a rate needs.
 *
 * Needs root (CAP_NET_ADMIN, and to mount /run/netns) and iproute2 (`ip`, `tc`): see
 * `namespaceSupport()`, which says why not when it cannot be done.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';

/** The names of every namespace this module makes start with it, then the pid of the run. */
export const NETNS_PREFIX = 'plc';

/** A PC of the classroom: its namespace and its one address. */
export interface NetHost {
  /** The namespace's name (`ip netns exec NAME …`). */
  ns: string;
  address: string;
}

export interface ClassroomNetwork {
  prefix: string;
  /** The switch's namespace (the bridge and the switch's ends of the veth pairs). */
  switchNs: string;
  teacher: NetHost;
  students: NetHost[];
  /** The rates the links were shaped at, as given to tc (null: not shaped). */
  shaping: { teacher: string; student: string } | null;
  /** Runs a command on a PC: `ip netns exec NS command args…`. */
  spawn(host: NetHost, command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /**
   * Shapes every link anew (tc qdisc replace on both ends of each veth pair), e.g. slower links so
   * that the network, not the machine's cores, is what limits a transfer.
   */
  reshape(shaping: { teacher: string; student: string }): void;
  /** Deletes every namespace made (with them, the veth pairs, the bridge and the qdiscs). Idempotent. */
  destroy(): void;
}

export interface ClassroomOptions {
  students: number;
  /** tc rates per link; null for no shaping. Default: 1 Gbit/s for the teacher, 100 Mbit/s per student. */
  shaping?: { teacher: string; student: string } | null;
  /** The first three octets of the /24: default 10.213.0. */
  subnet?: string;
}

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  const output =
    `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim();
  return { ok: result.status === 0, output };
}

/**
 * Whether namespaces can be made here, and if not, why (for a test's skip message): root, `ip` and
 * `tc` installed, and a namespace really made and deleted.
 */
export function namespaceSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'network namespaces are Linux only' };
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: 'network namespaces need root (CI runs as root; here uid is not 0)' };
  }
  for (const tool of ['ip', 'tc']) {
    if (!run(tool, ['-V']).ok) {
      return { ok: false, reason: `'${tool}' is missing: apt-get install iproute2 (.ci/run does it)` };
    }
  }
  const probe = `${NETNS_PREFIX}${process.pid}-probe`;
  const made = run('ip', ['netns', 'add', probe]);
  if (!made.ok) return { ok: false, reason: `'ip netns add' failed: ${made.output}` };
  run('ip', ['netns', 'del', probe]);
  return { ok: true };
}

/** True if a process with this pid runs (ours or another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the namespaces a run that died left behind (its pid in the name is no longer alive): a
 * killed test must not leave 32 namespaces for the next. Returns their names.
 */
export function sweepStaleNamespaces(): string[] {
  const list = run('ip', ['netns', 'list']);
  if (!list.ok) return [];
  const stale: string[] = [];
  for (const line of list.output.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${NETNS_PREFIX}(\\d+)-`).exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      run('ip', ['netns', 'del', name]);
      stale.push(name);
    }
  }
  return stale;
}

/**
 * tc's token bucket on the egress of `dev`: `rate` on average, bursts of `burst` (enough for a GSO
 * segment, so tbf need not split every one: veth hands it up to 64 KB at a time), and a queue of at
 * most 50 ms at that rate before it drops, as a switch's buffer would. 1 Gbit/s needs a larger
 * bucket than 100 Mbit/s for the same timer granularity.
 */
function tbf(dev: string, rate: string, verb: 'add' | 'replace' = 'add'): string {
  const burst = /gbit/i.test(rate) ? '256kb' : '64kb';
  return `qdisc ${verb} dev ${dev} root tbf rate ${rate} burst ${burst} latency 50ms`;
}

/**
 * The whole classroom as one shell script of iproute2 batches (`ip -batch`, `ip -n NS -batch`): one
 * process per PC instead of ten, which matters on a busy machine (30 PCs took 34 s one command at
 * a time, under load). `sh -e` stops at the first command that fails; its message names it.
 */
function setupScript(switchNs: string, pcs: { host: NetHost; port: string; rate: string | null }[]): string {
  const batch = (lines: string[]) => `<<'EOF'\n${lines.join('\n')}\nEOF`;
  const script = [
    `ip -batch - ${batch([`netns add ${switchNs}`, ...pcs.map((pc) => `netns add ${pc.host.ns}`)])}`,
    `ip -n ${switchNs} -batch - ${batch([
      'link add br0 type bridge',
      'link set br0 up',
      ...pcs.flatMap(({ host, port }) => [
        // The PC's end is made straight in its namespace, named eth0 as on a real PC.
        `link add ${port} type veth peer name eth0 netns ${host.ns}`,
        `link set ${port} master br0 up`,
      ]),
    ])}`,
  ];
  const shaped = pcs.filter((pc) => pc.rate);
  if (shaped.length)
    script.push(`tc -n ${switchNs} -batch - ${batch(shaped.map((pc) => tbf(pc.port, pc.rate!)))}`);
  for (const { host, rate } of pcs) {
    script.push(
      `ip -n ${host.ns} -batch - ${batch([
        `addr add ${host.address}/24 dev eth0`,
        'link set eth0 up',
        // Loopback too: a lab bound to its LAN address still talks to itself on 127.0.0.1.
        'link set lo up',
      ])}`,
    );
    if (rate) script.push(`tc -n ${host.ns} ${tbf('eth0', rate)}`);
  }
  return `${script.join('\n')}\n`;
}

/**
 * Builds the classroom: the switch, the teacher's PC and `students` PCs, shaped unless told not to.
 * On any failure, deletes what it made so far and throws. Also deletes what dead runs left (see
 * sweepStaleNamespaces), and deletes everything at this process's exit if `destroy` was not called.
 */
export function createClassroomNetwork(options: ClassroomOptions): ClassroomNetwork {
  const { students } = options;
  if (!Number.isInteger(students) || students < 1 || students > 200) {
    throw new Error(`students: expected 1 to 200, got ${students}`);
  }
  const subnet = options.subnet ?? '10.213.0';
  const shaping = options.shaping === undefined ? { teacher: '1gbit', student: '100mbit' } : options.shaping;
  sweepStaleNamespaces();
  const prefix = `${NETNS_PREFIX}${process.pid}`;
  const made: string[] = [];
  const destroy = () => {
    const names = made.splice(0);
    // One batch; -force: go on past a namespace that was never made (a failure half-way).
    if (names.length)
      spawnSync('ip', ['-force', '-batch', '-'], {
        input: names.map((ns) => `netns del ${ns}\n`).join(''),
        stdio: ['pipe', 'ignore', 'ignore'],
      });
    process.off('exit', destroy);
  };
  process.on('exit', destroy);
  try {
    const switchNs = `${prefix}-sw`;
    const teacher: NetHost = { ns: `${prefix}-t`, address: `${subnet}.1` };
    const hosts: NetHost[] = Array.from({ length: students }, (_, i) => ({
      ns: `${prefix}-s${String(i + 1).padStart(2, '0')}`,
      address: `${subnet}.${11 + i}`,
    }));
    const pcs = [
      { host: teacher, port: 'teacher', rate: shaping?.teacher ?? null },
      ...hosts.map((host, i) => ({
        host,
        port: `s${String(i + 1).padStart(2, '0')}`,
        rate: shaping?.student ?? null,
      })),
    ];
    made.push(switchNs, ...pcs.map((pc) => pc.host.ns));
    const result = spawnSync('sh', ['-e'], { input: setupScript(switchNs, pcs), encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(
        `could not build the classroom network: ${`${result.stderr}${result.error ?? ''}`.trim()}`,
      );
    }
    return {
      prefix,
      switchNs,
      teacher,
      students: hosts,
      shaping,
      reshape(rates) {
        const ends = pcs.map((pc) => ({ ...pc, rate: pc.host === teacher ? rates.teacher : rates.student }));
        const script = [
          `tc -n ${switchNs} -batch - <<'EOF'\n${ends.map((pc) => tbf(pc.port, pc.rate, 'replace')).join('\n')}\nEOF`,
          ...ends.map((pc) => `tc -n ${pc.host.ns} ${tbf('eth0', pc.rate, 'replace')}`),
        ].join('\n');
        const result = spawnSync('sh', ['-e'], { input: `${script}\n`, encoding: 'utf8' });
        if (result.status !== 0) throw new Error(`could not reshape the classroom's links: ${result.stderr}`);
        this.shaping = rates;
      },
      spawn: (host, command, args, spawnOptions = {}) =>
        spawn('ip', ['netns', 'exec', host.ns, command, ...args], spawnOptions),
      destroy,
    };
  } catch (err) {
    destroy();
    throw err;
  }
}
