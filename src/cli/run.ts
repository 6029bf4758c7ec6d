import type { Command } from 'commander';
import { asUserError, ExitCode, isUserError, messageOf } from '../errors.js';
import { createColors } from 'picocolors';
import { resolve } from 'node:path';
import { appStateDir, tightenStateDir } from '../app-state.js';
import { prepareAppState, tidyLegacyState } from './prepare-state.js';

export interface GlobalOptions {
  appDir: string;
  json: boolean;
  yes: boolean;
  quiet: boolean;
  /** Colour and animation on stderr. */
  fancy: boolean;
}

export interface CommandContext extends GlobalOptions {
  opts: Record<string, unknown>;
  args: string[];
  /** Human lines go to stderr; stdout carries only the result. */
  say(line: string): void;
  /** The result: a JSON document with --json, else the given text. */
  result(json: unknown, text?: string): void;
}

export type CommandModule = { run(ctx: CommandContext): Promise<number> };

const loaders: Record<string, () => Promise<CommandModule>> = {
  init: () => import('./commands/init.js'),
  deploy: () => import('./commands/deploy.js'),
  status: () => import('./commands/status.js'),
  releases: () => import('./commands/releases.js'),
  rollback: () => import('./commands/rollback.js'),
  logs: () => import('./commands/logs.js'),
  promote: () => import('./commands/promote.js'),
  abort: () => import('./commands/abort.js'),
  down: () => import('./commands/down.js'),
  doctor: () => import('./commands/doctor.js'),
  backups: () => import('./commands/backups.js'),
  up: () => import('./commands/up.js'),
  restart: () => import('./commands/restart.js'),
  ls: () => import('./commands/ls.js'),
  startup: () => import('./commands/startup.js'),
  'env set': () => import('./commands/env-set.js'),
  'env unset': () => import('./commands/env-unset.js'),
  'env ls': () => import('./commands/env-ls.js'),
  ...flagCommands(),
};

/** `ccom flags …`: one module, a function per subcommand. */
function flagCommands(): Record<string, () => Promise<CommandModule>> {
  const of = (pick: (m: typeof import('./commands/flags.js')) => CommandModule['run']) => () => import('./commands/flags.js').then((m) => ({ run: pick(m) }));
  return {
    flags: of((m) => m.list),
    'flags set': of((m) => m.set),
    'flags off': of((m) => m.off),
    'flags clear': of((m) => m.clear),
    'flags rollout': of((m) => m.rollout),
    'flags history': of((m) => m.history),
    'flags promote': of((m) => (ctx) => m.decide(ctx, 'promote')),
    'flags abort': of((m) => (ctx) => m.decide(ctx, 'abort')),
  };
}

function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { dir: string; json?: boolean; yes?: boolean; color?: boolean; quiet?: boolean };
  const fancy =
    o.color !== false && !process.env.NO_COLOR && process.env.CI !== 'true' && process.env.TERM !== 'dumb' && Boolean(process.stderr.isTTY);
  return { appDir: resolve(o.dir), json: Boolean(o.json), yes: Boolean(o.yes || o.json), quiet: Boolean(o.quiet), fancy };
}

/** Runs one command: the single place where errors become messages and exit codes. */
export async function runCommand(name: string, cmd: Command): Promise<void> {
  const globals = globalsOf(cmd);
  const c = createColors(globals.fancy);
  const ctx: CommandContext = {
    ...globals,
    opts: cmd.opts(),
    args: cmd.args,
    say: (line) => {
      if (!globals.quiet) process.stderr.write(`${line}\n`);
    },
    result: (json, text) => {
      if (globals.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      else if (text !== undefined) process.stdout.write(`${text}\n`);
    },
  };
  let code: number;
  try {
    const loader = loaders[name];
    if (!loader) throw new Error(`no command module for ${name}`);
    if (name !== 'init') await prepareAppState(ctx.appDir, ctx.say);
    const loose = tightenStateDir(globals.appDir);
    if (loose !== undefined) {
      ctx.say(`⚠ ${appStateDir(globals.appDir)} was mode 0${loose.toString(8)} (others could read ccom's history and logs); it is 0700 now`);
    }
    code = await (await loader()).run(ctx);
    if (name !== 'init') await tidyLegacyState(ctx.appDir, ctx.say);
  } catch (caught) {
    const err = asUserError(caught);
    if (isUserError(err)) {
      process.stderr.write(`${c.red(`✖ ${err.message}`)}\n`);
      if (err.detail) process.stderr.write(`${c.dim(err.detail)}\n`);
      if (err.fix) process.stderr.write(`  fix: ${err.fix}\n`);
      if (globals.json) process.stdout.write(`${JSON.stringify({ error: { message: err.message, fix: err.fix ?? null } }, null, 2)}\n`);
      code = err.exitCode;
    } else {
      process.stderr.write(`${c.red(`✖ ccom hit a bug: ${messageOf(err)}`)}\n${(err as Error).stack ?? ''}\n`);
      process.stderr.write('  please report it with the output above\n');
      code = ExitCode.RollbackFailed;
    }
  }
  process.exitCode = code;
}
