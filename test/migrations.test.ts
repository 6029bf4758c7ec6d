import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../src/store/index.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { get } from './helpers/ccom.js';
import { releaseIds } from './helpers/failure-tools.js';
import { backupDirs, deployJson, sha256File, writeOpsConfig } from './helpers/ops-tools.js';

const BLOCKED_LINE = /^❌ Deployment blocked - /m;
const ROLLBACK_LINE = /^⚡ Rolling back to ensure stability - your app is safe\.$/m;
const MARKER = 'migration 002_add_orders applied\n';

const MIGRATIONS = `shared: [data]
migrations:
  check: sh check.sh
  run: sh migrate.sh
`;
const BACKUP = `backup:
  run: cp data/app.db "$CCOM_BACKUP_DIR/"
  restore: cp "$CCOM_BACKUP_DIR/app.db" data/
`;

describe('migrations run after a verified backup, and failures put the data back', () => {
  let app: FixtureApp;
  let url: string;
  let v1: string;
  let db: string;
  let original: string;

  /** check.sh: `pending` makes it report pending migrations and exit 1. */
  function writeCheck(pending: boolean) {
    writeFileSync(join(app.dir, 'check.sh'), pending ? "echo '2 pending migrations: 002_add_orders, 003_index_sku'\nexit 1\n" : "echo 'database is up to date'\n");
  }
  /** migrate.sh: changes the data file, then exits `code`. */
  function writeMigration(code: number) {
    writeFileSync(join(app.dir, 'migrate.sh'), `echo 'applying 002_add_orders'\nprintf '${MARKER.trimEnd()}\\n' >> data/app.db\nexit ${code}\n`);
  }
  async function assertServes(version: string) {
    assert.deepEqual(await get(url), { status: 200, body: `ok ${version}` });
  }
  function backupRows() {
    const store = Store.open(app.dir);
    try {
      return store.listBackups();
    } finally {
      store.close();
    }
  }

  before(async () => {
    app = fixtureApp('v1');
    mkdirSync(join(app.dir, 'data'));
    db = join(app.dir, 'data', 'app.db');
    // A real SQLite database, so "byte for byte" covers a real binary file.
    const sqlite = new Database(db);
    sqlite.exec("CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT); INSERT INTO products (sku) VALUES ('a-1'), ('b-2'), ('c-3');");
    sqlite.close();
    original = sha256File(db);
    writeCheck(false);
    writeMigration(0);
    writeOpsConfig(app, MIGRATIONS + BACKUP);
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 0, run.stderr);
    url = doc.url;
    v1 = doc.release;
    // The first deploy migrated too: that is the state every later test starts from.
    assert.ok(readFileSync(db, 'utf8').endsWith(MARKER));
    original = sha256File(db);
  });
  after(() => app.cleanup());

  it('pending migrations block (exit 2), show the check output, and change nothing', async () => {
    const releases = await releaseIds(app.dir);
    const backups = backupDirs(app.dir);
    writeCheck(true);
    app.write('v2');
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(doc.status, 'blocked');
    assert.match(doc.reason, /migrations not ready/);
    assert.match(run.stderr, BLOCKED_LINE);
    assert.match(run.stderr, /2 pending migrations: 002_add_orders, 003_index_sku/);
    assert.equal(sha256File(db), original, 'the migration must not have run');
    assert.deepEqual(backupDirs(app.dir), backups, 'no backup is taken for a blocked deploy');
    assert.deepEqual(await releaseIds(app.dir), releases);
    await assertServes('v1');
    writeCheck(false);
  });

  it('a failing migration is undone: exit 1, the data restored byte for byte and verified', async () => {
    writeMigration(1);
    app.write('v2');
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(doc.status, 'rolled_back');
    assert.equal(doc.previous, v1);
    assert.match(doc.reason, /migration failed/);
    assert.match(doc.reason, /restored from backup b-\S+ and verified/);
    assert.match(run.stderr, ROLLBACK_LINE);
    assert.match(run.stderr, /applying 002_add_orders/, "the migration's output is shown");
    assert.equal(sha256File(db), original, 'the data file is byte for byte as before the deploy');
    const sqlite = new Database(db, { readonly: true });
    assert.equal((sqlite.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n, 3);
    sqlite.close();
    await assertServes('v1');

    const steps = Object.fromEntries(doc.steps.map((s: { name: string; status: string }) => [s.name, s.status]));
    assert.equal(steps.backup, 'passed');
    assert.equal(steps['migrations:run'], 'failed');
    assert.equal(steps.restore, 'passed');
    const row = backupRows().find((b) => b.deploymentId === doc.id);
    assert.ok(row, 'the backup is recorded in history with its deployment');
    assert.equal(row.status, 'restored');
    assert.equal(row.release, doc.release);
    assert.equal(row.dir, join(app.state, 'backups', row.id));
    assert.ok(existsSync(join(row.dir, 'app.db')));
    assert.equal(sha256File(join(row.dir, 'app.db')), original);
  });

  it('a migrated release that then fails is rolled back and its data restored (default)', async () => {
    writeMigration(0);
    app.write('v2', 'crash-on-boot');
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(doc.status, 'rolled_back');
    assert.match(doc.reason, /crashed on boot/);
    assert.match(doc.reason, /the data was restored from backup b-\S+ and verified/);
    assert.equal(sha256File(db), original);
    assert.equal(backupRows().find((b) => b.deploymentId === doc.id)?.status, 'restored');
    await assertServes('v1');
  });

  it('with backup.restoreOnRollback: false the data keeps the migration and the reason says so', async () => {
    writeOpsConfig(app, MIGRATIONS + BACKUP + '  restoreOnRollback: false\n');
    const before = readFileSync(db);
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(doc.status, 'rolled_back');
    assert.match(doc.reason, /crashed on boot/);
    assert.match(doc.reason, /the data was NOT restored/);
    assert.doesNotMatch(doc.reason, /data was restored/);
    assert.deepEqual(readFileSync(db), Buffer.concat([before, Buffer.from(MARKER)]), "the data keeps the migration's change");
    const row = backupRows().find((b) => b.deploymentId === doc.id);
    assert.equal(row?.status, 'taken');
    assert.ok(doc.reason.includes(row.id), 'the reason names the backup to restore by hand');
    await assertServes('v1');
    writeFileSync(db, before);
  });

  it('migrations.run without a backup blocks (exit 2) before anything runs', async () => {
    const sha = sha256File(db);
    writeOpsConfig(app, MIGRATIONS);
    app.write('v2');
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(doc.status, 'blocked');
    assert.match(doc.reason, /migrations\.run is set but backup is not/);
    assert.match(run.stderr, BLOCKED_LINE);
    assert.equal(sha256File(db), sha);
    await assertServes('v1');
  });

  it('migrations.check and migrations.run both see the variables from env.file', async () => {
    // Real checks need them: `prisma migrate status` reads DATABASE_URL like the migration does.
    writeFileSync(join(app.dir, '.env.production'), 'DATABASE_URL=file:data/app.db\n');
    writeOpsConfig(app, MIGRATIONS + BACKUP + 'env:\n  file: .env.production\n  required: [DATABASE_URL]\n');
    const needsUrl = 'test -n "$DATABASE_URL" || { echo "DATABASE_URL is not set"; exit 1; }\n';
    writeFileSync(join(app.dir, 'check.sh'), `${needsUrl}echo "checked $DATABASE_URL"\n`);
    writeFileSync(join(app.dir, 'migrate.sh'), `${needsUrl}printf '${MARKER.trimEnd()}\\n' >> data/app.db\n`);
    app.write('v2');
    const { run, doc } = await deployJson(app.dir);
    writeCheck(false);
    writeMigration(0);
    rmSync(join(app.dir, '.env.production'));
    assert.equal(run.code, 0, `${doc.reason}\n${run.stderr}`);
    await assertServes('v2');
  });

  it('a failing backup.run stops the deploy before the migration, and nobody has to act (exit is not 3)', async () => {
    const sha = sha256File(db);
    const backups = backupDirs(app.dir);
    const live = (await get(url)).body;
    writeOpsConfig(app, MIGRATIONS + 'backup:\n  run: cp data/missing.db "$CCOM_BACKUP_DIR/"\n  restore: cp "$CCOM_BACKUP_DIR/app.db" data/\n');
    app.write('v7');
    const { run, doc } = await deployJson(app.dir);
    assert.equal(sha256File(db), sha, 'the migration did not run');
    assert.deepEqual(backupDirs(app.dir), backups, 'the failed backup left no directory');
    assert.equal((await get(url)).body, live, 'the live release keeps serving');
    assert.match(doc.reason, /backup\.run/);
    // Nothing ran and nothing moved: "failed, a person must act" (3) would send someone to fix a healthy app.
    assert.notEqual(run.code, 3, `${doc.status}: ${doc.reason}`);
    assert.ok(['blocked', 'rolled_back'].includes(doc.status), doc.status);
  });

  it('backup.keep: 2 keeps only the two newest backups after four migrating deploys', async () => {
    writeOpsConfig(app, MIGRATIONS + BACKUP + '  keep: 2\n');
    writeMigration(0);
    const markers = () => readFileSync(db, 'utf8').split(MARKER).length - 1;
    const migrated = markers();
    const ids: string[] = [];
    for (const version of ['v3', 'v4', 'v5', 'v6']) {
      app.write(version);
      const { run, doc } = await deployJson(app.dir);
      assert.equal(run.code, 0, run.stderr);
      ids.push(doc.id);
    }
    await assertServes('v6');
    assert.equal(markers(), migrated + 4, 'each of the four deploys migrated once');
    const rows = backupRows();
    const kept = rows.filter((b) => b.status !== 'pruned');
    assert.deepEqual(kept.map((b) => b.deploymentId), ids.slice(-2).reverse());
    assert.deepEqual(backupDirs(app.dir), kept.map((b) => b.id).sort());
    for (const pruned of rows.filter((b) => b.status === 'pruned')) assert.ok(!existsSync(pruned.dir), `${pruned.dir} was pruned`);
    assert.ok(rows.length >= 6, 'pruned backups stay listed in history');
  });
});
