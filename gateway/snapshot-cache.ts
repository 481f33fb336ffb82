import type { CommonQueryMethods } from 'slonik';
import type { ReadOnlyDatabase } from './database.js';
import { FreshRead } from './fresh-read.js';
import type { TimeRange } from './params.js';
import { type SnapshotsVersion, snapshotsVersion } from './queries/reports.js';

/** Builds one report body and reads, in the same statement, the snapshots' version it was built at. */
export type SnapshotReportBuilder = (db: CommonQueryMethods) => Promise<{ body: string; version: string }>;

export interface SnapshotCacheOptions {
  /** How long the answer to "which version are the snapshots at" may be reused (as LeaderboardCache). */
  maxAgeMs: number;
  /** Bodies kept, at most this many bytes in all (default 64 MiB); the least recently used go first. */
  maxBytes?: number;
}

/**
 * The bodies of the snapshot reports (/reports/models/global and /params). Snapshots change only when
 * a leaderboard pass, a backfill or retention writes them, and each such statement bumps their version
 * (sql/011), so a body is reused while the version it was built at is current. Which version is current
 * is one primary-key read, shared by concurrent requests and reused for at most `maxAgeMs` (FreshRead).
 * A range ending at or after the newest snapshot is keyed as open-ended, so clients asking "until now"
 * share one body until the next pass.
 */
export class SnapshotReportCache {
  private readonly current: FreshRead<SnapshotsVersion>;
  private version: string | undefined;
  private readonly bodies = new Map<string, Buffer>();
  private readonly building = new Map<string, Promise<{ body: Buffer; version: string }>>();
  private bytes = 0;
  private readonly maxBytes: number;
  /** Bodies asked for, served from memory, built by a query, version probes. */
  readonly stats = { requests: 0, hits: 0, builds: 0, probes: 0 };

  constructor(
    private readonly database: ReadOnlyDatabase,
    options: SnapshotCacheOptions,
  ) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.current = new FreshRead(
      () => {
        this.stats.probes++;
        return database.read(snapshotsVersion);
      },
      { maxAgeMs: options.maxAgeMs },
    );
  }

  async body(report: string, modelIds: string[], range: TimeRange, build: SnapshotReportBuilder): Promise<Buffer> {
    this.stats.requests++;
    const { version, newestAsOfUs } = await this.current.get();
    if (version !== this.version) {
      this.version = version;
      this.bodies.clear();
      this.bytes = 0;
    }
    // The reports order rows by time then model id, so the order the ids were named in does not matter.
    const endUs = range.end.ms * 1000 + range.end.micros;
    const end = newestAsOfUs !== null && endUs >= newestAsOfUs ? 'open' : range.end.iso;
    const key = `${report}\n${[...modelIds].sort().join('\n')}\n${range.start.iso}\n${end}`;
    const cached = this.bodies.get(key);
    if (cached) {
      this.stats.hits++;
      this.bodies.delete(key);
      this.bodies.set(key, cached);
      return cached;
    }
    const built = await this.build(`${version}\n${key}`, build);
    // Kept only if it was read at the version this request saw (else a newer one: serve it, keep nothing).
    if (built.version === this.version && !this.bodies.has(key)) this.keep(key, built.body);
    return built.body;
  }

  private build(key: string, build: SnapshotReportBuilder): Promise<{ body: Buffer; version: string }> {
    const running = this.building.get(key);
    if (running) return running;
    this.stats.builds++;
    const result = this.database
      .read(build)
      .then(({ body, version }) => ({ body: Buffer.from(body), version }))
      .finally(() => this.building.delete(key));
    this.building.set(key, result);
    return result;
  }

  private keep(key: string, body: Buffer): void {
    if (body.length > this.maxBytes) return;
    this.bodies.set(key, body);
    this.bytes += body.length;
    for (const [oldest, old] of this.bodies) {
      if (this.bytes <= this.maxBytes) break;
      this.bodies.delete(oldest);
      this.bytes -= old.length;
    }
  }
}
