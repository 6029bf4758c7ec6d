/** Requests a target sends to a release itself: smoke checks through the preview route, and warm-up. */
export interface ProbeResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface ProbeRequest {
  method: string;
  path: string;
}

/** `total` requests, `concurrency` at a time, round robin over a release's instances, for at most `timeoutMs`. */
export interface WarmPlan {
  requests: ProbeRequest[];
  total: number;
  concurrency: number;
  timeoutMs: number;
}

export interface WarmReport {
  sent: number;
  /** Answered 5xx or not at all. */
  failed: number;
  durationMs: number;
  /** Latency of the first request to each instance, and the median and p90 of all, in ms. */
  firstMs: number[];
  medianMs: number;
  p90Ms: number;
}
