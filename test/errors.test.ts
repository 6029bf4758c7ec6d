import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { asUserError, isUserError, UserError } from '../src/errors.js';

test('system failures a user can fix become UserErrors naming the cause and the fix', () => {
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const mapped = asUserError(full);
  assert.ok(isUserError(mapped));
  assert.match((mapped as UserError).message, /^the disk is full \(ENOSPC/);
  assert.match((mapped as UserError).fix ?? '', /free disk space/);
});

test('a real SQLite error keeps its code and is mapped; unknown errors stay bugs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-errors-'));
  try {
    const file = join(dir, 'not-a-db');
    writeFileSync(file, 'this is not a database, it is text long enough to be read as a header………………');
    let real: unknown;
    try {
      new Database(file).prepare('SELECT 1 FROM sqlite_master').get();
    } catch (err) {
      real = err;
    }
    assert.equal((real as { code?: string }).code, 'SQLITE_NOTADB');
    assert.equal(asUserError(real), real, 'a code ccom does not know how to explain stays a bug');
    const plain = new TypeError('x is undefined');
    assert.equal(asUserError(plain), plain);
    const user = new UserError('already user-facing');
    assert.equal(asUserError(user), user);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
