// The example's own test, run by ccom as a quality gate before every deploy.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');

test('the server answers the health route ccom checks', () => {
  assert.match(readFileSync(__dirname + '/server.js', 'utf8'), /\/healthz/);
});
