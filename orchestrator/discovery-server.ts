import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { createLogger } from '../lib/log/index.js';
import type { FailureReport, ModelState } from './types.js';

const log = createLogger('orchestrator');

const reportFrame = z.object({
  event: z.literal('report_failure'),
  data: z.array(
    z.object({
      model_id: z.union([z.string(), z.number()]).transform(String),
      failure_code: z.string(),
      failure_reason: z.string().nullish(),
      ip: z.string().optional(),
    }),
  ),
});

export interface DiscoveryServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The models a client of this crunch gets in its `init` frame: those running now. */
  initialStates(crunchId: string): ModelState[];
  onReport(crunchId: string, report: FailureReport): void;
  /** Ping interval that drops dead clients (default 30 s). */
  heartbeatMs?: number;
}

/**
 * CrunchDAO's discovery WebSocket (docs/protocol.md#discovery): `ws://HOST:PORT/{crunch_id}`, an `init` frame
 * on connect, `update` frames after, `report_failure` frames from clients. A bad frame from a client
 * is logged and ignored; it never drops the connection or the server.
 */
export class DiscoveryServer {
  private readonly options: DiscoveryServerOptions;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<WebSocket, { crunchId: string; alive: boolean }>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(options: DiscoveryServerOptions) {
    this.options = options;
    this.http = createServer((request, response) => {
      response.writeHead(426, { 'content-type': 'application/json', upgrade: 'websocket', connection: 'Upgrade' });
      response.end(
        JSON.stringify({ error: 'upgrade required: connect with a WebSocket to ws://HOST:PORT/{crunch_id}' }),
      );
      request.resume();
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
    this.http.on('upgrade', (request, socket, head) => {
      socket.on('error', () => socket.destroy());
      this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
    });
  }

  /** Listens; resolves the bound port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.heartbeat = setInterval(() => this.ping(), this.options.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
    return (this.http.address() as AddressInfo).port;
  }

  /** Sends `{"event":"update","data":[state]}` to every client of that crunch. */
  publish(crunchId: string, state: ModelState): void {
    const frame = JSON.stringify({ event: 'update', data: [state] });
    for (const [ws, client] of this.clients) {
      if (client.crunchId === crunchId && ws.readyState === ws.OPEN) ws.send(frame);
    }
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const ws of this.clients.keys()) ws.terminate();
    this.clients.clear();
    this.wss.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(ws: WebSocket, request: IncomingMessage): void {
    const crunchId = crunchIdOf(request.url);
    if (!crunchId) {
      ws.send(JSON.stringify({ error: 'crunch_id is required in the path: ws://HOST:PORT/{crunch_id}' }));
      ws.close(1008, 'crunch_id is required');
      return;
    }
    const client = { crunchId, alive: true };
    this.clients.set(ws, client);
    log.info({ crunchId, clients: this.clients.size }, `a coordinator connected to crunch ${crunchId}`);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => this.receive(crunchId, data.toString(), isBinary));
    ws.on('error', (error) => log.warn({ crunchId, error: error.message }, 'discovery connection error'));
    ws.on('close', () => {
      this.clients.delete(ws);
      log.info({ crunchId, clients: this.clients.size }, `a coordinator disconnected from crunch ${crunchId}`);
    });
    ws.send(JSON.stringify({ event: 'init', data: this.options.initialStates(crunchId) }));
  }

  private receive(crunchId: string, text: string, isBinary: boolean): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      log.warn({ crunchId, frame: text.slice(0, 200), isBinary }, 'ignored a discovery frame that is not JSON');
      return;
    }
    const parsed = reportFrame.safeParse(frame);
    if (!parsed.success) {
      log.warn(
        { crunchId, frame: text.slice(0, 200), problem: parsed.error.issues[0]?.message },
        'ignored a discovery frame that is not a report_failure event',
      );
      return;
    }
    for (const report of parsed.data.data) {
      try {
        this.options.onReport(crunchId, report);
      } catch (error) {
        log.error({ crunchId, report, error: (error as Error).message }, 'handling a failure report failed');
      }
    }
  }

  private ping(): void {
    for (const [ws, client] of this.clients) {
      if (!client.alive) {
        ws.terminate();
        continue;
      }
      client.alive = false;
      ws.ping();
    }
  }
}

/** The crunch id of a request path `/{crunch_id}` (query ignored), or '' when there is none. */
export function crunchIdOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0] ?? '';
  try {
    return decodeURIComponent(path.replace(/^\/+/, '').replace(/\/+$/, ''));
  } catch {
    return '';
  }
}
