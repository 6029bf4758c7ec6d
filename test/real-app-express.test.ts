import assert from 'node:assert/strict';
import { get } from './helpers/ccom.js';
import { expectBody, patched, realAppSuite } from './helpers/real-app-suite.js';

/** An app made by express-generator@4 (test/real-apps/express), deployed as its user would. */
realAppSuite({
  name: 'express',
  served: (url) => expectBody(url, 200, '<p>Welcome to Express</p>'),
  v2: {
    files: (app) => patched(app, 'routes/index.js', "title: 'Express'", "title: 'Express v2'"),
    served: (url) => expectBody(url, 200, '<p>Welcome to Express v2</p>'),
  },
  rolledBack: (url) => expectBody(url, 200, '<p>Welcome to Express</p>'),
  bad: {
    // One request in four of /users fails, the way a bad release of one route does.
    files: (app) =>
      patched(app, 'routes/users.js', "router.get('/', function(req, res, next) {", "var served = 0;\nrouter.get('/', function(req, res, next) {\n  if (++served % 4 === 0) return res.status(500).send('flaky users');"),
    path: '/users',
    marker: 'flaky users',
  },
  live: [
    {
      // express-generator's error handler shows the stack unless NODE_ENV=production.
      name: 'a 404 shows the public no stack trace',
      async run(_app, url) {
        const res = await get(url + '/no-such-page');
        assert.equal(res.status, 404);
        assert.doesNotMatch(res.body, /NotFoundError: Not Found\s+at /, 'no stack trace in the page');
      },
    },
  ],
});
