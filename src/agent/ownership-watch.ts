import { statSync } from 'node:fs';
import { claimPidFile, pidFileOwner } from './singleton.js';

/** How often the agent checks that its pid file and control socket are still in place. */
const WATCH_MS = 2_000;

export interface OwnershipHooks {
  pidFile: string;
  socket: string;
  log(message: string): void;
  /** Another live agent owns the app (a start race it won): this one steps aside. */
  stepAside(): void;
  /** The control socket file was deleted or replaced: listen on the path again. */
  relistenControl(): Promise<void>;
}

/**
 * Keeps the agent reachable and single: a deleted pid file is claimed again, a deleted control
 * socket is recreated (otherwise no ccom command could reach this agent, and the next one would
 * find "the port taken by pid N (node)": its own agent). Only a readable pid file naming another
 * live agent makes this one leave; a check that fails (EMFILE at the open-files limit) changes
 * nothing and is tried again.
 */
export function watchOwnership(hooks: OwnershipHooks): { socketBound(): void; stop(): void } {
  let socketInode: number | undefined;
  let lastProblem = '';
  const problem = (message: string) => {
    if (message !== lastProblem) hooks.log(message);
    lastProblem = message;
  };
  const check = async () => {
    // Nothing is checked before the agent is up (a handover takes the pid file over late).
    if (socketInode === undefined) return;
    const owner = pidFileOwner(hooks.pidFile);
    if (owner === 'another') return hooks.stepAside();
    if (owner === 'unknown') return problem('cannot read the pid file right now (too many open files?); keeping on serving');
    if (owner === 'nobody') {
      if (!claimPidFile(hooks.pidFile)) return hooks.stepAside();
      hooks.log('the pid file was missing; written again');
    }
    if (inodeOf(hooks.socket) !== socketInode) {
      await hooks.relistenControl();
      hooks.log(`the control socket ${hooks.socket} was missing; listening on it again`);
    }
    lastProblem = '';
  };
  const timer = setInterval(() => {
    check().catch((err: Error) => problem(`checking the pid file and control socket failed: ${err.message}; trying again`));
  }, WATCH_MS);
  timer.unref();
  return {
    socketBound() {
      socketInode = inodeOf(hooks.socket);
    },
    /** Handed over: the pid file and socket are the next agent's now. */
    stop() {
      clearInterval(timer);
    },
  };
}

function inodeOf(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch (err) {
    // Only "gone" counts as gone: a stat that fails otherwise (EMFILE) must not trigger a rebind.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
