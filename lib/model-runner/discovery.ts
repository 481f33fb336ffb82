// The orchestrator's WebSocket (docs/protocol.md#discovery): which models run and where, and where failure
// reports go. Reconnects forever; every connection starts with a fresh `init`.
import WebSocket from 'ws';
import { z } from 'zod';
import type { Logger } from '../log/index.js';
import type { FailureCode } from './types.js';

export type ModelRunState = 'RUNNING' | 'STOPPED' | 'RECOVERING';

export interface ModelState {
  deploymentId: string;
  modelId: string;
  state: string;
  ip: string | null;
  port: number | null;
  infos: {
    modelName: string | null;
    cruncherId: string | null;
    cruncherName: string | null;
    cruncherWalletPubkey: string | null;
    cruncherHotkey: string | null;
  };
}

export interface FailureReport {
  model_id: string;
  failure_code: FailureCode;
  failure_reason: string;
  ip: string;
}

const optionalText = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((value) => (value === null || value === undefined ? null : String(value)));

const modelStateSchema = z.object({
  deployment_id: z.union([z.string().min(1), z.number()]).transform(String),
  model_id: z.union([z.string().min(1), z.number()]).transform(String),
  state: z.string(),
  ip: z.string().nullish(),
  // The orchestrator sends the port as a number or as a numeric string.
  port: z
    .union([z.number(), z.string().regex(/^\s*\d+\s*$/, 'a port number')])
    .nullish()
    .transform((value) => (value === null || value === undefined ? null : Number(value)))
    .refine((port) => port === null || (Number.isInteger(port) && port > 0 && port < 65536), 'a port from 1 to 65535'),
  infos: z
    .object({
      model_name: optionalText,
      cruncher_id: optionalText,
      cruncher_name: optionalText,
      cruncher_wallet_pubkey: optionalText,
      cruncher_hotkey: optionalText,
    })
    .partial()
    .nullish(),
});

export type DiscoveryMessage =
  | { kind: 'init' | 'update'; states: ModelState[]; problems: string[] }
  | { kind: 'error'; message: string }
  | { kind: 'ignored'; message: string };

/** Reads one text frame. Entries that do not make sense are left out and described in `problems`. */
export function parseDiscoveryMessage(text: string): DiscoveryMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: 'ignored', message: `not JSON: ${text.slice(0, 200)}` };
  }
  if (!message || typeof message !== 'object' || Array.isArray(message)) {
    return { kind: 'ignored', message: `not an event object: ${text.slice(0, 200)}` };
  }
  const { event, data, error } = message as { event?: unknown; data?: unknown; error?: unknown };
  if (event !== 'init' && event !== 'update') {
    if (error !== undefined) return { kind: 'error', message: String(error) };
    return { kind: 'ignored', message: `unknown event ${JSON.stringify(event)}` };
  }
  if (!Array.isArray(data)) return { kind: 'ignored', message: `${event} without a data list` };
  const states: ModelState[] = [];
  const problems: string[] = [];
  data.forEach((entry, index) => {
    const parsed = modelStateSchema.safeParse(entry);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`);
      problems.push(`entry ${index} left out (${issues.join('; ')})`);
      return;
    }
    const { deployment_id, model_id, state, ip, port, infos } = parsed.data;
    states.push({
      deploymentId: deployment_id,
      modelId: model_id,
      state,
      ip: ip ?? null,
      port,
      infos: {
        modelName: infos?.model_name ?? null,
        cruncherId: infos?.cruncher_id ?? null,
        cruncherName: infos?.cruncher_name ?? null,
        cruncherWalletPubkey: infos?.cruncher_wallet_pubkey ?? null,
        cruncherHotkey: infos?.cruncher_hotkey ?? null,
      },
    });
  });
  return { kind: event, states, problems };
}

export interface DiscoveryOptions {
  url: string;
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  pingIntervalMs: number;
  logger: Logger;
  onModels: (kind: 'init' | 'update', states: ModelState[]) => void;
  onConnected: () => void;
  onDisconnected: (reason: string) => void;
}

export class DiscoveryConnection {
  private socket: WebSocket | null = null;
  private readonly queue: string[] = [];
  private failures = 0;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private firstOutcome: (() => void) | null = null;

  constructor(private readonly options: DiscoveryOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new Error(`the discovery URL must start with ws:// or wss://, got ${options.url}`);
    }
    if (url.pathname.replace(/\//g, '') === '') {
      throw new Error(
        `the discovery URL needs the crunch id as its path (ws://host:port/{crunchId}), got ${options.url}`,
      );
    }
  }

  /** Reports waiting for the orchestrator connection. */
  get pendingReports(): number {
    return this.queue.length;
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Resolves once the first `init` is applied or the first attempt failed (it keeps retrying). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.firstOutcome = resolve;
      this.open();
    });
  }

  /** Sends now, or keeps it (in order) until the orchestrator is back. */
  sendReport(report: FailureReport): void {
    const text = JSON.stringify({ event: 'report_failure', data: [report] });
    if (this.connected) this.send(text);
    else this.queue.push(text);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settleFirst();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopPinging();
    if (this.queue.length > 0) {
      this.options.logger.warn(
        { unsent: this.queue.length },
        `closing with ${this.queue.length} failure report(s) the orchestrator never received`,
      );
    }
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.terminate();
    }
  }

  private open(): void {
    if (this.closed) return;
    const { url, logger } = this.options;
    const socket = new WebSocket(url, { handshakeTimeout: 10_000 });
    this.socket = socket;
    let opened = false;
    socket.on('open', () => {
      opened = true;
      logger.info({ url }, 'connected to the orchestrator');
      this.options.onConnected();
      this.flushQueue();
      this.startPinging(socket);
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.receive(data.toString());
    });
    socket.on('pong', () => {
      (socket as WebSocket & { alive?: boolean }).alive = true;
    });
    socket.on('error', (error) => {
      logger.debug({ url, err: error }, 'orchestrator connection error');
    });
    socket.on('close', (code, reasonBuffer) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopPinging();
      const reason = opened
        ? `the connection closed (${code}${reasonBuffer.length ? ` ${reasonBuffer.toString()}` : ''})`
        : 'the orchestrator could not be reached';
      if (opened) this.options.onDisconnected(reason);
      this.settleFirst();
      this.scheduleReconnect(reason);
    });
  }

  private receive(text: string): void {
    const { logger } = this.options;
    const message = parseDiscoveryMessage(text);
    if (message.kind === 'error') {
      logger.error({ message: message.message }, `the orchestrator refused us: ${message.message}`);
      return;
    }
    if (message.kind === 'ignored') {
      logger.warn({ detail: message.message }, 'ignored a message from the orchestrator');
      return;
    }
    for (const problem of message.problems) {
      logger.warn({ event: message.kind, problem }, `a model entry from the orchestrator was left out: ${problem}`);
    }
    if (message.kind === 'init') this.failures = 0;
    this.options.onModels(message.kind, message.states);
    if (message.kind === 'init') this.settleFirst();
  }

  private flushQueue(): void {
    if (this.queue.length === 0) return;
    const pending = this.queue.splice(0);
    this.options.logger.info(
      { count: pending.length },
      `sending ${pending.length} failure report(s) held while offline`,
    );
    for (const text of pending) this.send(text);
  }

  private send(text: string): void {
    const socket = this.socket;
    if (!socket) {
      this.queue.push(text);
      return;
    }
    socket.send(text, (error) => {
      if (!error) return;
      this.options.logger.warn({ err: error }, 'a failure report could not be sent; it will be sent on reconnect');
      this.queue.unshift(text);
    });
  }

  private scheduleReconnect(reason: string): void {
    if (this.closed) return;
    const { reconnectDelayMs, maxReconnectDelayMs, logger } = this.options;
    const base = Math.min(reconnectDelayMs * 2 ** this.failures, maxReconnectDelayMs);
    // Jitter keeps a fleet of coordinators from reconnecting in lockstep after an orchestrator restart.
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.failures++;
    logger.warn({ reason, retryInMs: delay }, `lost the orchestrator (${reason}); reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open();
    }, delay);
  }

  private startPinging(socket: WebSocket): void {
    const interval = this.options.pingIntervalMs;
    if (interval <= 0) return;
    const tracked = socket as WebSocket & { alive?: boolean };
    tracked.alive = true;
    this.pingTimer = setInterval(() => {
      if (!tracked.alive) {
        this.options.logger.warn('the orchestrator stopped answering pings; reconnecting');
        socket.terminate();
        return;
      }
      tracked.alive = false;
      socket.ping();
    }, interval);
    this.pingTimer.unref();
  }

  private stopPinging(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private settleFirst(): void {
    const settle = this.firstOutcome;
    this.firstOutcome = null;
    settle?.();
  }
}
