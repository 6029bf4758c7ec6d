import { stringify } from 'yaml';
import type { DetectedApp } from './detect.js';

/** A YAML scalar, quoted only when YAML needs it (`: `, `#`, leading `*`, numbers as strings). */
function scalar(value: string | number): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/**
 * Renders a commented ccom.yaml for a detected app. It deploys as it stands: every active key is
 * valid (it round-trips through parseConfig); optional sections are shown commented out.
 */
export function renderConfigYaml(d: DetectedApp): string {
  const out: string[] = [
    '# ccom.yaml, written by `ccom init`. Edit freely; `ccom deploy --dry-run` checks it without deploying.',
    '# Durations: 250ms, 5s, 2m (or a number of milliseconds). Unknown keys are errors.',
    '',
    `app: ${scalar(d.app)}`,
    '# Run by sh in the release directory with PORT set; the app must listen on PORT.',
    `start: ${scalar(d.start)}`,
    '',
  ];
  if (d.build) {
    out.push('build:', `  command: ${scalar(d.build)}`, '  timeout: 10m');
  } else {
    out.push('# build:', '#   command: npm run build');
  }
  out.push('#   artifacts: [dist, node_modules, package.json]  # default: the app directory minus .git and .ccom', '');

  out.push('# Kept across releases (SQLite files, uploads): never copied, every release links to this copy.');
  out.push(d.shared.length > 0 ? `shared: [${d.shared.map(scalar).join(', ')}]` : '# shared: [data, uploads]', '');

  out.push('# Run in order before anything changes; a failing required gate blocks the deploy.');
  if (d.gates.length > 0) {
    out.push('gates:');
    for (const g of d.gates) out.push(`  - name: ${scalar(g.name)}`, `    run: ${scalar(g.run)}`, '    timeout: 10m');
  } else {
    out.push('# gates:', '#   - name: test', '#     run: npm test', '#     timeout: 5m', '#     required: true');
  }
  out.push('');

  out.push('# Variables passed to instances; values are never printed or stored.');
  if (d.envFile) out.push('env:', `  file: ${scalar(d.envFile)}`, '  # required: [DATABASE_URL]');
  else out.push('# env:', '#   file: .env.production', '#   required: [DATABASE_URL]');
  out.push('');

  out.push(
    '# migrations:                       # run in the new release directory',
    '#   check: npx prisma migrate status # non-zero exit blocks the deploy',
    '#   run: npx prisma migrate deploy   # after a backup, before traffic moves',
    '# backup:',
    '#   run: cp data/app.db "$CCOM_BACKUP_DIR/"',
    '#   restore: cp "$CCOM_BACKUP_DIR/app.db" data/',
    '',
    'instances: 2',
    '',
    'health:',
    `  path: ${scalar(d.healthPath)}`,
    '  interval: 1s',
    '  timeout: 30s                      # time a new instance has to become healthy',
    '',
    '# Sent to the new release before it takes traffic, then to the public URL after the switch.',
    '# smoke:',
    '#   - path: /',
    '#     status: 200',
    '#     contains: Welcome',
    '',
    '# recreate | rolling | blue-green | canary',
    'strategy: blue-green',
    '# canary:',
    '#   steps: [10, 50, pause, 100]     # pause waits for `ccom promote` / `ccom abort`',
    '#   interval: 5s',
    '# rolling:',
    '#   batch: 1',
    '# analysis:',
    '#   maxErrorRate: 1%',
    '#   maxLatencyP99: 500ms',
    '#   maxLatencyRatio: 1.5',
    '#   minRequests: 20',
    '',
  );
  if (d.port !== undefined) out.push(`# The app defaults to port ${d.port}; behind ccom, users reach it on proxy.port instead.`);
  out.push(
    'proxy:',
    '  host: 127.0.0.1',
    `  port: ${String(d.proxyPort ?? 8080).padEnd(32)}# the public URL; 0 picks a free port`,
    '',
    '# monitoring:',
    '#   port: 9464                      # /metrics on 127.0.0.1; unset: 9464 or the next free port',
    '',
    '# alerts:',
    '#   webhook: https://hooks.example.com/ccom',
    '',
  );
  return out.join('\n');
}
