import { expectBody, patched, realAppSuite } from './helpers/real-app-suite.js';

/** An app made by `fastify-cli@6 generate` (test/real-apps/fastify), deployed as its user would. */
realAppSuite({
  name: 'fastify',
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
  todo: { 'git-clean': 'issue 9 point 1 (state outside the app directory): git status shows `?? .ccom/`' },
});
