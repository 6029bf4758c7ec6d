import assert from 'node:assert/strict';
import { listenerPid, metricValue, ownCpuSeconds } from './helpers/listener.js';
import { sleep } from './helpers/progressive.js';
import { expectBody, patched, realAppSuite } from './helpers/real-app-suite.js';
import { startRouteLoad } from './helpers/route-load.js';

/** An app made by `fastify-cli@6 generate` (test/real-apps/fastify), deployed as its user would. */
realAppSuite({
  name: 'fastify',
  // What `ccom init` picks for fastify-cli today; written by hand so the test keeps meaning it.
  start: 'npm start',
  served: (url) => expectBody(url + '/example', 200, 'this is an example'),
  v2: {
    // A new route: the generated tests pin /example's text, and `ccom init` made them a gate.
    files: () => ({ 'routes/version/index.js': "'use strict'\n\nmodule.exports = async function (fastify) {\n  fastify.get('/', async () => 'v2')\n}\n" }),
    served: (url) => expectBody(url + '/version', 200, 'v2'),
  },
  rolledBack: (url) => expectBody(url + '/version', 404, 'Not Found'),
  bad: {
    // One request in four of /example fails (the generated test's single request still passes).
    files: (app) =>
      patched(app, 'routes/example/index.js', "  fastify.get('/', async function (request, reply) {", "  let served = 0\n  fastify.get('/', async function (request, reply) {\n    if (++served % 4 === 0) return reply.code(500).send('flaky example')"),
    path: '/example',
    marker: 'flaky example',
  },
  live: [
    {
      name: "started by `npm start`, an instance's CPU in the metrics includes the app's own process",
      async run(app, url) {
        const status = (await app.ccom(['status', '--json'])).json;
        const instance = status.releases[0].instances[0];
        const load = startRouteLoad(url, ['/', '/example'], 4);
        await sleep(3000);
        await load.stop();
        const appPid = listenerPid(instance.port);
        assert.ok(appPid, `a process listens on the instance's port ${instance.port}`);
        const own = ownCpuSeconds(appPid);
        // Read after the app's own figure: a counter of the whole tree can only be higher.
        const metrics = await (await fetch(status.monitoring)).text();
        const reported = metricValue(metrics, 'ccom_instance_cpu_seconds_total', { instance: instance.id });
        assert.ok(reported !== undefined && reported >= own, `metrics say ${reported}s of CPU, the app process (pid ${appPid}, under pid ${instance.pid}) used ${own}s`);
      },
    },
  ],
});
