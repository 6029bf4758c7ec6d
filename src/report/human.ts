import { createColors } from 'picocolors';
import type { DeployEvent, StepRecord } from '../pipeline/types.js';
import { isCancelled } from '../pipeline/cancelled.js';
import { messages } from './messages.js';

export interface HumanOptions {
  stream: NodeJS.WriteStream;
  /** Colour and the live (redrawn) step line; off for NO_COLOR, --no-color, CI and non-TTY. */
  fancy: boolean;
  quiet: boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Renders the pipeline's events for people on stderr: the seed's messages and a step list. */
export function createHumanReporter(opts: HumanOptions): (event: DeployEvent) => void {
  const c = createColors(opts.fancy);
  const out = (line: string) => opts.stream.write(`${line}\n`);
  let spinner: NodeJS.Timeout | undefined;
  /** Output already shown under a failed step is not repeated under the final line. */
  const shownDetails = new Set<string>();
  let frame = 0;
  /** What the live line shows after its spinner: the running step, and what it waits for. */
  let liveStep = '';
  let liveWait = '';
  /** Plain output prints a wait's counts this often, not on every update. */
  let waitPrintedAt = 0;

  const clearLive = () => {
    if (spinner) clearInterval(spinner);
    spinner = undefined;
    if (opts.fancy) opts.stream.write('\r\x1b[2K');
  };

  /** A line printed above the live one, which keeps spinning below it. */
  const above = (line: string) => {
    if (opts.fancy) opts.stream.write('\r\x1b[2K');
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
          if (!opts.fancy) return;
          clearLive();
          liveStep = `${step.name}…`;
          liveWait = '';
          const draw = () => opts.stream.write(`\r\x1b[2K${c.cyan(FRAMES[frame++ % FRAMES.length] ?? '')} ${liveStep}${liveWait ? ` ${c.yellow(liveWait)}` : ''}`);
          draw();
          spinner = setInterval(draw, 80);
          spinner.unref();
          return;
        }
        clearLive();
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
        if (opts.fancy && spinner) {
          // One terminal row, or the carriage return no longer redraws it.
          const room = Math.max(20, (opts.stream.columns || 120) - liveStep.length - 4);
          const text = messages.waiting(event.why);
          liveWait = text.length > room ? `${text.slice(0, room - 1)}…` : text;
        } else if (Date.now() - waitPrintedAt >= 5000) {
          waitPrintedAt = Date.now();
          above(c.yellow(messages.waiting(event.why)));
        }
        break;
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
