import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appStateDir } from '../app-state.js';
import { parentPid } from '../gates/process-group.js';
import { HELD_SOCKET_ENV, HELD_SOCKET_FD, type HeldAddress } from './held-socket.js';
import { AGENT_NODE_FLAGS } from './node-flags.js';

/** The agent exits with this when it cannot start (port taken, unreadable state): not restarted. */
export const AGENT_START_FAILED = 78;

/** Set for the first run of an agent that takes over from an older one; restarts start afresh. */
export const HANDOVER_ENV = 'CCOM_AGENT_HANDOVER';
/** Set by the guardian for an agent it started again: how many times, and how the last one ended. */
export const RESTARTS_ENV = 'CCOM_AGENT_RESTARTS';
export const LAST_EXIT_ENV = 'CCOM_AGENT_LAST_EXIT';

/**
 * The agent's guardian: a few lines of /bin/sh (about 1 MB, against 40 MB for another Node)
 * that start the agent again when it dies any way but by asking to stop, so an agent killed
 * with -9 or crashed serves again within a second, re-adopting the instances that kept running.
 * Exit 0 (down, handover, SIGTERM) and AGENT_START_FAILED end it; more than 5 restarts within
 * 60 s mean something is wrong that restarting will not fix, so it gives up and says so.
 * It keeps the public listening socket it was started with (fd ${HELD_SOCKET_FD}, see held-socket.ts)
 * open for its whole life: between two agents, connections wait instead of being refused.
 */
const SCRIPT = `
# Every proxied request holds two sockets: lift the soft file limit (often 1024) to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
count() { echo $#; }
starts=""
restarts=0
while :; do
  "$@"
  code=$?
  if [ "$code" -eq 0 ] || [ "$code" -eq ${AGENT_START_FAILED} ]; then exit "$code"; fi
  # Only the first run takes over from an older agent (over the inherited IPC channel).
  # The public socket (fd ${HELD_SOCKET_FD}) stays open: the next agent accepts what waited meanwhile.
  unset ${HANDOVER_ENV} NODE_CHANNEL_FD NODE_CHANNEL_SERIALIZATION_MODE
  exec 3>&-
  now=$(date +%s)
  recent=""
  for t in $starts; do if [ $((now - t)) -lt 60 ]; then recent="$recent $t"; fi; done
  starts="$recent $now"
  if [ "$(count $starts)" -gt 5 ]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) ccom guardian: the agent exited with code $code, the 6th time within 60 s; not restarting it again (see above; any ccom command starts it)"
    exit "$code"
  fi
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) ccom guardian: the agent exited with code $code; starting it again"
  restarts=$((restarts + 1))
  export ${RESTARTS_ENV}="$restarts" ${LAST_EXIT_ENV}="$code"
  sleep 0.2
done
`;

/** The guardian's file name: how `ps` shows it, and how ccom recognises it. */
const GUARDIAN_FILE = 'agent-guardian.sh';

/** Writes this build's guardian into the app's state dir (whole, then renamed: racing writers are harmless). */
function writeGuardian(appDir: string): string {
  const file = join(appStateDir(appDir), GUARDIAN_FILE);
  const staged = `${file}.${process.pid}`;
  writeFileSync(staged, `# ccom: restarts this app's agent when it dies (written by ccom on every agent start)${SCRIPT}`, { mode: 0o600 });
  renameSync(staged, file);
  return file;
}

/** A listening socket of the caller (`fd`) that the guardian is to hold, and the address it listens on. */
export interface HeldSocket extends HeldAddress {
  fd: number;
}

/**
 * Starts the agent for `appDir` under its guardian, detached (its own process group, led by the
 * guardian) so it outlives the command that started it. The state dir must exist; the agent is
 * told it (`--state`) so that a later edit of the config's `app:` cannot move it elsewhere.
 */
export function spawnGuardedAgent(options: { appDir: string; agentScript: string; stdio: StdioEntry[]; handover?: boolean; held?: HeldSocket }): ChildProcess {
  const agent = [process.execPath, ...AGENT_NODE_FLAGS, options.agentScript, '--dir', options.appDir, '--state', appStateDir(options.appDir)];
  const env = agentEnvironment();
  // Only the socket passed here is described to the agent, never one named by the caller's env.
  delete env[HELD_SOCKET_ENV];
  if (options.handover) env[HANDOVER_ENV] = '1';
  const stdio: StdioEntry[] = [...options.stdio];
  if (options.held) {
    while (stdio.length < HELD_SOCKET_FD) stdio.push('ignore');
    stdio[HELD_SOCKET_FD] = options.held.fd;
    env[HELD_SOCKET_ENV] = JSON.stringify({ host: options.held.host, port: options.held.port });
  }
  return spawn('/bin/sh', [writeGuardian(options.appDir), ...agent], { cwd: options.appDir, detached: true, stdio, env });
}

/** One entry of a child's stdio: how Node's spawn takes it (a stream is not needed here). */
type StdioEntry = 'ignore' | 'pipe' | 'inherit' | 'ipc' | number;

/** What the agent needs from the environment of the command that starts it (see agentEnvironment). */
const KEPT_NAMES = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR']);
const KEPT_PREFIXES = ['LC_', 'NODE_', 'CCOM_'];
/** Set by Node for a child it talks to over IPC: never meant for a grandchild. */
const DROPPED_PREFIXES = ['NODE_CHANNEL_'];

/**
 * The environment the guardian and agent run with: the system basics (PATH, HOME, locale, time
 * zone, temp dir), Node's own settings and ccom's. Nothing else of the deploying shell: its
 * secrets would otherwise sit in /proc/<agent pid>/environ for as long as the agent lives.
 * Instances get their variables from the release (the env file), not from here.
 */
export function agentEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const kept = Object.entries(env).filter(
    ([name, value]) =>
      value !== undefined &&
      (KEPT_NAMES.has(name) || KEPT_PREFIXES.some((p) => name.startsWith(p))) &&
      !DROPPED_PREFIXES.some((p) => name.startsWith(p)),
  );
  return Object.fromEntries(kept);
}

/** Ends a guardian and the agent it runs (its whole process group). */
export function killGuardedAgent(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** The agent `pid` and, when it runs under a guardian, the guardian's pid. */
export function agentProcesses(pid: number): number[] {
  const parent = parentPid(pid);
  if (parent === undefined) return [pid];
  try {
    return isGuardianCmdline(readFileSync(`/proc/${parent}/cmdline`, 'utf8')) ? [pid, parent] : [pid];
  } catch {
    return [pid];
  }
}

/** A process command line (from /proc, NUL-separated) that runs an agent guardian. */
export function isGuardianCmdline(cmdline: string): boolean {
  return cmdline.split('\0').some((arg) => arg.endsWith(`/${GUARDIAN_FILE}`));
}
