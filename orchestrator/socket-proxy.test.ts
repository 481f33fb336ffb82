import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SocketProxy } from './socket-proxy.js';

/** Sends `text` to the port and resolves with everything received until the other side closes. */
const exchange = (port: number, text: string): Promise<string> =>
  new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(text));
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    socket.once('close', () => resolve(received));
    socket.once('error', reject);
  });

describe('SocketProxy', () => {
  let dir: string;
  let model: Server;
  let proxy: SocketProxy | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'socket-proxy-'));
    // A stand-in model: echoes in upper case on a Unix socket.
    model = createServer((socket) => socket.on('data', (chunk) => socket.end(chunk.toString().toUpperCase())));
    await new Promise<void>((resolve) => model.listen(join(dir, 'model.sock'), resolve));
  });
  afterEach(async () => {
    await proxy?.close();
    await new Promise((resolve) => model.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards a TCP connection byte for byte to the Unix socket, and closes with it', async () => {
    proxy = await SocketProxy.listen('127.0.0.1', 0, join(dir, 'model.sock'));
    expect(proxy.port).toBeGreaterThan(0);
    expect(await exchange(proxy.port, 'hello model')).toBe('HELLO MODEL');
  });

  it('refuses to follow a link planted in place of the socket (another service’s socket)', async () => {
    symlinkSync(join(dir, 'model.sock'), join(dir, 'planted.sock'));
    proxy = await SocketProxy.listen('127.0.0.1', 0, join(dir, 'planted.sock'));
    expect(await exchange(proxy.port, 'hello')).toBe('');
  });

  it('closes the connection while the model has no socket yet', async () => {
    proxy = await SocketProxy.listen('127.0.0.1', 0, join(dir, 'absent.sock'));
    expect(await exchange(proxy.port, 'hello')).toBe('');
  });
});
