import { wasDeployed } from '../../app-state.js';
import { loadConfig } from '../../config/load.js';
import { parseDuration } from '../../config/duration.js';
import { UserError } from '../../errors.js';
import { Store } from '../../store/index.js';
import { createTarget } from '../../targets/index.js';
import type { LogLine, LogQuery, Target } from '../../targets/types.js';
import type { CommandContext } from '../run.js';

/** CSI and OSC sequences (colours, cursor moves, titles) an app writes for its own terminal. */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g; // eslint-disable-line no-control-regex

/**
 * `ccom logs`: the instances' output, each line with its release and instance (and time:
 * `--timestamps`, the default on a terminal). By default the instances that run now; `--all`
 * every instance of every release still on disk, `--release R` one release. `-f` follows,
 * including instances that start later (a deploy, a restart). Reads files only: starts nothing.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const target = createTarget(ctx.appDir, loadConfig(ctx.appDir).config);
  const query = await queryOf(ctx, target);
  const grep = ctx.opts.grep === undefined ? undefined : patternOf(String(ctx.opts.grep));
  // The app's colours pass only to a colour terminal (ctx.fancy: no NO_COLOR, --no-color or CI).
  const colour = Boolean(process.stdout.isTTY) && ctx.fancy;
  const stamps = (ctx.opts.timestamps as boolean | undefined) ?? Boolean(process.stdout.isTTY);
  // `ccom logs -f | head` closing the pipe ends the command, as for any Unix filter.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  for await (const entry of target.logs(query)) {
    const text = colour ? entry.line : entry.line.replace(ANSI, '');
    if (grep && !grep.test(text)) continue;
    process.stdout.write(ctx.json ? `${JSON.stringify({ at: entry.at ?? null, release: entry.release, instance: entry.instance, line: text })}\n` : `${human(entry, text, stamps)}\n`);
  }
  return 0;
}

function human(entry: LogLine, text: string, stamps: boolean): string {
  return `${stamps ? `${entry.at ?? '-'.padEnd(24)} ` : ''}[${entry.release} ${entry.instance}] ${text}`;
}

async function queryOf(ctx: CommandContext, target: Target): Promise<LogQuery> {
  const since = ctx.opts.since === undefined ? undefined : sinceOf(String(ctx.opts.since));
  const base = { lines: Number(ctx.opts.lines ?? 50), follow: Boolean(ctx.opts.follow), ...(since === undefined ? {} : { sinceMs: since }) };
  if (ctx.opts.release) return { ...base, release: String(ctx.opts.release) };
  if (ctx.opts.all) return base;
  // The instances that run now (any release: during a canary or a watch, both).
  const running = await target.peek();
  if (running && running.instances.length > 0) return { ...base, instances: running.instances.map((i) => i.id) };
  // Nothing runs (after `down`, a reboot): the last release that served, all its instances.
  const store = wasDeployed(ctx.appDir) ? Store.open(ctx.appDir) : undefined;
  const release = store?.liveRelease()?.id ?? store?.rollbackCandidates()[0]?.id;
  store?.close();
  if (!release) throw new UserError('no logs yet: nothing was deployed', { fix: 'deploy first, or pass --release <id> (see `ccom releases`)' });
  return { ...base, release };
}

/** `10m`, `2h`, `30s` ago, or an ISO-8601 time. */
function sinceOf(value: string): number {
  const ago = parseDuration(value);
  if (ago !== undefined && /[a-z]$/i.test(value.trim())) return Date.now() - ago;
  const at = Date.parse(value);
  if (!Number.isNaN(at)) return at;
  throw new UserError(`--since ${value}: not a duration or a time`, { fix: 'use a duration like 10m, 2h or 30s, or a time like 2026-12-02T10:00:00Z' });
}

function patternOf(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new UserError(`--grep ${source}: ${(err as Error).message}`, { fix: 'pass a JavaScript regular expression, e.g. --grep "error|warn"' });
  }
}
