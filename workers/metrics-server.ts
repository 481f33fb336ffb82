// One Prometheus endpoint per worker process (WORKER_METRICS_PORT): the Temporal SDK's runtime metrics
// (task latency, slots, polls, sticky cache; exported by the SDK's core on an internal port) followed by
// the coordinator's own, in one scrape.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../lib/log/index.js';

export interface WorkerMetricsServer {
  url: string;
  close(): Promise<void>;
}

/** A free port on the loopback interface, for the SDK's exporter (which cannot be given port 0 and asked). */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function serveWorkerMetrics(options: {
  host: string;
  port: number;
  registry: Registry;
  /** The SDK core's Prometheus endpoint; left out when the runtime was installed without it. */
  sdkMetricsUrl?: string;
  logger: Logger;
}): Promise<WorkerMetricsServer> {
  const { registry, sdkMetricsUrl, logger } = options;
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(request.method === 'GET' ? 404 : 405, { 'content-type': 'text/plain' });
      response.end('this worker serves GET /metrics only\n');
      return;
    }
    void (async () => {
      let sdk = '# the Temporal SDK runtime metrics are not exported in this process\n';
      if (sdkMetricsUrl) {
        try {
          const answer = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(5_000) });
          sdk = await answer.text();
        } catch (error) {
          logger.warn({ err: error }, 'could not read the Temporal SDK metrics for /metrics');
          sdk = '# the Temporal SDK runtime metrics did not answer\n';
        }
      }
      const own = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(`${sdk.endsWith('\n') ? sdk : `${sdk}\n`}${own}`);
    })().catch((error) => {
      logger.error({ err: error }, 'worker /metrics failed');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('metrics failed (logged)\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/metrics`;
  return {
    url,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
