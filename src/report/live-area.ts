import { createColors } from 'picocolors';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Lines of a running command's output kept under the step line. */
const OUTPUT_LINES = 3;
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g; // eslint-disable-line no-control-regex

/**
 * The bottom of a fancy terminal: the running step with a spinner and its elapsed time, its live
 * state (a canary's countdown and counts, or what it waits for), and under it the last lines of
 * its command's output, dim, replaced as they come. Redrawn in place (`\x1b[J` clears to the end
 * of the screen; every line is cut to the terminal's width so none wraps and the cursor math holds).
 */
export class LiveArea {
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private step = '';
  private startedAt = 0;
  /** Countdown and counts, or a wait's reason. */
  state = '';
  private output: string[] = [];
  private partial = '';
  private readonly c;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.c = createColors(true);
  }

  start(step: string): void {
    this.stop();
    this.step = step;
    this.startedAt = Date.now();
    this.state = '';
    this.output = [];
    this.partial = '';
    this.draw();
    this.timer = setInterval(() => this.draw(), 80);
    this.timer.unref();
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Output as it comes: only whole lines are shown (a progress bar's `\r` rewrites count as lines). */
  addOutput(text: string): void {
    const lines = (this.partial + text).replace(ANSI, '').split(/\r\n|\n|\r/);
    this.partial = lines.pop() ?? '';
    const shown = lines.map((l) => l.trimEnd()).filter((l) => l !== '');
    if (shown.length === 0) return;
    this.output = [...this.output, ...shown].slice(-OUTPUT_LINES);
  }

  /** Clears the area; the caller prints lines, then `redraw` puts the area back under them. */
  clear(): void {
    this.stream.write('\r\x1b[J');
  }

  redraw(): void {
    if (this.running) this.draw();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private draw(): void {
    const width = Math.max(20, (this.stream.columns || 120) - 1);
    const fit = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
    const elapsed = `${((Date.now() - this.startedAt) / 1000).toFixed(1)}s`;
    const head = fit(`${FRAMES[this.frame++ % FRAMES.length] ?? ''} ${this.step}… ${elapsed}${this.state ? ` ${this.state}` : ''}`);
    const spin = head.slice(0, 1);
    const rest = head.slice(1);
    const lines = this.output.map((l) => this.c.dim(`    │ ${fit(`    │ ${l}`).slice(6)}`));
    const below = lines.length ? `\n${lines.join('\n')}\x1b[${lines.length}A` : '';
    this.stream.write(`\r\x1b[J${this.c.cyan(spin)}${this.state ? rest.replace(this.state, this.c.yellow(this.state)) : rest}${below}\r`);
  }
}
