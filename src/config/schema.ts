import path from 'node:path';
import { z } from 'zod';
import { formatDuration, parseDuration, parseFraction } from './duration.js';
import { STRATEGIES } from './types.js';
import { DEFAULT_ACME_DIRECTORY, isDomainName, refineTls, resolveProxy } from './tls-schema.js';
import { logsSection } from './logs-schema.js';
import { hostsSchema, refineSsh, sshSchema } from './ssh-schema.js';
import type { CanaryStep, Config } from './types.js';

/** Prometheus' customary exporter port; used when monitoring.port is not set. */
export const DEFAULT_MONITORING_PORT = 9464;

// Every leaf carries one "expected ..." phrase; format-errors.ts turns an issue into
// `<file>: <key path>: got <value>, expected <phrase>`, so phrases read as the end of that sentence.

/** A value accepted when `parse` returns something; anything else (including missing) reports `expected`. */
function leaf<T>(expected: string, parse: (value: unknown) => T | undefined) {
  return z.unknown().transform((value, ctx) => {
    const out = parse(value);
    if (out === undefined) {
      ctx.addIssue({ code: 'custom', message: expected, input: value });
      return z.NEVER;
    }
    return out;
  });
}

/** A strict mapping: unknown keys are errors; a non-mapping names the keys it could hold. */
function section<S extends z.core.$ZodLooseShape>(shape: S, expected = `a mapping with keys ${Object.keys(shape).join(', ')}`) {
  return z.strictObject(shape, { error: expected });
}

function list<T extends z.ZodType>(item: T, expected: string) {
  return z.array(item, { error: expected });
}

const text = (expected: string) =>
  leaf(expected, (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined));

const command = text('a shell command, like "npm test"');

const int = (min: number, max: number, expected = `a whole number from ${min} to ${max}`) =>
  leaf(expected, (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined));

/** setTimeout's ceiling: a longer delay fires after 1 ms, which turned health.interval: 30d into a busy loop. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration from `min` ms up to what a timer can wait; 0 is allowed only where it means "not at all". */
const durationFrom = (min: number) => {
  const floor = min === 0 ? '' : min === 1 ? ' above 0' : ` of at least ${formatDuration(min)}`;
  return leaf(`a duration${floor} like 500ms, 5s or 2m, at most 24 days`, (v) => {
    const ms = parseDuration(v);
    return ms !== undefined && ms >= min && ms <= MAX_TIMER_MS ? ms : undefined;
  });
};
const duration = durationFrom(0);
/** Timeouts: 0 would fail every run at once. */
const timeoutDuration = durationFrom(1);
/** Loops that poll (health checks, the analysis of a step): faster than 100 ms only burns CPU. */
const pollInterval = durationFrom(100);

const fraction = leaf('a percentage like 1% or a fraction like 0.01', parseFraction);

const port = int(0, 65535, 'a port number from 0 to 65535 (0 picks a free port)');

/** Sizes: 512MB, 1.5GB, 300KB (decimal units), or a number of bytes. */
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, k: 1e3, m: 1e6, g: 1e9 };
function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : undefined;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*([kmg]?b?)$/i.exec(v.trim()) : null;
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  return m && unit ? Math.round(Number(m[1]) * unit) : undefined;
}
/** Below 16 MB no Node app even boots: `memory: 1` restarted every instance twice a second. */
const MIN_MEMORY = 16e6;
const memorySize = leaf('a size of at least 16MB, like 256MB or 1GB', (v) => {
  const bytes = parseSize(v);
  return bytes !== undefined && bytes >= MIN_MEMORY ? bytes : undefined;
});

const metricName = leaf('a metric name of lowercase letters, digits and _, like checkout', (v) =>
  typeof v === 'string' && /^[a-z][a-z0-9_]*$/.test(v) ? v : undefined,
);

const bool = leaf('true or false', (v) => (typeof v === 'boolean' ? v : undefined));

/** Paths that must stay inside the app directory, because releases are built from it. */
const relativePath = leaf('a relative path inside the app directory, like data', (v) => {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const normal = path.posix.normalize(v.trim().replace(/\\/g, '/')).replace(/\/+$/, '');
  if (path.posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../') || normal === '.') return undefined;
  return normal;
});

const urlPath = leaf('a URL path starting with /, like /healthz', (v) =>
  typeof v === 'string' && v.startsWith('/') && !/\s/.test(v) ? v : undefined,
);

const envName = leaf('an environment variable name like DATABASE_URL', (v) =>
  typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) ? v : undefined,
);

/** ccom gives every instance these itself: a value in the config would be silently overridden. */
const RESERVED_ENV = /^(PORT|CCOM_[A-Z0-9_]*)$/;

/**
 * env.values: non-secret variables inline, like { NODE_ENV: production, LOG_LEVEL: info }.
 * YAML reads `3000` and `true` as a number and a boolean; the environment only holds strings.
 */
const envValues = z.record(z.string(), z.unknown(), { error: 'a mapping of variable names to values, like { NODE_ENV: production }' }).transform((values, ctx) => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || RESERVED_ENV.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'a variable name like LOG_LEVEL (not PORT or CCOM_*, which ccom sets for each instance)', input: name });
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out[name] = String(value);
    } else {
      ctx.addIssue({ code: 'custom', path: [name], message: 'a text, number or true/false value (secrets belong in env.file)', input: value });
    }
  }
  return out;
});

const webhookUrl = leaf('an http:// or https:// URL', (v) => {
  if (typeof v !== 'string') return undefined;
  try {
    const url = new URL(v);
    return url.protocol === 'http:' || url.protocol === 'https:' ? v : undefined;
  } catch {
    return undefined;
  }
});

const MINUTES_10 = 600_000;

const gate = section({
  name: text('a gate name, like test'),
  run: command,
  timeout: timeoutDuration.default(MINUTES_10),
  required: bool.default(true),
}).transform(({ name, run, timeout, required }) => ({ name, run, timeoutMs: timeout, required }));

const gates = list(gate, 'a list of gates, each with name and run').superRefine((items, ctx) => {
  const seen = new Set<string>();
  items.forEach((g, i) => {
    // Gate names become step names (gate:test) in history and --json, so they must be unique.
    if (seen.has(g.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'a name not used by an earlier gate', input: g.name });
    seen.add(g.name);
  });
});

const smokeCheck = section({
  path: urlPath,
  method: leaf('an HTTP method like GET or POST', (v) => (typeof v === 'string' && /^[A-Za-z]+$/.test(v) ? v.toUpperCase() : undefined)).default('GET'),
  status: int(100, 599, 'an HTTP status code like 200').default(200),
  contains: text('a non-empty string to find in the response body').optional(),
});

const canaryStep = leaf<CanaryStep>('a traffic percentage from 1 to 100, or pause', (v) => {
  if (v === 'pause') return 'pause';
  const n = typeof v === 'string' && /^\d+(\.\d+)?%$/.test(v.trim()) ? Number(v.trim().slice(0, -1)) : v;
  return typeof n === 'number' && n >= 1 && n <= 100 ? n : undefined;
});

/** A canary always ends with all traffic on the new release; append the 100 users forget. */
function endAtFullTraffic(steps: CanaryStep[]): CanaryStep[] {
  const lastWeight = steps.filter((s) => s !== 'pause').at(-1);
  return lastWeight === 100 ? steps : [...steps, 100];
}

const domainName = leaf('a domain name like shop.example.com (no scheme, port or path)', (v) =>
  typeof v === 'string' && isDomainName(v.trim().toLowerCase()) ? v.trim().toLowerCase() : undefined,
);

/** A file on this machine; relative paths are taken from the app directory. */
const filePath = text('a file path, like /etc/ssl/shop.pem');

const tlsSection = section({
  acme: section({
    email: leaf('an email address for the certificate authority, like ops@example.com', (v) =>
      typeof v === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) ? v.trim() : undefined,
    ),
    directory: webhookUrl.default(DEFAULT_ACME_DIRECTORY),
    caFile: filePath.optional(),
  }).optional(),
  cert: filePath.optional(),
  key: filePath.optional(),
  hsts: bool.default(false),
});

/** Validates a raw ccom.yaml / ccom.json document and resolves it into a `Config`. */
const sshBuilders = { leaf, section, text, timeoutDuration };

export const configSchema = section({
  app: leaf('a name of lowercase letters, digits and dashes (at most 63), like shop', (v) =>
    typeof v === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(v) && v.length <= 63 ? v : undefined,
  ),
  start: text('a shell command that starts the app, like "node server.js"'),
  build: section({
    command: command.optional(),
    artifacts: list(relativePath, 'a list of paths, like [dist, package.json]').optional(),
    timeout: timeoutDuration.default(MINUTES_10),
  })
    .transform(({ command, artifacts, timeout }) => ({ command, artifacts, timeoutMs: timeout }))
    .optional(),
  shared: list(relativePath, 'a list of paths, like [data, uploads]').default([]),
  gates: gates.default([]),
  env: section({
    file: relativePath.optional(),
    required: list(envName, 'a list of variable names, like [DATABASE_URL]').default([]),
    values: envValues.default({}),
  }).prefault({}),
  migrations: section({ check: command.optional(), run: command.optional(), timeout: timeoutDuration.default(MINUTES_10) })
    .transform(({ check, run, timeout }) => ({ check, run, timeoutMs: timeout }))
    .optional(),
  backup: section({
    run: command,
    restore: command,
    keep: int(1, 1000, 'how many backups to keep, like 5').default(5),
    restoreOnRollback: bool.default(true),
  }).optional(),
  limits: section({ memory: memorySize.optional() }).prefault({}),
  logs: logsSection,
  // Good releases kept on disk for rollbacks besides the live one (failed ones are pruned first).
  releases: section({ keep: int(1, 100, 'how many good releases to keep, like 5').default(5) }).prefault({}),
  instances: int(1, 64).default(2),
  health: section({ path: urlPath.default('/'), interval: pollInterval.default(1000), timeout: timeoutDuration.default(30_000) })
    .transform(({ path: p, interval, timeout }) => ({ path: p, intervalMs: interval, timeoutMs: timeout }))
    .prefault({}),
  smoke: list(smokeCheck, 'a list of checks, each with a path').default([]),
  strategy: z.enum(STRATEGIES, { error: `one of ${STRATEGIES.join(', ')}` }).default('blue-green'),
  canary: section({
    steps: list(canaryStep, 'a list of percentages, like [10, 50, pause, 100]').transform(endAtFullTraffic).default([10, 50, 100]),
    interval: pollInterval.default(5000),
  })
    .transform(({ steps, interval }) => ({ steps, intervalMs: interval }))
    .prefault({}),
  rolling: section({ batch: int(1, 64).default(1), interval: pollInterval.default(2000) })
    .transform(({ batch, interval }) => ({ batch, intervalMs: interval }))
    .prefault({}),
  analysis: section({
    maxErrorRate: fraction.default(0.01),
    maxLatencyP99: timeoutDuration.default(500),
    maxLatencyRatio: leaf('a number above 0, like 1.5', (v) => (typeof v === 'number' && v > 0 ? v : undefined)).default(1.5),
    minRequests: int(0, 1_000_000_000, 'a whole number of requests, like 20').default(20),
    inconclusiveTimeout: timeoutDuration.default(60_000),
    onInconclusive: z.enum(['rollback', 'promote'], { error: 'rollback or promote' }).default('rollback'),
    // Fresh processes answer their first requests slowly (JIT, cold caches): latency is judged after this.
    warmup: duration.default(1000),
    // A ratio only fails a canary also this much slower than stable: 2 ms × 1.5 is noise.
    minLatencyDelta: duration.default(25),
    // Requests/s of ccom's own probes to each release while live traffic is short of minRequests; 0 turns them off.
    probeRate: int(0, 1000, 'requests per second, like 10 (0 turns probes off)').default(10),
    // After the switch the previous release stays warm this long while live traffic is judged; 0: off.
    watch: duration.default(60_000),
  })
    .transform(({ maxLatencyP99, inconclusiveTimeout, warmup, minLatencyDelta, watch, ...rest }) => ({
      ...rest,
      maxLatencyP99Ms: maxLatencyP99,
      inconclusiveTimeoutMs: inconclusiveTimeout,
      warmupMs: warmup,
      minLatencyDeltaMs: minLatencyDelta,
      watchMs: watch,
    }))
    .prefault({}),
  domains: list(domainName, 'a list of domain names, like [shop.example.com, www.shop.example.com]').min(1, { error: 'at least one domain name' }).optional(),
  tls: tlsSection.optional(),
  // The port defaults once tls is known: 443 with tls, 8080 without.
  proxy: section({
    host: text('a host name or IP address, like 127.0.0.1').default('127.0.0.1'),
    port: port.optional(),
    httpPort: port.optional(),
  }).prefault({}),
  monitoring: section({
    port: port.optional(),
    business: list(
      section({
        name: metricName,
        path: urlPath,
        method: leaf('an HTTP method like GET or POST', (v) => (typeof v === 'string' && /^[A-Za-z]+$/.test(v) ? v.toUpperCase() : undefined)).default('POST'),
      }),
      'a list of routes, each with name and path',
    ).default([]),
  })
    // Left to its default, the port may move to the next free one (several apps on one machine).
    .transform(({ port, ...rest }) => ({ ...rest, port: port ?? DEFAULT_MONITORING_PORT, portFromDefault: port === undefined }))
    .prefault({}),
  alerts: section({
    webhook: webhookUrl.optional(),
    format: z.enum(['json', 'slack'], { error: 'json or slack' }).default('json'),
    timeout: timeoutDuration.default(2000),
    retries: int(0, 10).default(2),
  })
    .transform(({ timeout, ...rest }) => ({ ...rest, timeoutMs: timeout }))
    .prefault({}),
  drainTimeout: duration.default(30_000),
  stopTimeout: duration.default(10_000),
  hosts: hostsSchema(sshBuilders).optional(),
  ssh: sshSchema(sshBuilders).optional(),
}, 'a mapping of keys like app: and start:')
  .superRefine((c, ctx) => {
    // Both listeners bind on this machine; the same fixed port would fail only at deploy time.
    const proxyPort = c.proxy.port ?? (c.tls ? 443 : 8080);
    if (proxyPort !== 0 && proxyPort === c.monitoring.port && !c.monitoring.portFromDefault) {
      ctx.addIssue({ code: 'custom', path: ['monitoring', 'port'], message: `a port other than proxy.port (${proxyPort})`, input: c.monitoring.port });
    }
    refineTls(c, proxyPort, ctx);
    refineSsh(c, ctx);
  })
  .transform(({ drainTimeout, stopTimeout, proxy, domains, tls, ...rest }): Config => ({
    ...rest,
    ...(domains ? { domains } : {}),
    ...(tls ? { tls } : {}),
    proxy: resolveProxy(proxy, tls !== undefined),
    drainTimeoutMs: drainTimeout,
    stopTimeoutMs: stopTimeout,
  }));
