import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../src/config/load.js';
import { UserError } from '../src/errors.js';

const MINIMAL = 'app: shop\nstart: node server.js\n';

function problems(yamlText: string): string[] {
  try {
    parseConfigText(yamlText, 'ccom.yaml');
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    return err.message.split('\n');
  }
  assert.fail('config parsed but should not have');
}

test('domains with tls.acme: HTTPS on 443 and plain HTTP on 80 unless set, names lowercased, the default directory', () => {
  const config = parseConfigText(`${MINIMAL}domains: [Shop.Example.com, www.shop.example.com]\ntls:\n  acme:\n    email: ops@example.com\n`, 'ccom.yaml');
  assert.deepEqual(config.domains, ['shop.example.com', 'www.shop.example.com']);
  assert.deepEqual(config.proxy, { host: '127.0.0.1', port: 443, httpPort: 80 });
  assert.deepEqual(config.tls, { acme: { email: 'ops@example.com', directory: 'https://acme-v02.api.letsencrypt.org/directory' }, hsts: false });
  // Without tls nothing changes: port 8080, no httpPort.
  assert.deepEqual(parseConfigText(MINIMAL, 'ccom.yaml').proxy, { host: '127.0.0.1', port: 8080 });
});

test('domains, tls and proxy.httpPort are checked together, each error at the key to change', () => {
  assert.deepEqual(problems(`${MINIMAL}domains: [shop.example.com]\n`), ['ccom.yaml:1:1: tls: missing, expected a tls section for the domains: tls.acme.email for automatic certificates, or tls.cert and tls.key']);
  assert.match(problems(`${MINIMAL}domains: [https://shop.example.com]\ntls: { cert: a.pem, key: a.key }\n`)[0] as string, /domains\[0\]: got "https:\/\/shop\.example\.com", expected a domain name like shop\.example\.com/);
  assert.match(problems(`${MINIMAL}domains: [shop.example.com]\ntls: { cert: a.pem }\n`)[0] as string, /tls\.key: missing, expected tls\.cert and tls\.key together/);
  assert.match(problems(`${MINIMAL}domains: [shop.example.com]\ntls: { cert: a.pem, key: a.key, acme: { email: a@b.co } }\n`)[0] as string, /tls: .*expected either tls\.acme or tls\.cert and tls\.key, not both/);
  assert.match(problems(`${MINIMAL}domains: [shop.example.com]\ntls: { acme: { email: nobody } }\n`)[0] as string, /tls\.acme\.email: got "nobody", expected an email address/);
  assert.match(problems(`${MINIMAL}proxy: { httpPort: 8081 }\n`)[0] as string, /proxy\.httpPort: got 8081, expected no httpPort without a tls section/);
  assert.match(problems(`${MINIMAL}domains: [a.example.com]\ntls: { cert: a.pem, key: a.key }\nproxy: { port: 8443, httpPort: 8443 }\n`)[0] as string, /proxy\.httpPort: got 8443, expected a port other than proxy\.port \(8443\)/);
});
