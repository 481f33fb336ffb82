import { lstatSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP port that forwards each connection, byte for byte, to a sandboxed model's Unix socket: the
 * model has no network, and coordinators (ours, CrunchDAO's client) keep dialling host:port. The
 * socket must be a socket, not a link the model planted to another service's socket on this host.
 */
export class SocketProxy {
  readonly port: number;
  private readonly server: Server;
  private readonly sockets: Set<Socket>;

  private constructor(server: Server, port: number, sockets: Set<Socket>) {
    this.server = server;
    this.port = port;
    this.sockets = sockets;
  }

  /** Listens on `host` (port 0 = any free one) and forwards to `socketPath`. */
  static listen(host: string, port: number, socketPath: string): Promise<SocketProxy> {
    const sockets = new Set<Socket>();
    // Half-open: a side that finishes sending still gets the other side's answer (pipe passes the end on).
    const server = createServer({ allowHalfOpen: true }, (client) => {
      sockets.add(client);
      client.once('close', () => sockets.delete(client));
      let isSocket = false;
      try {
        isSocket = lstatSync(socketPath).isSocket();
      } catch {
        // not there yet: the model is starting
      }
      if (!isSocket) {
        client.destroy();
        return;
      }
      const model = connect({ path: socketPath, allowHalfOpen: true });
      sockets.add(model);
      model.once('close', () => sockets.delete(model));
      client.setNoDelay(true);
      client.pipe(model);
      model.pipe(client);
      const end = (): void => {
        client.destroy();
        model.destroy();
      };
      client.once('error', end);
      model.once('error', end);
      client.once('close', end);
      model.once('close', end);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(new SocketProxy(server, typeof address === 'object' && address ? address.port : port, sockets));
      });
    });
  }

  /** Stops listening and cuts every forwarded connection. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
