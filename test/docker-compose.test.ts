import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/tools.js';

function dockerCompose(args: string[]): string {
  try {
    return execFileSync('docker-compose', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'docker-compose is missing: install it with `apt-get install docker-compose` (npm test does when it runs as root)',
      );
    }
    throw new Error(`docker-compose ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? error}`);
  }
}

describe('docker-compose.yml', () => {
  it('is a valid compose file with PostgreSQL, Temporal and its UI, a worker per queue, the gateway and the orchestrator', () => {
    dockerCompose(['config', '-q']);
    const services = dockerCompose(['config', '--services']).trim().split('\n').sort();
    expect(services).toEqual(
      [
        'gateway',
        'migrate',
        'orchestrator',
        'postgres',
        'schedules',
        'temporal',
        'temporal-ui',
        'worker-coordinator',
        'worker-model-calls',
        'worker-postgres',
        'worker-scoring',
      ].sort(),
    );
  });

  it('keeps the database and Temporal settings away from the orchestrator, whose children run participant code', () => {
    const config = dockerCompose(['config']);
    const orchestrator = config.slice(config.indexOf('  orchestrator:'), config.indexOf('  postgres:'));
    expect(orchestrator).not.toContain('DATABASE_URL');
    expect(orchestrator).not.toContain('TEMPORAL_ADDRESS');
  });
});
