/** Where the certificate comes from: ACME (`acme`) or files (`cert`, `key`, relative to the app directory). */
export interface TlsOptions {
  acme?: { email: string; directory: string; caFile?: string };
  cert?: string;
  key?: string;
  /** Send Strict-Transport-Security (one year) with every answer from the app. */
  hsts: boolean;
}

/** The public port speaks TLS: certificates per domain (by SNI), plain HTTP on `httpPort` for ACME and the redirect. */
export interface HttpsOptions {
  domains: string[];
  tls: TlsOptions;
  /** Plain HTTP: ACME http-01 challenges, everything else a 308 to https (0 picks a free port). */
  httpPort: number;
}
