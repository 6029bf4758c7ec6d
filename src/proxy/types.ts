/** One running instance of a release, reachable over HTTP. */
export interface Upstream {
  id: string;
  host: string;
  port: number;
}

/** A release and the share of public traffic it gets (weights are relative, not percentages). */
export interface ReleaseRoute {
  id: string;
  weight: number;
  upstreams: Upstream[];
}

/**
 * Per-release traffic counters since the router started (they survive table swaps).
 * `requests` counts attempts sent to the release's upstreams (a retried request counts once per
 * release it tried); `status5xx` counts upstream responses ≥ 500; `connectionErrors` counts
 * attempts that failed at the transport level (refused, reset, timed out, died mid-response),
 * whether or not a retry then saved the request. Error rate = (status5xx + connectionErrors) / requests.
 */
export interface ReleaseCounters {
  requests: number;
  /** Successful answers; a WebSocket's 101 Switching Protocols counts here too. */
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  connectionErrors: number;
}

export const ZERO_COUNTERS: Readonly<ReleaseCounters> = Object.freeze({ requests: 0, status2xx: 0, status3xx: 0, status4xx: 0, status5xx: 0, connectionErrors: 0 });

/** A route whose outcomes are counted per release (a business metric such as checkouts). */
export interface BusinessRoute {
  name: string;
  method: string;
  path: string;
}

/** Responses of one business route for one release, by status class. */
export interface BusinessCounts {
  ok: number;
  clientError: number;
  serverError: number;
}
