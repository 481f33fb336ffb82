import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface CappedLogOptions {
  /** Size at which the file is rotated to `<path>.1` (the previous `.1` is dropped). */
  maxBytes: number;
}

/**
 * An append-only log file with a size cap, for output we do not control (pip, participant code).
 * When a write would pass the cap the file moves to `<path>.1` and a fresh one starts with a line
 * saying so, so at most about twice the cap is ever on disk. Emits 'data' with each text written,
 * which is how HTTP followers see new lines, and 'close'.
 */
export class CappedLog extends EventEmitter<{ data: [string]; close: [] }> {
  readonly path: string;
  private readonly maxBytes: number;
  private fd: number | undefined;
  private size = 0;

  constructor(path: string, options: CappedLogOptions) {
    super();
    if (!(options.maxBytes > 0)) throw new Error(`log size cap must be positive, got ${options.maxBytes}`);
    this.path = path;
    this.maxBytes = options.maxBytes;
    mkdirSync(dirname(path), { recursive: true });
    this.size = existsSync(path) ? statSync(path).size : 0;
    this.fd = openSync(path, 'a');
  }

  write(text: string): void {
    if (this.fd === undefined || text.length === 0) return;
    let bytes = Buffer.from(text);
    if (this.size + bytes.length > this.maxBytes) {
      this.rotate();
      // A single write larger than the cap keeps only its end: the most recent output matters most.
      if (bytes.length > this.maxBytes / 2) bytes = bytes.subarray(bytes.length - Math.floor(this.maxBytes / 2));
    }
    writeSync(this.fd, bytes);
    this.size += bytes.length;
    this.emit('data', bytes.toString());
  }

  /** Writes one line stamped with the time, for the orchestrator's own remarks among the output. */
  line(message: string): void {
    this.write(`[${new Date().toISOString()}] ${message}\n`);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    this.emit('close');
    this.removeAllListeners();
  }

  private rotate(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a');
    const note = Buffer.from(
      `[${new Date().toISOString()}] log reached its cap of ${this.maxBytes} bytes: the earlier part moved to ${this.path}.1 (older output dropped)\n`,
    );
    writeSync(this.fd, note);
    this.size = note.length;
    this.emit('data', note.toString());
  }
}
