import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { readRegularFile } from '../gates/regular-file.js';
import type { ConnectOptions, ReleaseSpec, AgentLease, WatchReport } from '../targets/local/wire.js';
import type { WatchState } from './post-switch-watch.js';

/** What an agent must know after a restart (or a handover) to serve exactly as before. */
export interface AgentState {
  weights: Record<string, number>;
  instances: Array<{ id: string; release: string; pid: number; port: number }>;
  /**
   * How to start each release again; never its environment values (those are in
   * `env/` of the state dir). Specs saved by an older ccom have no `secretNames`.
   */
  specs: Record<string, PersistedSpec>;
  options: ConnectOptions | null;
  /** A deploy moving traffic right now: a restarted agent keeps watching its process. */
  lease: AgentLease | null;
  /** The post-switch watch running now (a restarted agent resumes it) and the last one's outcome. */
  watch: WatchState | null;
  lastWatch: WatchReport | null;
}

export type PersistedSpec = Omit<ReleaseSpec, 'env' | 'secretNames'> & { secretNames?: string[] };

const EMPTY: AgentState = { weights: {}, instances: [], specs: {}, options: null, lease: null, watch: null, lastWatch: null };

/**
 * The agent's routing state in `agent-state.json` of the app's state dir, written whole on every change: to a
 * temporary file, flushed to disk, then renamed over the old one, so a crash at any moment
 * leaves either the old state or the new one. (History stays in SQLite; the agent keeps
 * better-sqlite3 out of its memory.)
 */
export class AgentStateFile {
  private state: AgentState;
  private written = '';

  constructor(
    private readonly file: string,
    log: (message: string) => void,
  ) {
    this.state = { ...EMPTY };
    try {
      // A FIFO or device here must not hang the agent at boot: it is set aside like a corrupt file.
      this.written = readRegularFile(file);
      this.state = { ...EMPTY, ...(JSON.parse(this.written) as Partial<AgentState>) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        // Unreadable state must not stop the agent: keep a copy for a person, start empty.
        log(`agent state ${file} is unreadable (${(err as Error).message}); kept as ${file}.broken, starting empty`);
        try {
          renameSync(file, `${file}.broken`);
        } catch {
          /* nothing to keep */
        }
      }
    }
  }

  get(): Readonly<AgentState> {
    return this.state;
  }

  update(patch: Partial<AgentState>): void {
    this.state = { ...this.state, ...patch };
    const text = `${JSON.stringify(this.state, null, 1)}\n`;
    if (text === this.written) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    this.written = text;
  }
}
