// Where the machine's CPU went during a measured run, from /proc (Linux only; elsewhere nothing is
// reported). On a 2-core machine the load generator, the server and PostgreSQL share the same cores, and
// anything else running at the same time skews the figures: this makes both visible.
import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';

const INTERRUPTS = 'interrupts';

/** USER_HZ, the unit of /proc's CPU times: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export interface CpuGroups {
  /** Process ids counted under a name. */
  pids: Record<string, number[]>;
  /** Counted as `postgres`: the backends of this database and their server's auxiliary processes. */
  database?: string;
}

interface Snapshot {
  at: number;
  busy: number;
  total: number;
  groups: Map<string, number>;
}

/** Cores' worth of CPU (1 = one core fully busy) per group, `other` for everything else. */
export interface CpuUse {
  cores: number;
  busy: number;
  byGroup: { name: string; cores: number }[];
}

interface Proc {
  pid: number;
  ppid: number;
  ticks: number;
  command: string;
}

async function readProc(pid: string): Promise<Proc | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // After the command name: state, ppid, ...; utime and stime are fields 14 and 15 of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    return {
      pid: Number(pid),
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      command,
    };
  } catch {
    return undefined;
  }
}

/** A client backend names its client's address, `host(port)` or `[local]`; auxiliary processes do not. */
const CLIENT_BACKEND = /\(\d+\)|\[local\]/;

async function snapshot(groups: CpuGroups): Promise<Snapshot | undefined> {
  let stat: string;
  try {
    stat = await readFile('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  // user nice system idle iowait irq softirq steal
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (
    stat.split('\n')[0] ?? ''
  )
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  const byPid = new Map<number, string>();
  for (const [name, pids] of Object.entries(groups.pids)) for (const pid of pids) byPid.set(pid, name);

  const entries = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const procs = (await Promise.all(entries.map(readProc))).filter((proc) => proc !== undefined);
  const sums = new Map<string, number>();
  // Interrupt time belongs to no process; here it is mostly the loopback network of the run itself.
  sums.set(INTERRUPTS, irq + softirq);
  const add = (group: string, ticks: number) => sums.set(group, (sums.get(group) ?? 0) + ticks);

  // `postgres`: the backends of the database, and the auxiliary processes (WAL writer, checkpointer, I/O
  // workers...) of the server they belong to, but not other databases' backends.
  const backend = groups.database === undefined ? undefined : ` ${groups.database} `;
  const isOurs = (proc: Proc) =>
    backend !== undefined && proc.command.startsWith('postgres: ') && proc.command.includes(backend);
  const postmasters = new Set(procs.filter(isOurs).map((proc) => proc.ppid));
  for (const proc of procs) {
    const name = byPid.get(proc.pid);
    if (name !== undefined) add(name, proc.ticks);
    else if (isOurs(proc)) add('postgres', proc.ticks);
    else if (postmasters.has(proc.ppid) && proc.command.startsWith('postgres: ')) {
      if (!CLIENT_BACKEND.test(proc.command)) add('postgres', proc.ticks);
    } else if (postmasters.has(proc.pid)) add('postgres', proc.ticks);
  }
  return { at: performance.now(), busy: user + nice + system + irq + softirq, total, groups: sums };
}

/**
 * Starts measuring; `stop()` returns the CPU each group used meanwhile. A process that exits during the
 * window takes its CPU time with it, so a group's figure is a lower bound (the servers' and the pool's
 * connections live through the whole run).
 */
export async function measureCpu(groups: CpuGroups): Promise<{ stop(): Promise<CpuUse | undefined> }> {
  const first = await snapshot(groups);
  return {
    async stop() {
      const last = await snapshot(groups);
      if (!first || !last) return undefined;
      const seconds = (last.at - first.at) / 1000;
      if (seconds <= 0 || last.total <= first.total) return undefined;
      const toCores = (ticks: number) => ticks / CLOCK_TICKS / seconds;
      const busy = toCores(last.busy - first.busy);
      const byGroup = [...new Set([...Object.keys(groups.pids), ...last.groups.keys()])].map((name) => ({
        name,
        cores: toCores((last.groups.get(name) ?? 0) - (first.groups.get(name) ?? 0)),
      }));
      const ours = byGroup.reduce((sum, group) => sum + group.cores, 0);
      byGroup.push({ name: 'other processes', cores: Math.max(0, busy - ours) });
      return { cores: cpus().length, busy, byGroup };
    },
  };
}
