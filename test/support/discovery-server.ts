// A test orchestrator WebSocket speaking docs/protocol.md#discovery: announce, update and stop models, and
// record the report_failure messages clients send. Loopback only.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface WireModelState {
  deployment_id: string;
  model_id: string;
  infos: {
    model_name: string;
    cruncher_id: string;
    cruncher_name: string;
    cruncher_wallet_pubkey: string | null;
    cruncher_hotkey: string | null;
  };
  state: 'RUNNING' | 'STOPPED' | 'RECOVERING';
  ip: string;
  port: number | string;
}

export interface WireFailureReport {
  model_id: string;
  failure_code: string;
  failure_reason: string | null;
  ip: string;
}

export interface AnnounceOptions {
  modelId: string;
  port: number;
  ip?: string;
  /** Default: a new `{model_id}_{YYYYmmdd_HHMMSS_mmm}` id. */
  deploymentId?: string;
  name?: string;
  cruncherId?: string;
  cruncherName?: string;
  /** Send the port as a numeric string, as some orchestrator versions do. */
  portAsString?: boolean;
  /** The cruncher's wallet (base58) and hotkey, which a secure node's signed identity must name. */
  walletPubkey?: string | null;
  hotkey?: string | null;
}

export interface DiscoveryServerOptions {
  crunchId?: string;
}

let lastStamp = 0;

/** A deployment id in the orchestrator's shape, unique within this process. */
export function newDeploymentId(modelId: string): string {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  const at = new Date(lastStamp).toISOString(); // 2024-05-01T12:34:56.789Z
  const stamp = `${at.slice(0, 10).replaceAll('-', '')}_${at.slice(11, 19).replaceAll(':', '')}_${at.slice(20, 23)}`;
  return `${modelId}_${stamp}`;
}

export class TestDiscoveryServer {
  /** Every report_failure entry received, in order. */
  readonly reports: WireFailureReport[] = [];
  /** Connections accepted so far (each one got its own init). */
  connectionsAccepted = 0;
  /** While true, new connections are refused with HTTP 503 (the orchestrator is "down"). */
  refuseConnections = false;
  private readonly running = new Map<string, WireModelState>();
  private readonly sockets = new Set<WebSocket>();
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: WebSocketServer,
    readonly crunchId: string,
  ) {
    server.on('connection', (socket, request) => this.accept(socket, request.url ?? '/'));
  }

  static async start(options: DiscoveryServerOptions = {}): Promise<TestDiscoveryServer> {
    const crunchId = options.crunchId ?? 'condorgame';
    let discovery: TestDiscoveryServer | undefined;
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (_info, done) => (discovery?.refuseConnections ? done(false, 503) : done(true)),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    discovery = new TestDiscoveryServer(server, crunchId);
    return discovery;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/${this.crunchId}`;
  }

  get clientCount(): number {
    return this.sockets.size;
  }

  /** The RUNNING models a new connection's init carries. */
  models(): WireModelState[] {
    return [...this.running.values()];
  }

  /** Adds (or replaces) a RUNNING model and tells connected clients. */
  announce(options: AnnounceOptions): WireModelState {
    const state = runningState(options);
    this.running.set(state.model_id, state);
    this.broadcast([state]);
    return state;
  }

  /** A redeploy as the orchestrator does it: RUNNING for the new deployment, then STOPPED for the old. */
  redeploy(options: AnnounceOptions): { running: WireModelState; stopped: WireModelState | undefined } {
    const previous = this.running.get(options.modelId);
    const running = runningState(options);
    this.running.set(running.model_id, running);
    this.broadcast([running]);
    const stopped = previous ? { ...previous, state: 'STOPPED' as const } : undefined;
    if (stopped) this.broadcast([stopped]);
    return { running, stopped };
  }

  /** Takes a model out (STOPPED or RECOVERING) and tells connected clients. */
  stop(modelId: string, state: 'STOPPED' | 'RECOVERING' = 'STOPPED'): WireModelState | undefined {
    const current = this.running.get(modelId);
    if (!current) return undefined;
    this.running.delete(modelId);
    const update = { ...current, state };
    this.broadcast([update]);
    return update;
  }

  /** Sends any update entries as they are (for malformed or out-of-order events). */
  sendUpdate(data: unknown[]): void {
    this.broadcastText(JSON.stringify({ event: 'update', data }));
  }

  /** Sends a raw text frame to every client. */
  broadcastText(text: string): void {
    for (const socket of this.sockets) if (socket.readyState === WebSocket.OPEN) socket.send(text);
  }

  /** Cuts every client off, as a crashed orchestrator would. */
  dropClients(): void {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
  }

  /** Resolves once at least `count` reports arrived. */
  waitForReports(count: number, timeoutMs = 10_000): Promise<WireFailureReport[]> {
    return this.waitFor(
      () => this.reports.length >= count,
      timeoutMs,
      () => `${this.reports.length} of ${count} reports`,
    ).then(() => this.reports.slice());
  }

  /** Resolves once `count` clients are connected. */
  waitForClients(count: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(
      () => this.sockets.size >= count,
      timeoutMs,
      () => `${this.sockets.size} of ${count} clients`,
    );
  }

  /** Resolves once `count` connections were accepted in all. */
  waitForConnections(count: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(
      () => this.connectionsAccepted >= count,
      timeoutMs,
      () => `${this.connectionsAccepted} of ${count} connections`,
    );
  }

  async close(): Promise<void> {
    this.dropClients();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket, path: string): void {
    if (path.replace(/\//g, '') === '') {
      socket.send(JSON.stringify({ error: 'crunch_id is required in the path: ws://host:port/{crunch_id}' }));
      socket.close();
      return;
    }
    this.connectionsAccepted++;
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.wake();
    });
    socket.on('message', (data) => this.receive(data.toString()));
    socket.send(JSON.stringify({ event: 'init', data: this.models() }));
    this.wake();
  }

  private receive(text: string): void {
    let message: { event?: string; data?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.event !== 'report_failure' || !Array.isArray(message.data)) return;
    for (const entry of message.data) this.reports.push(entry as WireFailureReport);
    this.wake();
  }

  private broadcast(data: WireModelState[]): void {
    this.broadcastText(JSON.stringify({ event: 'update', data }));
  }

  private waitFor(done: () => boolean, timeoutMs: number, progress: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`discovery server: only ${progress()} after ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function runningState(options: AnnounceOptions): WireModelState {
  return {
    deployment_id: options.deploymentId ?? newDeploymentId(options.modelId),
    model_id: options.modelId,
    infos: {
      model_name: options.name ?? options.modelId,
      cruncher_id: options.cruncherId ?? `cruncher-${options.modelId}`,
      cruncher_name: options.cruncherName ?? `Cruncher ${options.modelId}`,
      cruncher_wallet_pubkey: options.walletPubkey ?? null,
      cruncher_hotkey: options.hotkey ?? null,
    },
    state: 'RUNNING',
    ip: options.ip ?? '127.0.0.1',
    port: options.portAsString ? String(options.port) : options.port,
  };
}
