import { readdirSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { pidAlive } from '../agent/process-handle.js';
import { listenForHandoffs } from './handoff.js';
import { PortFront, type PortKind } from './port-front.js';
import { otherApps, register, unregister } from './port-registry.js';

/** How often the registry is read: the owner learns of new apps, the others whether the owner is gone. */
const POLL_MS = 100;
/** After the owner went: how long, and how often, binding is tried before falling back to POLL_MS. */
const EAGER_MS = 30_000;
const EAGER_RETRY_MS = 10;

export interface SharedPortDeps {
  port: number;
  kind: PortKind;
  app: string;
  dir: string;
  stateDir: string;
  /** Serves a connection exactly as one accepted on this agent's own port. */
  local: (socket: Socket) => void;
  /** Binds the port itself (rejects while another agent holds it). */
  bind: () => Promise<void>;
  /** Bound: from now on each accepted connection goes through `front`. */
  onOwner: (front: PortFront) => void;
  log: (message: string) => void;
}

/**
 * One app's place on a port that several apps with `domains` share by host name. Every such
 * agent registers its names and a handoff socket; the one bound to the port (its owner) looks
 * at each connection and hands it to the app it names. When the owner goes (`ccom down`, or its
 * agent gone for good), the next agent that manages to bind the port becomes the owner.
 */
export class SharedPort {
  private readonly front: PortFront;
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private domains: string[] = [];
  private taking = false;
  /** An owner was seen: once it is gone, binding is tried often for a while (see poll). */
  private eager = false;
  private closed = false;
  owner = false;

  constructor(private readonly deps: SharedPortDeps) {
    this.front = new PortFront(deps.port, deps.app, deps.kind, deps.local, deps.log);
  }

  /** Other apps are registered: this agent hands their connections on while it holds the port. */
  get handsOn(): boolean {
    return this.owner && this.front.shared;
  }

  get port(): number {
    return this.deps.port;
  }

  /** Named by pid: an agent handing over to its successor must not unlink the successor's socket as it closes. */
  get socketPath(): string {
    return join(this.deps.stateDir, `handoff-${this.deps.port}-${process.pid}.sock`);
  }

  /** Sockets of this app's agents that were killed: nobody listens there any more. */
  private removeStaleSockets(): void {
    const prefix = `handoff-${this.deps.port}-`;
    for (const name of readdirSync(this.deps.stateDir)) {
      const pid = Number(name.slice(prefix.length, -'.sock'.length));
      if (name.startsWith(prefix) && name.endsWith('.sock') && Number.isInteger(pid) && !pidAlive(pid)) rmSync(join(this.deps.stateDir, name), { force: true });
    }
  }

  /** Registers `domains` (again, after a change); `owner`: this agent is bound to the port. */
  async configure(domains: string[], owner: boolean): Promise<void> {
    this.domains = [...domains];
    this.front.setOwnDomains(domains);
    if (!this.server) this.removeStaleSockets();
    this.server ??= await listenForHandoffs(this.socketPath, this.deps.local, this.deps.log);
    // The front knows the other apps before it sees its first connection.
    this.front.refresh();
    if (owner && !this.owner) this.deps.onOwner(this.front);
    this.owner = owner;
    this.register();
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  private register(): void {
    register(this.deps.port, { app: this.deps.app, dir: this.deps.dir, domains: this.domains, socket: this.socketPath, pid: process.pid, owner: this.owner });
  }

  private async poll(): Promise<void> {
    if (this.owner) return this.front.refresh();
    if (this.taking) return;
    if (this.ownerRegistered()) {
      this.eager = true;
      return;
    }
    this.taking = true;
    // The owner's entry went first; its guardian lets go of the port moments later, as it
    // exits: tried every 10 ms meanwhile, so few connections meet a closed port.
    const until = Date.now() + (this.eager ? EAGER_MS : 0);
    this.eager = false;
    try {
      do {
        if (await this.tryBind()) return;
        await new Promise((r) => setTimeout(r, EAGER_RETRY_MS));
      } while (Date.now() < until && !this.closed && !this.ownerRegistered());
    } finally {
      this.taking = false;
    }
  }

  private ownerRegistered(): boolean {
    return otherApps(this.deps.port, this.deps.app).some((e) => e.owner);
  }

  private async tryBind(): Promise<boolean> {
    try {
      await this.deps.bind();
    } catch {
      return false; // still held
    }
    this.owner = true;
    this.front.refresh();
    this.deps.onOwner(this.front);
    this.register();
    this.deps.log(`port ${this.deps.port}: its owner is gone, this agent serves it now and hands other apps' names on`);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    unregister(this.deps.port, this.deps.app);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.socketPath, { force: true });
  }
}
