/**
 * ccom's entry point. `--version` answers before anything is loaded (cold start matters for
 * CI and agents that call it often); every command's code is imported only when it runs.
 */
declare const __CCOM_VERSION__: string;

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${__CCOM_VERSION__}\n`);
} else {
  void import('./program.js').then(({ runProgram }) => runProgram(argv, __CCOM_VERSION__));
}
