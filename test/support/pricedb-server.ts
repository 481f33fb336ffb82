// A local HTTP server speaking CrunchDAO pricedb's format (GET /v1/prices?asset&from&to&resolution=minute
// -> {"timestamp": [...], "close": [...]}), whose misbehaviour each test scripts per asset: down, minutes
// missing, the minute in progress served at a provisional close, past points corrected, outliers, a
// frozen feed, an answer of 50 MB. Every minute up to `to` is served, the one in progress included.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AssetScript {
  /** The final close of a minute. */
  price: (ts: number) => number;
  /** Answer 503 for this asset. */
  down?: boolean;
  /** Minutes left out of the answer (not published yet). */
  skip?: Set<number>;
  /** Values served instead of price(ts) (corrections, outliers). */
  override?: Map<number, number>;
  /** Serve no minute after this one (a frozen feed that still answers 200). */
  frozenAfter?: number;
  /** Answer a body of this many bytes. */
  hugeBytes?: number;
}

export interface PriceDbServer {
  url: string;
  scripts: Map<string, AssetScript>;
  /** Requests served per asset. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

/** The close served for the minute in progress at `now`: 99 % of its final value, as measured on pricedb. */
export const PROVISIONAL = 0.99;

export async function startPriceDbServer(now: () => number): Promise<PriceDbServer> {
  const scripts = new Map<string, AssetScript>();
  const requests = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const asset = url.searchParams.get('asset') ?? '';
    requests.set(asset, (requests.get(asset) ?? 0) + 1);
    const script = scripts.get(asset);
    const send = (status: number, text: string) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        connection: 'close',
      });
      response.end(text);
    };
    if (url.pathname.replace(/^\/[^/]*\/v1/, '/v1') !== '/v1/prices' || !script) {
      return send(404, JSON.stringify({ error: `unknown asset ${asset}` }));
    }
    if (script.down) return send(503, JSON.stringify({ error: 'maintenance' }));
    if (script.hugeBytes) {
      response.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      const chunk = `${'1,'.repeat(32_768)}`;
      response.write('{"timestamp": [');
      let sent = 0;
      const pump = () => {
        while (sent < script.hugeBytes!) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end('1], "close": []}');
      };
      response.on('error', () => {});
      response.on('close', () => {
        sent = Number.POSITIVE_INFINITY;
      });
      return pump();
    }
    const from = Number(url.searchParams.get('from'));
    const to = Number(url.searchParams.get('to'));
    const timestamp: number[] = [];
    const close: number[] = [];
    const inProgress = Math.floor(now() / 60) * 60;
    for (let ts = Math.ceil(from / 60) * 60; ts <= Math.min(to, now()); ts += 60) {
      if (script.skip?.has(ts)) continue;
      if (script.frozenAfter !== undefined && ts > script.frozenAfter) continue;
      const final = script.override?.get(ts) ?? script.price(ts);
      timestamp.push(ts);
      close.push(ts === inProgress ? final * PROVISIONAL : final);
    }
    send(200, JSON.stringify({ timestamp, close }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    scripts,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
