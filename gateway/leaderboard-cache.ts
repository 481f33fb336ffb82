import type { ReadOnlyDatabase } from './database.js';
import { FreshRead } from './fresh-read.js';
import { latestLeaderboardKey, leaderboardReport } from './queries/reports.js';

const EMPTY = Buffer.from('[]');

/**
 * The body of /reports/leaderboard. A published leaderboard does not change, so its serialised body is
 * kept, keyed by the newest leaderboard's id and row version. Which leaderboard is newest is asked of
 * the database (one indexed row) through FreshRead: concurrent requests share the question, and its
 * answer is reused for at most `maxAgeMs`. With 0, a new leaderboard is served by the first request
 * that starts after it is committed; with the gateway's default of 250 ms, at most that much later (a
 * leaderboard is published every few minutes).
 */
export class LeaderboardCache {
  private cached: { key: string; body: Buffer } | undefined;
  private readonly latest: FreshRead<string | null>;
  private building: { key: string; body: Promise<{ key: string; body: Buffer } | null> } | undefined;
  /** Bodies asked for, how often the database was asked which leaderboard is newest, bodies built. */
  readonly stats = { requests: 0, probes: 0, builds: 0 };

  constructor(
    private readonly database: ReadOnlyDatabase,
    options: { maxAgeMs: number },
  ) {
    this.latest = new FreshRead(
      () => {
        this.stats.probes++;
        return database.read(latestLeaderboardKey);
      },
      { maxAgeMs: options.maxAgeMs },
    );
  }

  async body(): Promise<Buffer> {
    this.stats.requests++;
    // A leaderboard replaced between the probe and the build (a re-run pass) is simply probed again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const key = await this.latest.get();
      if (key === null) return EMPTY;
      if (this.cached?.key === key) return this.cached.body;
      const built = await this.build(key);
      if (built) {
        // Cached under the key read with the body, which is the body's true version.
        this.cached = built;
        return built.body;
      }
    }
    throw new Error('the newest leaderboard kept changing while it was being read');
  }

  private build(key: string): Promise<{ key: string; body: Buffer } | null> {
    if (this.building?.key === key) return this.building.body;
    this.stats.builds++;
    const body = this.database
      .read((db) => leaderboardReport(db, key))
      .then((report) => (report ? { key: report.key, body: Buffer.from(report.body) } : null))
      .finally(() => {
        if (this.building?.body === body) this.building = undefined;
      });
    this.building = { key, body };
    return body;
  }
}
