/** One infrastructure check, as `ccom doctor --json` prints it (SPEC). */
export interface Check {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  message: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

/** What a target's capacity checks need to know about the app's planned release. */
export interface CapacityNeeds {
  proxy: { host: string; port: number };
  /** With tls: the plain-HTTP port (ACME challenges, the redirect), checked like the public port. */
  httpPort?: number;
  /** The app and its domains: a port other apps with domains hold is shared with them by host name. */
  app?: string;
  domains?: string[];
  monitoringPort: number;
  /** monitoring.port was left to its default: a taken one moves to the next free port. */
  monitoringPortFromDefault?: boolean;
  instances: number;
  /** Expected resident memory per instance (limits.memory, else measured from the live release). */
  memoryPerInstance?: number;
  /** Bytes a new release will take on disk (the last one's size, or the app's). */
  releaseBytes?: number;
}
