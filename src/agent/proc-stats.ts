import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports CPU times in clock ticks; 100 per second on every mainstream kernel config. */
const TICKS_PER_SECOND = 100;

/**
 * An instance's whole process tree, measured: with `start: npm start` the instance's own pid
 * is npm, and the app is its grandchild (npm → sh → node), so npm's figures alone say nothing.
 */
export interface ProcStats {
  /** CPU of every process of the tree, and of its members that exited and were waited for. */
  cpuSeconds: number;
  /**
   * Resident memory of the tree: each process's own pages (anonymous, shared memory), plus the
   * file-backed pages (the node binary, libraries) of the process that maps the most, as the
   * processes of a tree share those: npm and its app would otherwise count node twice.
   */
  rssBytes: number;
  /** The app's process: the tree's leader, or the first that is not a launcher (npm, sh) below it. */
  appPid: number;
  /** Every pid of the tree, the leader first. */
  pids: number[];
}

interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  comm: string;
  cpuTicks: number;
}

/** One scan of /proc serves every reader within this window: a scrape or a sample of all instances. */
const SNAPSHOT_MS = 100;
let snapshot: { at: number; table: Map<number, ProcEntry> } | undefined;

/** Every process of the machine (one read of /proc/<pid>/stat each), at most SNAPSHOT_MS old. */
function processTable(now = Date.now()): Map<number, ProcEntry> {
  if (snapshot && now - snapshot.at < SNAPSHOT_MS) return snapshot.table;
  const table = new Map<number, ProcEntry>();
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const entry = readStat(Number(name));
    if (entry) table.set(entry.pid, entry);
  }
  snapshot = { at: now, table };
  return table;
}

function readStat(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields after it start after the last ')'.
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    if (f[0] === 'Z') return undefined; // a zombie holds no memory and no more CPU
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { pid, ppid: Number(f[1]), pgrp: Number(f[2]), session: Number(f[3]), comm: stat.slice(stat.indexOf('(') + 1, close), cpuTicks: ticks };
  } catch {
    return undefined; // exited during the scan
  }
}

/**
 * The tree of an instance led by `leader`: its session and process group (instances run
 * detached, so both are the leader's pid) and every descendant by parent pid, which catches a
 * child that started a session of its own. Empty once the leader is gone.
 */
function treeOf(leader: number, table: Map<number, ProcEntry>): number[] {
  if (!table.has(leader)) return [];
  const members = new Set([leader]);
  for (const p of table.values()) if (p.session === leader || p.pgrp === leader) members.add(p.pid);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of table.values()) {
      if (!members.has(p.pid) && members.has(p.ppid)) {
        members.add(p.pid);
        grew = true;
      }
    }
  }
  return [...members];
}

/** Processes that only start the app: shells and package managers (npm sets its title to "npm start"). */
const LAUNCHER = /^(sh|dash|bash|ash|zsh|npm( .*)?|npx|yarn|pnpm)$/;

function appPidOf(leader: number, pids: number[], table: Map<number, ProcEntry>): number {
  let current = leader;
  for (;;) {
    const entry = table.get(current);
    const children = pids.filter((p) => table.get(p)?.ppid === current);
    if (!entry || !LAUNCHER.test(entry.comm) || children.length !== 1) return current;
    current = children[0] as number;
  }
}

/** Resident kB split as /proc/<pid>/status reports it; undefined once the process is gone. */
function residentOf(pid: number): { own: number; file: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { own: (kb('RssAnon') + kb('RssShmem')) * 1024, file: kb('RssFile') * 1024 };
  } catch {
    return undefined;
  }
}

/** CPU, memory and app pid of the instance tree led by `pid` (see ProcStats); undefined once it is gone. */
export function procStats(pid: number): ProcStats | undefined {
  const table = processTable();
  const pids = treeOf(pid, table);
  if (pids.length === 0) return undefined;
  let own = 0;
  let file = 0;
  let ticks = 0;
  for (const member of pids) {
    ticks += table.get(member)?.cpuTicks ?? 0;
    const resident = residentOf(member);
    if (!resident) continue;
    own += resident.own;
    file = Math.max(file, resident.file);
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: own + file, appPid: appPidOf(pid, pids, table), pids };
}
