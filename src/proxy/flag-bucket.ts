import type { ExchangeRequest } from './exchange.js';
import type { RequestHead } from './http1/head.js';
import { LatencyHistogram } from './latency.js';
import { STICKY_BUCKETS } from './routing-table.js';

/**
 * Feature flags' hook on the request path (set on the Router only when the app has flags):
 * every request reaches the app with `x-ccom-bucket`, the client's sticky bucket from its
 * `ccom_bucket` cookie, which the app passes to OpenFeature as `targetingKey`. A client without
 * the cookie gets one (the same cookie the canary split uses, so one bucket serves both). Any
 * `x-ccom-bucket` the client sent is removed: a client must not pick its own variant.
 * During a guarded flag rollout, `attribute` names the variant a bucket is served, and each
 * request's outcome is counted under it, so the judge compares flag on with flag off.
 */
export interface VariantStats {
  requests: number;
  status5xx: number;
  connectionErrors: number;
  latency: LatencyHistogram;
}

const COOKIE = /(?:^|;\s*)ccom_bucket=(\d{1,5})(?:;|$)/;
const CLIENT_HEADER = /\r\nx-ccom-bucket:[^\r]*/gi;
const SENT_BY_CLIENT = /\r\nx-ccom-bucket:/i;

export class FlagBucketHook {
  /** The variant (`on` / `off`) a bucket is served now, while a guarded rollout watches; else null. */
  attribute: ((bucket: string) => string) | null = null;
  readonly variants = new Map<string, VariantStats>();

  apply(head: RequestHead, request: ExchangeRequest): void {
    let bucket = bucketOf(head.cookie) ?? bucketOf(request.setCookie);
    if (bucket === undefined) {
      bucket = Math.floor(Math.random() * STICKY_BUCKETS);
      request.setCookie = `ccom_bucket=${bucket}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly`;
    }
    let text = request.head;
    if (SENT_BY_CLIENT.test(text)) text = text.replace(CLIENT_HEADER, '');
    request.head = `${text.slice(0, -2)}x-ccom-bucket: ${bucket}\r\n\r\n`;
    if (this.attribute !== null) this.count(request, this.attribute(String(bucket)));
  }

  /** Counts the request's final status (or its failure) under its variant. */
  private count(request: ExchangeRequest, variant: string): void {
    const stats = this.statsOf(variant);
    const started = performance.now();
    const previous = request.onStatus;
    stats.requests++;
    request.onStatus = (release, status) => {
      stats.latency.record(performance.now() - started);
      if (status >= 500) stats.status5xx++;
      previous?.(release, status);
    };
  }

  private statsOf(variant: string): VariantStats {
    let stats = this.variants.get(variant);
    if (!stats) {
      stats = { requests: 0, status5xx: 0, connectionErrors: 0, latency: new LatencyHistogram() };
      this.variants.set(variant, stats);
    }
    return stats;
  }
}

function bucketOf(cookie: string | undefined): number | undefined {
  if (cookie === undefined) return undefined;
  const match = COOKIE.exec(cookie);
  const bucket = match ? Number(match[1]) : NaN;
  return bucket >= 0 && bucket < STICKY_BUCKETS ? bucket : undefined;
}
