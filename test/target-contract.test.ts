import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { connectOptions } from '../src/pipeline/release-spec.js';
import type { createTarget as CreateTarget } from '../src/targets/index.js';
import { fixtureApp, serverSource } from './helpers/fixture-app.js';
import { targetContract } from './helpers/target-contract.js';

// The built targets (dist/), as the CLI runs them: the local target starts dist/agent.js.
const { createTarget } = (await import(new URL('../dist/targets.js', import.meta.url).href)) as { createTarget: typeof CreateTarget };

targetContract('local', async () => {
  const app = fixtureApp('v1');
  // The built modules find the app's state through CCOM_HOME, like the CLI does.
  process.env.CCOM_HOME = app.home;
  const { config } = loadConfig(app.dir);
  return {
    target: createTarget(app.dir, config),
    connect: connectOptions(config),
    analysis: config.analysis,
    async release(version, mode = 'ok') {
      const dir = join(app.state, 'releases', version);
      mkdirSync(dir, { recursive: true });
      cpSync(join(app.dir, 'package.json'), join(dir, 'package.json'));
      writeFileSync(join(dir, 'server.js'), serverSource(version, mode));
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: app.home };
      return { id: version, dir, start: config.start, env, secretNames: [], health: config.health, stopTimeoutMs: config.stopTimeoutMs, drainTimeoutMs: config.drainTimeoutMs };
    },
    cleanup: () => app.cleanup(),
  };
});
