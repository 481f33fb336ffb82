import type { Client, Connection } from '@temporalio/client';
import { connectClient, type TemporalOptions } from '../lib/temporal/index.js';
import type { TemporalHealthCheck } from './routes/health.js';

/**
 * A /healthz check on Temporal's gRPC health service. It connects on first use and again after a
 * failure, so the gateway starts (and serves reports) while Temporal is still down, and /healthz says
 * so instead of the process refusing to start. Connection attempts are shared by concurrent probes.
 */
export function temporalHealthCheck(options: TemporalOptions): TemporalHealthCheck & { close(): Promise<void> } {
  let client: Promise<Client> | undefined;
  let ready: Client | undefined;
  const connected = () => {
    client ??= connectClient(options).then(
      (made) => {
        ready = made;
        return made;
      },
      (error: unknown) => {
        client = undefined;
        throw error;
      },
    );
    return client;
  };
  return {
    async check() {
      // connectClient builds the client on a full Connection, which has the health service.
      const connection = (await connected()).connection as Connection;
      // A deadline on the call itself, so an unanswered probe does not stay pending on the channel.
      const answer = await connection.withDeadline(Date.now() + 5_000, () => connection.healthService.check({}));
      // 1 is SERVING in grpc.health.v1.
      if (answer.status !== 1) throw new Error(`Temporal reports status ${answer.status} (not SERVING)`);
    },
    async close() {
      const [current, open] = [client, ready];
      client = undefined;
      ready = undefined;
      if (open) return open.connection.close();
      // An attempt still connecting (Temporal down) is closed when it ends, without holding up shutdown.
      void current?.then(
        (late) => late.connection.close(),
        () => {},
      );
    },
  };
}
