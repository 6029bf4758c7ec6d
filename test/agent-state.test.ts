import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentStateFile } from '../src/agent/state-file.js';

test('the agent state survives a restart, and a broken file is kept aside, not fatal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-agent-state-'));
  try {
    const file = join(dir, 'agent-state.json');
    const logs: string[] = [];
    const first = new AgentStateFile(file, (m) => logs.push(m));
    assert.deepEqual(first.get(), { weights: {}, instances: [], specs: {}, options: null, lease: null, watch: null, lastWatch: null }, 'no file: empty state');
    first.update({ weights: { r1: 100 } });
    first.update({ instances: [{ id: 'i-1', release: 'r1', pid: 42, port: 4001 }] });
    assert.deepEqual(readdirSync(dir), ['agent-state.json'], 'no temporary file left behind');
    const again = new AgentStateFile(file, (m) => logs.push(m));
    assert.deepEqual(again.get().weights, { r1: 100 });
    assert.equal(again.get().instances[0]?.port, 4001);

    writeFileSync(file, '{"weights": {"r1": 10');
    const afterCrash = new AgentStateFile(file, (m) => logs.push(m));
    assert.deepEqual(afterCrash.get().weights, {});
    assert.ok(existsSync(`${file}.broken`), 'the unreadable file is kept for a person');
    assert.match(readFileSync(`${file}.broken`, 'utf8'), /"r1": 10/);
    assert.match(logs.join('\n'), /unreadable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
