import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { RequestDispatcher } from '../proxy/client-connection.js';
import { createProxyServer, type ProxyServer } from '../proxy/server.js';
import type { HttpsOptions } from '../targets/types.js';
import type { TlsFront } from '../agent/public-listener.js';
import { ChallengeAnswers } from './challenge-answers.js';
import { CertificateStore, certificateFacts, type CertificatePair, type CertificateFacts } from './cert-store.js';
import { HostGuard } from './host-guard.js';
import { httpsUrl } from './host-names.js';
import { PlainHttpPort } from './http-port.js';
import { CertificateSource } from './certificate-source.js';
import { renewalDue, checkEveryMs, expiryWarning } from './renewal.js';
import { SniTable } from './sni-table.js';
import { inheritClientAddress } from './handoff.js';
import { otherApps } from './port-registry.js';
import { SharedPort } from './shared-port.js';
import { TlsTerminator } from './tls-terminator.js';

export interface HttpsSiteDeps {
  stateDir: string;
  appDir: string;
  router: RequestDispatcher;
  log: (message: string) => void;
  /** The webhook: a certificate close to expiry that could not be renewed. */
  warn: (reason: string) => void;
}

/**
 * One app's HTTPS: its domains, their certificate (ACME or files) chosen by SNI, the plain-HTTP
 * port for challenges and redirects, and the renewal that swaps certificates in place.
 */
export class HttpsSite implements TlsFront {
  private readonly sni = new SniTable();
  private readonly challenges = new ChallengeAnswers();
  private readonly plainPort = new PlainHttpPort(this.challenges);
  private readonly guard: HostGuard;
  private readonly terminator: TlsTerminator;
  private readonly source: CertificateSource;
  readonly proxy: ProxyServer;
  private options: HttpsOptions | undefined;
  private facts: CertificateFacts | undefined;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private warnedAt = 0;
  /** The plain-HTTP port this site waits to take from a previous agent (handover), if any. */
  private waitingFor: number | null = null;
  /** This app's place on the plain-HTTP port when other apps share it by host name. */
  private plainShare: SharedPort | undefined;
  /** Why the last renewal failed (null: it did not), for status and doctor. */
  problem: string | null = null;

  constructor(private readonly deps: HttpsSiteDeps) {
    this.guard = new HostGuard(deps.router, this.sni);
    this.proxy = createProxyServer(this.guard);
    this.terminator = new TlsTerminator(this.sni, (socket) => {
      // Handed over by a shared port's owner: the client's address came in the PROXY line.
      inheritClientAddress(socket);
      this.proxy.emit('connection', socket);
    });
    this.source = new CertificateSource(new CertificateStore(join(deps.stateDir, 'tls')), deps.appDir, this.challenges);
  }

  accept(socket: Socket): void {
    this.terminator.accept(socket);
  }

  url(port: number): string {
    return httpsUrl(this.options?.domains[0] ?? 'localhost', port);
  }

  /**
   * Binds the plain-HTTP port and installs a certificate: the stored one while it is not due,
   * else a new one. Throws (a UserError with the CA's reason) only when there is none to serve.
   */
  async configure(options: HttpsOptions, host: string, httpsPort: number, opts: { busyPortLater: boolean; app: string }): Promise<void> {
    this.options = options;
    this.guard.configure(options.domains, options.tls.hsts === true);
    this.plainPort.site = { domains: options.domains, httpsPort };
    let member = false;
    // Already waiting for the previous agent to let this port go: the wait takes it.
    if (this.waitingFor !== options.httpPort) {
      await this.plainPort.listen(host, options.httpPort).catch((err: Error) => {
        // Held by another app with domains: shared by host name, it hands this app's requests on.
        if (isPortBusy(err) && options.httpPort !== 0 && otherApps(options.httpPort, opts.app).length > 0) return void (member = true);
        if (!opts.busyPortLater || !isPortBusy(err)) throw err;
        this.listenWhenFree(host, options.httpPort);
      });
    }
    // Before the order: the CA's http-01 request may reach this app only through the owner.
    await this.sharePlainPort(options, host, opts.app, !member);
    const { pair, problem } = await this.source.obtain(options, (facts) => renewalDue(facts, Date.now()));
    this.install(options.domains, pair);
    this.problem = problem;
    if (problem) this.deps.log(`certificate for ${options.domains.join(', ')} could not be renewed, the current one keeps serving until ${this.facts?.validTo.toISOString()}: ${problem}`);
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.check(), checkEveryMs(this.facts as CertificateFacts)).unref();
  }

  private async sharePlainPort(options: HttpsOptions, host: string, app: string, owner: boolean): Promise<void> {
    if (this.plainShare?.port !== options.httpPort) await this.plainShare?.close();
    if (options.httpPort === 0) return void (this.plainShare = undefined);
    if (this.plainShare?.port !== options.httpPort) {
      this.plainShare = new SharedPort({
        port: options.httpPort,
        kind: 'http',
        app,
        dir: this.deps.appDir,
        stateDir: this.deps.stateDir,
        local: (socket) => this.plainPort.serve(socket),
        bind: () => this.plainPort.listen(host, options.httpPort, { quiet: true }),
        onOwner: (front) => this.plainPort.useFront(front),
        log: this.deps.log,
      });
    }
    await this.plainShare.configure(options.domains, owner);
  }

  /** Unregisters from a shared plain-HTTP port; true when this agent was handing other apps' requests on. */
  async leaveSharedPort(): Promise<boolean> {
    const handing = this.plainShare?.handsOn === true;
    await this.plainShare?.close();
    this.plainShare = undefined;
    return handing;
  }

  /** The served certificate, for status and doctor. */
  report(): { names: string[]; issuer: string; validTo: string; problem: string | null } | null {
    const facts = this.facts;
    return facts ? { names: facts.names, issuer: facts.issuer, validTo: facts.validTo.toISOString(), problem: this.problem } : null;
  }

  /** The previous agent lets the plain-HTTP port go once it drained: take it then (at most a minute). */
  private listenWhenFree(host: string, port: number, attempt = 0): void {
    this.waitingFor = port;
    const retry = setTimeout(() => {
      if (this.options?.httpPort !== port) {
        this.waitingFor = null;
        return;
      }
      this.plainPort.listen(host, port).then(
        () => (this.waitingFor = null),
        (err: Error) => {
          if (attempt < 120 && isPortBusy(err)) return this.listenWhenFree(host, port, attempt + 1);
          this.waitingFor = null;
          this.deps.log(`could not serve plain HTTP on port ${port}: ${err.message}`);
        },
      );
    }, 500);
    retry.unref();
  }

  private install(domains: string[], pair: CertificatePair): void {
    this.sni.set(domains, pair);
    this.sni.keepOnly(domains);
    this.terminator.setDefault(pair);
    this.facts = certificateFacts(pair.cert);
  }

  /**
   * Renews an ACME certificate that is due, or takes up replaced certificate files; a failure
   * keeps the current certificate and, within 14 days of its expiry, warns once a day.
   */
  private async check(): Promise<void> {
    const options = this.options;
    const facts = this.facts;
    if (this.renewing || !options || !facts) return;
    const now = Date.now();
    if (!options.tls.acme && !this.source.filesChanged(options)) {
      this.warnNearExpiry(facts, now, `${options.tls.cert} was not replaced with a newer certificate`);
      return;
    }
    if (options.tls.acme && !renewalDue(facts, now)) return;
    this.renewing = true;
    try {
      const pair = await this.source.renew(options);
      this.install(options.domains, pair);
      this.problem = null;
      this.deps.log(`certificate for ${options.domains.join(', ')} renewed: valid until ${this.facts?.validTo.toISOString()}`);
    } catch (err) {
      this.problem = (err as Error).message;
      this.deps.log(`certificate for ${options.domains.join(', ')} not renewed (the current one keeps serving): ${this.problem}`);
      this.warnNearExpiry(facts, now, this.problem);
    } finally {
      this.renewing = false;
    }
  }

  private warnNearExpiry(facts: CertificateFacts, now: number, problem: string): void {
    const warning = expiryWarning(facts, now, problem);
    if (!warning || now - this.warnedAt < 86_400_000) return;
    this.warnedAt = now;
    this.deps.log(warning);
    this.deps.warn(warning);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.plainShare?.close();
    await this.plainPort.close();
  }
}

function isPortBusy(err: Error): boolean {
  return (err.cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}
