// The gateway's database role of docker-compose.yml (sql/roles/gateway-reader.sh), run against a real
// server: it reads every table the migrations create after it, writes none, and the gateway serves with it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { withClient } from '../lib/db/database.js';
import { migrate, withDatabase } from '../lib/db/index.js';
import { createTestDatabase, type TestDatabase, testServerUrl } from './support/database.js';
import { repoRoot } from './support/tools.js';

describe('the gateway database role (sql/roles/gateway-reader.sh)', () => {
  let db: TestDatabase;
  let gateway: Gateway | undefined;
  const role = `gateway_reader_${randomBytes(4).toString('hex')}`;
  let readerUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    const server = new URL(testServerUrl);
    // As the postgres image runs it: before the migrations, as the database owner.
    execFileSync('sh', [resolve(repoRoot, 'sql/roles/gateway-reader.sh')], {
      env: {
        PATH: process.env.PATH,
        PGHOST: server.hostname,
        PGPORT: server.port || '5432',
        POSTGRES_USER: decodeURIComponent(server.username) || 'postgres',
        POSTGRES_DB: db.name,
        GATEWAY_DB_PASSWORD: 'test-only-password',
        GATEWAY_DB_ROLE: role,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await migrate({ connectionString: db.url });
    const reader = new URL(withDatabase(testServerUrl, db.name));
    reader.username = role;
    reader.password = 'test-only-password';
    readerUrl = reader.toString();
  });

  afterAll(async () => {
    await gateway?.close();
    await db?.drop();
    await withClient(testServerUrl, (client) => client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(role)}`));
  });

  it('reads the tables the migrations made after it, and writes none', async () => {
    await withClient(readerUrl, async (client) => {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM predictions');
      expect(rows).toEqual([{ n: 0 }]);
      await expect(client.query("INSERT INTO prices (asset, ts, price) VALUES ('BTC', now(), 1)")).rejects.toThrow(
        /permission denied/,
      );
      await expect(client.query('DELETE FROM predictions')).rejects.toThrow(/permission denied/);
    });
  });

  it('is all the gateway needs to serve its reports', async () => {
    gateway = await buildGateway({ db: readerUrl, rateLimit: false });
    for (const path of ['/reports/leaderboard', '/reports/models', '/healthz']) {
      const response = await gateway.inject({ method: 'GET', url: path });
      expect(response.statusCode, `${path}: ${response.body}`).toBeLessThan(500);
    }
  });
});
