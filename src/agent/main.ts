import { chmodSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { legacyMovedTo, pinStateDir } from '../app-state.js';
import { ensureStateDir, localPaths } from '../targets/local/paths.js';
import { createControlServer, type ControlHooks } from './control.js';
import { watchOwnership } from './ownership-watch.js';
import { AgentCore } from './core.js';
import { AGENT_START_FAILED, HANDOVER_ENV, LAST_EXIT_ENV, RESTARTS_ENV } from './guardian.js';
import { handOver, takeOver } from './handover.js';
import { takeHeldAddress } from './held-socket.js';
import { AgentStateFile } from './state-file.js';
import { claimPidFile, ownsPidFile, releasePidFile } from './singleton.js';

/** How long the old agent keeps serving connections it already has after an upgrade. */
const DRAIN_ON_HANDOVER_MS = 30_000;

/**
 * The per-app agent: owns the public port (ccom's proxy), supervises instances and answers the
 * CLI on a unix socket. Started on demand by the CLI; survives it; `ccom down` stops it.
 */
async function main(): Promise<void> {
  const dirFlag = process.argv.indexOf('--dir');
  const appDir = resolve(dirFlag === -1 ? '.' : (process.argv[dirFlag + 1] ?? '.'));
  // Without --state, started by an agent of a build that kept state in <app>/.ccom/.
  const stateFlag = process.argv.indexOf('--state');
  const stateDir = stateFlag === -1 ? legacyMovedTo(appDir) : process.argv[stateFlag + 1];
  if (stateDir) pinStateDir(appDir, stateDir);
  const paths = localPaths(appDir);
  ensureStateDir(paths);
  const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);

  // Read once and removed: instances inherit the agent's environment.
  // `--handover` is how agents of builds before the guardian start their successor.
  const handover = process.env[HANDOVER_ENV] === '1' || process.argv.includes('--handover');
  const restarts = Number(process.env[RESTARTS_ENV] ?? 0) || 0;
  const lastExit = process.env[LAST_EXIT_ENV] ?? 'unknown';
  for (const name of [HANDOVER_ENV, RESTARTS_ENV, LAST_EXIT_ENV]) delete process.env[name];
  const held = takeHeldAddress();
  if (!handover && !claimPidFile(paths.pidFile)) {
    log('another agent is already running for this app; exiting');
    return;
  }
  const state = new AgentStateFile(paths.agentState, log);
  const core: AgentCore = new AgentCore(appDir, paths, state, log, () => shutdown(0), held);
  // The new agent takes the public socket; this one lets go, then leaves.
  const handOverTo = async (agentScript: string) => {
    const pid = await handOver(core, agentScript, paths.agentLog, async () => {
      ownership.stop();
      control?.close();
      releasePidFile(paths.pidFile);
      unlinkQuietly(paths.socket);
    });
    void core.listener.drainAndClose(DRAIN_ON_HANDOVER_MS).then(() => {
      process.exit(0);
    });
    return pid;
  };
  // Upgrade: to the new build's agent. Renewal: to this build's, under a guardian holding the new port.
  const hooks: ControlHooks = { handOver: handOverTo };
  core.renewGuardian = async () => {
    await handOverTo(process.argv[1] as string);
  };
  let control: Server | undefined;
  const listenControl = async () => {
    // Closed first: closing a unix-socket server unlinks its path, which by then would be the new one's.
    control?.close();
    control = undefined;
    unlinkQuietly(paths.socket);
    const server = createControlServer(core, hooks);
    await new Promise<void>((ready, fail) => {
      server.once('error', fail);
      server.listen(paths.socket, () => {
        server.off('error', fail);
        ready();
      });
    });
    chmodSync(paths.socket, 0o600);
    // Accept failures (EMFILE) must not end the agent; the server keeps listening.
    server.on('error', (err) => log(`control socket: ${err.message}`));
    control = server;
    ownership.socketBound();
  };
  // Should another agent ever win the pid file (a start race), this one steps aside: the
  // winner adopts the instances, and two agents never fight over one app.
  const ownership = watchOwnership({
    pidFile: paths.pidFile,
    socket: paths.socket,
    log,
    stepAside: () => {
      log('another agent owns this app now; exiting and leaving the instances to it');
      shutdown(0);
    },
    relistenControl: listenControl,
  });

  const shutdown = (code: number) => {
    core.supervisor.close();
    control?.close();
    // The socket and pid file belong to whichever agent owns the pid file now.
    if (ownsPidFile(paths.pidFile)) {
      releasePidFile(paths.pidFile);
      unlinkQuietly(paths.socket);
    }
    process.exit(code);
  };
  // Stopping the agent leaves instances running: the next agent adopts them.
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));

  // Re-adopt instances and serve the live release before answering the CLI, so a command
  // never acts on a half-recovered state.
  if (handover) {
    await core.recover({ bind: false });
    await takeOver(core);
    if (!claimPidFile(paths.pidFile)) throw new Error('the previous agent did not release the pid file');
    const options = core.savedOptions();
    if (options) await core.configure(options);
    log(`took over from the previous agent`);
  } else {
    await core.recover();
  }
  await listenControl();
  log(`agent ${process.pid} ready for ${appDir} on ${paths.socket}`);
  core.restarts = restarts;
  if (restarts > 0) core.reportRestart(lastExit);
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

main().catch((err) => {
  process.stderr.write(`ccom agent failed: ${(err as Error).stack ?? String(err)}\n`);
  // Failing to start is not fixed by starting again: the guardian must not retry.
  process.exit(AGENT_START_FAILED);
});
