import type { Metric } from 'prom-client';
import { LATENCY_BOUNDS_MS, type Router } from '../../proxy/router.js';

/** Prometheus buckets (seconds); the proxy's fine log-scale buckets are folded into these. */
const LE_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * `ccom_request_duration_seconds`, built from the router's own histogram at scrape time (the
 * request path records into a plain array, never into prom-client). A fine bucket is counted
 * under the first `le` at or above its upper bound, so counts are conservative by at most 15%.
 */
export function latencyHistogramMetric(router: Router): Metric {
  return {
    name: 'ccom_request_duration_seconds',
    help: 'Time from forwarding a request to receiving the response head, per release',
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const route of router.table()) {
        const counts = router.latency(route.id);
        let total = 0;
        for (const le of LE_SECONDS) {
          let upTo = 0;
          counts.forEach((count, i) => {
            if ((LATENCY_BOUNDS_MS[i] ?? Infinity) <= le * 1000) upTo += count;
          });
          values.push({ labels: { release: route.id, le }, value: upTo, metricName: 'ccom_request_duration_seconds_bucket' });
        }
        total = counts.reduce((a, b) => a + b, 0);
        values.push({ labels: { release: route.id, le: '+Inf' }, value: total, metricName: 'ccom_request_duration_seconds_bucket' });
        values.push({ labels: { release: route.id }, value: router.latencySumMs(route.id) / 1000, metricName: 'ccom_request_duration_seconds_sum' });
        values.push({ labels: { release: route.id }, value: total, metricName: 'ccom_request_duration_seconds_count' });
      }
      return { name: 'ccom_request_duration_seconds', help: 'Time from forwarding a request to receiving the response head, per release', type: 'histogram', aggregator: 'sum', values } as never;
    },
    reset: () => undefined,
  } as unknown as Metric;
}
