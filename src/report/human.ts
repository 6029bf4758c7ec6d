import { createColors } from 'picocolors';
import type { DeployEvent, StepRecord } from '../pipeline/types.js';
import { isCancelled } from '../pipeline/cancelled.js';
import { messages } from './messages.js';
import { LiveArea } from './live-area.js';

export interface HumanOptions {
  stream: NodeJS.WriteStream;
  /** Colour and the live (redrawn) step line; off for NO_COLOR, --no-color, CI and non-TTY. */
  fancy: boolean;
  quiet: boolean;
}

/** How often CI output (no terminal) prints a running step's state: a line every few seconds. */
const PLAIN_EVERY_MS = 5000;

/** Renders the pipeline's events for people on stderr: the seed's messages and a step list. */
export function createHumanReporter(opts: HumanOptions): (event: DeployEvent) => void {
  const c = createColors(opts.fancy);
  const live = opts.fancy ? new LiveArea(opts.stream) : undefined;
  const out = (line: string) => opts.stream.write(`${line}\n`);
  /** Output already shown under a failed step is not repeated under the final line. */
  const shownDetails = new Set<string>();
  /** Plain output prints a running step's state (waits, countdowns, output) this often at most. */
  let plainPrintedAt = 0;
  /** A wait's first plain line comes at once (it says why the step takes longer), then every few seconds. */
  let waitPrintedAt = 0;
  /** The running step (plain output names it in its periodic lines) and when it started. */
  let running: { name: string; at: number } | undefined;
  let lastOutput = '';

  const clearLive = () => live?.stop();

  /** A line printed above the live area, which stays drawn below it. */
  const above = (line: string) => {
    live?.clear();
    out(line);
    live?.redraw();
  };

  /** CI and pipes: one line every few seconds at most for what a terminal would redraw. */
  const plainEvery = (line: string) => {
    if (Date.now() - plainPrintedAt < PLAIN_EVERY_MS) return;
    plainPrintedAt = Date.now();
    out(line);
  };

  const mark = (step: StepRecord): string => {
    if (step.status === 'passed') return c.green('✔');
    if (step.status === 'failed') return c.red('✖');
    if (step.status === 'warned') return c.yellow('⚠');
    return c.dim('○');
  };

  return (event) => {
    if (opts.quiet && event.type !== 'done') return;
    switch (event.type) {
      case 'start':
        out(c.bold(event.kind === 'rollback' ? messages.rollbackStart(event.app) : messages.start(event.app)));
        break;
      case 'step': {
        const { step } = event;
        if (step.status === 'running') {
          running = { name: step.name, at: Date.now() };
          lastOutput = '';
          // The first periodic line comes a few seconds into the step, not at once.
          plainPrintedAt = Date.now();
          live?.start(step.name);
          return;
        }
        clearLive();
        running = undefined;
        plainPrintedAt = 0;
        waitPrintedAt = 0;
        const took = step.status === 'skipped' ? '' : c.dim(` (${formatMs(step.durationMs)})`);
        out(`${mark(step)} ${step.name}${took}${step.message ? c.dim(` - ${step.message}`) : ''}`);
        if (step.status === 'failed' && step.detail) {
          out(indent(step.detail, c.dim));
          shownDetails.add(step.detail);
        }
        break;
      }
      case 'info':
        above(c.dim(`  ${event.message}`));
        break;
      case 'paused':
        above(c.yellow(messages.paused(event.why)));
        break;
      case 'waiting':
        // A wait that ends by itself (or by `ccom promote`): a live line, not a "paused" one.
        if (live?.running) live.state = messages.waiting(event.why);
        else if (Date.now() - waitPrintedAt >= PLAIN_EVERY_MS) {
          waitPrintedAt = Date.now();
          plainPrintedAt = waitPrintedAt;
          out(c.yellow(messages.waiting(event.why)));
        }
        break;
      case 'progress':
        if (live?.running) live.state = event.text;
        else if (running) plainEvery(`  … ${running.name} (${formatMs(Date.now() - running.at)}): ${event.text}`);
        break;
      case 'output': {
        if (live?.running) {
          live.addOutput(event.text);
          break;
        }
        const lines = event.text.split(/\r\n|\n|\r/).map((l) => l.trim()).filter(Boolean);
        lastOutput = lines.at(-1) ?? lastOutput;
        if (running && lastOutput) plainEvery(`  … ${running.name} running for ${formatMs(Date.now() - running.at)}: ${lastOutput.slice(0, 200)}`);
        break;
      }
      case 'rollback':
        clearLive();
        out(c.yellow(messages.rollback));
        out(c.dim(`  reason: ${event.reason}`));
        break;
      case 'done': {
        clearLive();
        const d = event.deployment;
        if (d.status === 'succeeded') {
          if (d.kind === 'dry-run') out(c.green(messages.dryRun(d.release)));
          else out(c.green(c.bold(messages.success(d.url ?? '(no URL)'))));
          if (d.kind !== 'dry-run') out(c.dim(`  release ${d.release} · ${d.strategy} · ${formatMs(d.durationMs)}`));
          if (d.watch?.status === 'running') out(`  the agent watches its live traffic until ${d.watch.until} and moves traffic back on a regression (\`ccom status\` shows how it ends)`);
          else if (d.watch?.status === 'passed') out(c.dim(`  watch: ${d.watch.reason ?? 'passed'}`));
        } else if (isCancelled(d.reason) && d.status !== 'failed') {
          // The user's choice, not a failure: no "failed", and the fix is only to deploy again.
          out(c.yellow(messages.cancelled(d.reason ?? '')));
          if (d.status === 'rolled_back' && d.previous) out(`  Release ${d.previous} keeps serving at ${d.url ?? '(no URL)'}.`);
        } else if (d.status === 'blocked') {
          out(c.red(messages.blocked(d.reason ?? 'unknown reason')));
        } else if (d.status === 'rolled_back') {
          out(c.red(`❌ Deployment failed and was rolled back - ${d.reason ?? ''}`));
          if (d.previous) out(`  Release ${d.previous} keeps serving at ${d.url ?? '(no URL)'}.`);
        } else {
          out(c.red(`🚨 Deployment failed and the rollback failed too - ${d.reason ?? ''}`));
        }
        if (event.detail && !shownDetails.has(event.detail)) out(indent(event.detail, c.dim));
        if (d.fix) out(`  fix: ${d.fix}`);
        break;
      }
    }
  };
}

function indent(text: string, paint: (s: string) => string): string {
  return text
    .split('\n')
    .map((line) => paint(`    │ ${line}`))
    .join('\n');
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
