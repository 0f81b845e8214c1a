/*
 * cpu - CPU seconds used by a mail system instance and by short-lived children
 *
 * A mail system is a tree of processes that come and go (master starts
 * daemons on demand, daemons exit when idle, Postfix's master daemonizes),
 * so no single getrusage() covers it. Two ways, best first:
 *
 *	CpuGroup	a control group made for the instance (cgroup v2
 *			cpu.stat usage_usec, else v1 cpuacct.usage): the kernel
 *			charges every process started inside it, however short-lived
 *			or re-parented. Needs root (the benchmark runs as root).
 *	treeCpu		without cgroups: utime+stime+cutime+cstime summed over a
 *			process and its living descendants from /proc (a process
 *			that died was reaped by a living ancestor, so it is in that
 *			ancestor's cutime/cstime).
 *
 * childrenCpu() reads this process's own cutime+cstime: the CPU of every
 * child it has reaped (with their reaped children: sendmail waits for
 * postdrop). The benchmark spawns sendmail processes itself, so the delta
 * over the submission phase is exactly what the submitters used.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number.parseInt(r.stdout ?? '', 10);
  return n > 0 ? n : 100;
})();

/** Fields of /proc/<pid>/stat after the command name (field 3 is index 0); null when gone. */
function statFields(pid: number | 'self'): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** A process's command name and CPU seconds: its own, and its reaped children's. */
export function procStat(pid: number): { comm: string; self: number; children: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      comm,
      self: (Number(f[11]) + Number(f[12])) / TICKS,
      children: (Number(f[13]) + Number(f[14])) / TICKS,
    };
  } catch {
    return null;
  }
}

/** CPU seconds of the children this process has waited for. */
export function childrenCpu(): number {
  const f = statFields('self');
  if (!f) return 0;
  return (Number(f[13]) + Number(f[14])) / TICKS;
}

/** CPU seconds of `root` and its living descendants, including what they reaped. */
export function treeCpu(root: number): number {
  const parent = new Map<number, number>();
  const own = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const f = statFields(pid);
    if (!f) continue;
    parent.set(pid, Number(f[1]));
    own.set(pid, (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS);
  }
  let sum = 0;
  for (const [pid, cpu] of own) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        sum += cpu;
        break;
      }
    }
  }
  return sum;
}

/** A control group of our own for one instance's processes. */
export class CpuGroup {
  private constructor(
    readonly dir: string,
    private readonly v2: boolean,
  ) {}

  /** A new group named `name`, or null when cgroups cannot be used (not root, none mounted). */
  static create(name: string): CpuGroup | null {
    const candidates: [string, boolean][] = [
      ['/sys/fs/cgroup/unified', true],
      ['/sys/fs/cgroup', true],
      ['/sys/fs/cgroup/cpuacct', false],
    ];
    for (const [base, v2] of candidates) {
      const probe = v2 ? 'cgroup.subtree_control' : 'cpuacct.usage';
      if (!existsSync(join(base, probe))) continue;
      const dir = join(base, name);
      try {
        mkdirSync(dir);
        const g = new CpuGroup(dir, v2);
        g.seconds();
        return g;
      } catch {
        try {
          rmdirSync(dir);
        } catch {
          // Never made.
        }
      }
    }
    return null;
  }

  /** Shell words that run a command inside the group: [sh, -c, ..., sh, cmd, args...]. */
  wrap(cmd: string, args: readonly string[]): string[] {
    return ['/bin/sh', '-c', `echo $$ > ${join(this.dir, 'cgroup.procs')} && exec "$@"`, 'sh', cmd, ...args];
  }

  /** CPU seconds charged to the group so far. */
  seconds(): number {
    if (this.v2) {
      const m = /^usage_usec (\d+)$/m.exec(readFileSync(join(this.dir, 'cpu.stat'), 'utf8'));
      if (!m) throw new Error(`${this.dir}/cpu.stat: no usage_usec`);
      return Number(m[1]) / 1e6;
    }
    return Number(readFileSync(join(this.dir, 'cpuacct.usage'), 'utf8')) / 1e9;
  }

  /** The processes in the group now. */
  pids(): number[] {
    try {
      return readFileSync(join(this.dir, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map(Number);
    } catch {
      return [];
    }
  }

  /** SIGKILL what is left (each by its pid), then remove the group. */
  async destroy(): Promise<void> {
    for (let tries = 0; tries < 50; tries++) {
      const left = this.pids();
      if (left.length === 0) break;
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      rmdirSync(this.dir);
    } catch {
      // Still busy: left for the administrator, named in the warning.
      process.stderr.write(`warning: could not remove ${this.dir}\n`);
    }
  }
}
