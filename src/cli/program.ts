import { Command, Option } from 'commander';
import { runCommand } from './run.js';

/** Options every command takes, before or after its name (`ccom deploy -C app --json`). */
function withGlobals(cmd: Command): Command {
  return cmd
    .option('-C, --dir <path>', 'app directory', '.')
    .option('--json', 'print a JSON document on stdout (never prompts)')
    .option('--yes', 'never prompt')
    .option('--no-color', 'no colour or animation')
    .option('--quiet', 'only the result (and errors)');
}

export async function runProgram(argv: string[], version: string): Promise<void> {
  const program = withGlobals(new Command('ccom'))
    .description('Ship a web app to production safely with one command.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run `ccom --help` for usage)')
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride((err) => {
      // Bad flags or unknown commands are "blocked: nothing changed" (exit 2), like any bad input.
      process.exit(err.exitCode === 0 ? 0 : 2);
    });

  const command = (name: string, description: string) => withGlobals(program.command(name).description(description));

  command('init', 'detect the app and write ccom.yaml')
    .option('--force', 'overwrite an existing config')
    .action((opts, cmd: Command) => runCommand('init', cmd));
  command('deploy', 'run the deployment process: validate, deploy, verify, report')
    .addOption(new Option('--strategy <name>', 'override the strategy for this deploy').choices(['recreate', 'rolling', 'blue-green', 'canary']))
    .option('--dry-run', 'run pre-deployment validation only and print the plan')
    .option('--wait', 'also wait for the watch after the switch (analysis.watch); exit 1 if it rolled back')
    .action((opts, cmd: Command) => runCommand('deploy', cmd));
  command('status', 'live release, traffic weights, instances, URL').action((opts, cmd: Command) => runCommand('status', cmd));
  command('releases', 'release history, newest first').action((opts, cmd: Command) => runCommand('releases', cmd));
  command('rollback', 'move traffic back to the previous (or named) release')
    .argument('[release]', 'release id from `ccom releases`')
    .action((release, opts, cmd: Command) => runCommand('rollback', cmd));
  command('promote', 'continue a paused canary').action((opts, cmd: Command) => runCommand('promote', cmd));
  command('abort', 'abort a running canary or rolling deploy and roll back').action((opts, cmd: Command) => runCommand('abort', cmd));
  command('logs', 'instance output')
    .option('-f, --follow', 'keep printing new output')
    .option('--release <id>', 'only this release (default: the live one)')
    .option('-n, --lines <n>', 'lines per instance', '50')
    .option('--all', 'every instance of every release still on disk, not only the running ones')
    .option('--since <when>', 'only lines since then: 10m, 2h, or an ISO time')
    .option('--grep <regex>', 'only lines matching this regular expression')
    .option('--timestamps', 'show when each line was written (the default on a terminal)')
    .option('--no-timestamps', 'do not show when each line was written')
    .action((opts, cmd: Command) => runCommand('logs', cmd));
  command('backups', 'backups taken before migrations, newest first').action((opts, cmd: Command) => runCommand('backups', cmd));
  command('doctor', 'infrastructure checks: capacity, proxy, monitoring, alerts, backups').action((opts, cmd: Command) => runCommand('doctor', cmd));
  command('down', "stop the app's instances and its agent; history is kept").action((opts, cmd: Command) => runCommand('down', cmd));
  command('up', 'bring the live release back (after `ccom down` or a reboot)')
    .option('--all', 'every app on this machine whose release is live but not served (what `ccom startup` runs at boot)')
    .addOption(new Option('--only-live').hideHelp())
    .action((opts, cmd: Command) => runCommand('up', cmd));
  command('restart', 'restart the live release instance by instance, health-checked, with no downtime').action((opts, cmd: Command) => runCommand('restart', cmd));
  command('startup', "start this user's apps at boot: a systemd user unit, else a crontab @reboot line")
    .option('--print', 'show what would be written; write nothing')
    .option('--remove', 'undo: remove the unit or the crontab line')
    .addOption(new Option('--system <name>', 'instead of detecting it').choices(['systemd', 'crontab']))
    .action((opts, cmd: Command) => runCommand('startup', cmd));
  const env = command('env', 'variables and secrets for the instances: set, unset, ls (values never printed)');
  withGlobals(env.command('set').description('set NAME for the instances; the value is read from stdin or a prompt, never from the command line'))
    .argument('<name>', 'variable name')
    .action((name, opts, cmd: Command) => runCommand('env set', cmd));
  withGlobals(env.command('unset').description('remove NAME set with `ccom env set`'))
    .argument('<name>', 'variable name')
    .action((name, opts, cmd: Command) => runCommand('env unset', cmd));
  withGlobals(env.command('ls').description('every variable the instances get: name, where it comes from, whether the live release has it'))
    .action((opts, cmd: Command) => runCommand('env ls', cmd));
  command('ls', 'every app of this user on this machine: state, URL, live release, instances, memory').action((opts, cmd: Command) => runCommand('ls', cmd));

  const flags = command('flags', "the app's feature flags: state, variants, rollout (subcommands change them at run time)")
    .action((opts, cmd: Command) => runCommand('flags', cmd));
  const flag = (name: string, args: string, description: string) => withGlobals(flags.command(`${name} ${args}`).description(description));
  flag('set', '<name> <value>', 'serve one variant to everyone: on, off or a variant name').action((n, v, opts, cmd: Command) => runCommand('flags set', cmd));
  flag('off', '<name>', 'kill switch: the off variant for everyone, at once').action((n, opts, cmd: Command) => runCommand('flags off', cmd));
  flag('clear', '<name>', 'forget the override: the flag file decides again').action((n, opts, cmd: Command) => runCommand('flags clear', cmd));
  flag('rollout', '<name> [share]', 'a share of clients on the on variant (sticky), or a guarded rollout with --steps')
    .option('--steps <list>', 'guarded: shares judged in turn, like 10,50,100')
    .option('--interval <duration>', 'guarded: time at each step, like 5m', '30s')
    .action((n, s, opts, cmd: Command) => runCommand('flags rollout', cmd));
  flag('history', '<name>', "every change of the flag, from the audit trail").action((n, opts, cmd: Command) => runCommand('flags history', cmd));
  flag('promote', '<name>', 'end the current step of a guarded rollout at once').action((n, opts, cmd: Command) => runCommand('flags promote', cmd));
  flag('abort', '<name>', 'turn a flag under a guarded rollout off').action((n, opts, cmd: Command) => runCommand('flags abort', cmd));

  await program.parseAsync(argv, { from: 'user' });
}
