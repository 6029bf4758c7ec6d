import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../src/config/load.js';
import { parseSshAddress } from '../src/targets/ssh/address.js';
import { judgeHostKey } from '../src/targets/ssh/host-key.js';
import { parseKnownHosts } from '../src/targets/ssh/known-hosts.js';
import { sshSettings } from '../src/targets/ssh/settings.js';

const base = 'app: shop\nstart: node server.js\n';
const errorOf = (text: string) => {
  try {
    parseConfigText(base + text, 'ccom.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

test('hosts: takes host, user@host, user@host:port and [v6]:port; ssh: keys resolve with defaults', () => {
  const config = parseConfigText(
    `${base}hosts: [203.0.113.10, deploy@web-1.example.com, deploy@203.0.113.11:2222, "[2001:db8::1]:2200", "ops@[2001:db8::2]"]\n` +
      'ssh: { user: deploy, identityFile: ~/.ssh/id_deploy, knownHosts: ./known_hosts, proxyJump: bastion.example.com:2222, connectTimeout: 3s, keepaliveInterval: 2s }\n',
    'ccom.yaml',
  );
  assert.deepEqual(config.hosts?.map(parseSshAddress), [
    { host: '203.0.113.10' },
    { user: 'deploy', host: 'web-1.example.com' },
    { user: 'deploy', host: '203.0.113.11', port: 2222 },
    { host: '2001:db8::1', port: 2200 },
    { user: 'ops', host: '2001:db8::2' },
  ]);
  assert.deepEqual(config.ssh, { user: 'deploy', identityFile: '~/.ssh/id_deploy', knownHosts: './known_hosts', proxyJump: 'bastion.example.com:2222', connectTimeoutMs: 3000, keepaliveIntervalMs: 2000 });
  const defaults = sshSettings(parseConfigText(`${base}hosts: [203.0.113.10]\n`, 'ccom.yaml').ssh);
  assert.equal(defaults.knownHosts, '~/.ssh/known_hosts');
  assert.equal(defaults.connectTimeoutMs, 10_000);
  assert.equal(defaults.identityFile, undefined, 'the agent, then ~/.ssh/id_*');
});

test('bad hosts: and ssh: input is an error naming the key, the value and what was expected', () => {
  const cases: [string, RegExp][] = [
    ['hosts: ["deploy@@nowhere"]\n', /hosts\[0\]: got "deploy@@nowhere", expected a host like 203\.0\.113\.10/],
    ['hosts: ["web:99999"]\n', /hosts\[0\]: got "web:99999", expected a host/],
    ['hosts: ["[2001:db8::1]2222"]\n', /hosts\[0\]: got "\[2001:db8::1\]2222", expected a host/],
    ['hosts: ["bad host"]\n', /hosts\[0\]: got "bad host"/],
    ['hosts: []\n', /hosts: .*at least one host/],
    ['hosts: 203.0.113.10\n', /hosts: got "203\.0\.113\.10", expected a list of hosts/],
    ['hosts: [a.example.com, "deploy@a.example.com:22"]\n', /hosts\[1\]: .*each host once \(a\.example\.com is listed twice\)/],
    ['hosts: [a.example.com]\nssh: { user: "x y" }\n', /ssh\.user: got "x y", expected a user name/],
    ['hosts: [a.example.com]\nssh: { proxyJump: "a b" }\n', /ssh\.proxyJump: got "a b", expected a jump host/],
    ['hosts: [a.example.com]\nssh: { connectTimeout: 0 }\n', /ssh\.connectTimeout: got 0, expected a duration above 0/],
    ['hosts: [a.example.com]\nssh: { password: hunter2 }\n', /unknown key "password" in ssh/],
    ['ssh: { user: deploy }\n', /ssh: .*no ssh section without hosts:/],
  ];
  for (const [text, expected] of cases) assert.match(errorOf(text), expected, text);
});

test('known_hosts: plain, [host]:port, wildcards, negation, hashed names (ssh-keygen -H), @revoked and @cert-authority', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-known-hosts-'));
  try {
    const keyFile = (name: string) => {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, name)]);
      const line = readFileSync(join(dir, `${name}.pub`), 'utf8').split(' ');
      return { text: `${line[0]} ${line[1]}`, wire: Buffer.from(line[1]!, 'base64') };
    };
    const [a, b, c, d] = [keyFile('a'), keyFile('b'), keyFile('c'), keyFile('d')];
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `# comment\n\nweb-1.example.com,203.0.113.10 ${a.text}\n[203.0.113.11]:2222 ${b.text}\nhashed.example.com ${c.text}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file]); // hashes every name, as HashKnownHosts does
    writeFileSync(file, `${readFileSync(file, 'utf8')}*.fleet.example.com,!db.fleet.example.com ${d.text}\n@revoked * ${b.text}\n@cert-authority *.example.com ${c.text}\n`);
    const lines = parseKnownHosts(readFileSync(file, 'utf8'));
    assert.ok(!readFileSync(file, 'utf8').includes('hashed.example.com'), 'names are hashed');
    const judge = (host: string, port: number, key: Buffer) => judgeHostKey(lines, host, port, key).status;
    assert.equal(judge('hashed.example.com', 22, c.wire), 'trusted');
    assert.equal(judge('203.0.113.10', 22, a.wire), 'trusted');
    assert.equal(judge('203.0.113.10', 2222, a.wire), 'unknown', 'another port is another host');
    assert.equal(judge('203.0.113.10', 22, d.wire), 'changed');
    assert.equal(judge('203.0.113.11', 2222, b.wire), 'revoked', '@revoked wins over a listed key');
    assert.equal(judge('app.fleet.example.com', 22, d.wire), 'trusted');
    assert.equal(judge('db.fleet.example.com', 22, d.wire), 'unknown', 'a negated pattern does not match');
    assert.equal(judge('ca.example.com', 22, c.wire), 'unknown', 'a @cert-authority line trusts no plain key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
