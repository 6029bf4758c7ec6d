import { messageOf, UserError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { Emit, StepRecord } from './types.js';

/** The user interrupted the deployment; it stops at the next step boundary. */
export class Interrupted extends UserError {
  constructor(message: string) {
    super(message, { fix: 'deploy again when ready' });
    this.name = 'Interrupted';
  }
}

/** Context a step body can use to attach a message to its record. */
export interface StepHandle {
  message(text: string): void;
  detail(text: string): void;
  /** Output of the step's command as it comes, for the live terminal (not recorded). */
  output(text: string): void;
}

/**
 * Runs named steps, timing each, recording it in history (when there is a deployment row)
 * and telling the reporter as it starts and ends.
 */
export class Steps {
  readonly records: StepRecord[] = [];

  constructor(
    private readonly emit: Emit,
    private readonly store?: Store,
    private readonly deploymentId?: string,
  ) {}

  /** Set by an interrupt (Ctrl-C): the next step fails instead of starting, so the strategy rolls back. */
  interrupted: string | undefined;

  /** `always`: recovery steps (rollback, restore) run even after an interrupt — that is their point. */
  async run<T>(name: string, body: (step: StepHandle) => Promise<T>, opts: { required?: boolean; always?: boolean } = {}): Promise<T | undefined> {
    if (this.interrupted && !opts.always) throw new Interrupted(`${this.interrupted} before step ${name}`);
    const record: StepRecord = { name, status: 'running', startedAt: new Date().toISOString(), durationMs: 0 };
    const started = performance.now();
    this.emit({ type: 'step', step: { ...record } });
    const handle: StepHandle = {
      message: (text) => (record.message = text),
      detail: (text) => (record.detail = text),
      output: (text) => this.emit({ type: 'output', text }),
    };
    try {
      const value = await body(handle);
      this.finish(record, 'passed', started);
      return value;
    } catch (err) {
      record.message = messageOf(err);
      const detail = (err as { detail?: string }).detail;
      if (detail) record.detail = detail;
      if (opts.required === false) {
        this.finish(record, 'warned', started);
        return undefined;
      }
      this.finish(record, 'failed', started);
      throw err;
    }
  }

  /** Like run, for steps whose value the caller needs (they always throw on failure). */
  async must<T>(name: string, body: (step: StepHandle) => Promise<T>, opts: { always?: boolean } = {}): Promise<T> {
    return (await this.run(name, body, opts)) as T;
  }

  skip(name: string, message: string): void {
    const record: StepRecord = { name, status: 'skipped', startedAt: new Date().toISOString(), durationMs: 0, message };
    this.records.push(record);
    this.persist(record);
    this.emit({ type: 'step', step: record });
  }

  private finish(record: StepRecord, status: StepRecord['status'], started: number): void {
    record.status = status;
    record.durationMs = Math.round(performance.now() - started);
    this.records.push(record);
    this.persist(record);
    this.emit({ type: 'step', step: { ...record } });
  }

  private persist(record: StepRecord): void {
    if (!this.store || !this.deploymentId) return;
    this.store.addStep(this.deploymentId, {
      name: record.name,
      status: record.status,
      startedAt: record.startedAt,
      durationMs: record.durationMs,
      message: record.message ?? null,
    });
  }
}
