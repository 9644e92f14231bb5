/**
 * Process figures read from Linux's /proc: resident memory, open file descriptors, child processes. Every
 * reader returns `undefined` when the process is gone (or /proc is not there).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  const status = readProc(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) / 1024 : undefined;
}

/** Current resident set size in MiB (VmRSS). */
export function rssMb(pid: number): number | undefined {
  return statusField(pid, 'VmRSS');
}

/** Peak resident set size in MiB (VmHWM). */
export function peakRssMb(pid: number): number | undefined {
  return statusField(pid, 'VmHWM');
}

/** Open file descriptors of a process, counted by what they point to. */
export interface FdCounts {
  readonly total: number;
  readonly sockets: number;
  readonly pipes: number;
  /** eventfd, epoll, timerfd, signalfd, inotify… */
  readonly anonInodes: number;
  /** Files and devices (paths). */
  readonly files: number;
}

/** Counts a process's open file descriptors from /proc/<pid>/fd. */
export function openFds(pid: number): FdCounts | undefined {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  let sockets = 0;
  let pipes = 0;
  let anonInodes = 0;
  let files = 0;
  for (const name of names) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue; // closed between readdir and readlink (e.g. the fd of the readdir itself)
    }
    if (target.startsWith('socket:')) sockets++;
    else if (target.startsWith('pipe:')) pipes++;
    else if (target.startsWith('anon_inode:')) anonInodes++;
    else files++;
  }
  return { total: sockets + pipes + anonInodes + files, sockets, pipes, anonInodes, files };
}

/**
 * Direct children of a process: from /proc/<pid>/task/<tid>/children (needs a kernel with
 * CONFIG_PROC_CHILDREN), else by scanning every /proc/<n>/stat for the parent pid.
 */
export function childPids(pid: number): number[] {
  const fromTasks = new Set<number>();
  let tasks: string[] | undefined;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  let readable = false;
  for (const tid of tasks) {
    const text = readProc(`/proc/${pid}/task/${tid}/children`);
    if (text === undefined) continue;
    readable = true;
    for (const child of text.trim().split(/\s+/)) if (child) fromTasks.add(Number(child));
  }
  if (readable) return [...fromTasks].sort((a, b) => a - b);
  return scanForChildren(pid);
}

function scanForChildren(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(`/proc/${entry}/stat`);
    if (stat === undefined) continue;
    // The command name (field 2) may contain spaces and parentheses: fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parent) children.push(Number(entry));
  }
  return children.sort((a, b) => a - b);
}

/** The load averages (1, 5, 15 min, as `uptime` prints them) and the number of cores. */
export function machineLoad(): string {
  const loadavg = readProc('/proc/loadavg')?.split(' ').slice(0, 3).join(', ') ?? 'unknown';
  return `load average ${loadavg} on ${availableParallelism()} cores`;
}

/** Linux's USER_HZ: the unit of the CPU times in /proc/<pid>/stat (100 on every mainstream architecture). */
const clockTicksPerSecond = 100;

/** CPU time (user + system) a process has used so far, in seconds (10 ms resolution). */
export function cpuSeconds(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Fields after the command name: state is field 3, utime field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}
