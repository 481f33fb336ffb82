import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './support/tools.js';

// The passwords compose requires (it refuses to run without them); any value does for validation.
const passwords = { POSTGRES_PASSWORD: 'test-only-password', GATEWAY_DB_PASSWORD: 'test-only-gateway-password' };

function dockerCompose(args: string[], env: NodeJS.ProcessEnv = { ...process.env, ...passwords }): string {
  try {
    return execFileSync('docker-compose', args, {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'docker-compose is missing: install it with `apt-get install docker-compose` (npm test does when it runs as root)',
      );
    }
    throw new Error(`docker-compose ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? error}`);
  }
}

interface ComposeService {
  ports?: Array<string | { published: number | string; target: number; host_ip?: string }>;
  profiles?: string[];
  environment?: Record<string, string>;
}

function composeServices(): Record<string, ComposeService> {
  return (parse(dockerCompose(['config'])) as { services: Record<string, ComposeService> }).services;
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

  it('has no default password: without POSTGRES_PASSWORD or GATEWAY_DB_PASSWORD it refuses, naming the setting', () => {
    const { POSTGRES_PASSWORD: _p, GATEWAY_DB_PASSWORD: _g, ...rest } = process.env;
    expect(() => dockerCompose(['config', '-q'], rest)).toThrow(/set POSTGRES_PASSWORD in \.env/);
    expect(() => dockerCompose(['config', '-q'], { ...rest, POSTGRES_PASSWORD: 'x' })).toThrow(
      /set GATEWAY_DB_PASSWORD in \.env/,
    );
  });

  it('publishes only the gateway beyond this host; the Web UI is opt-in (--profile ops)', () => {
    const services = composeServices();
    const published: Array<{ service: string; host: string; port: number }> = [];
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        if (typeof port === 'string') {
          const [host, hostPort] = port.split(':');
          published.push({ service: name, host: host!, port: Number(hostPort) });
        } else {
          published.push({ service: name, host: port.host_ip ?? '0.0.0.0', port: Number(port.published) });
        }
      }
    }
    expect(published.filter((p) => p.host !== '127.0.0.1')).toEqual([
      { service: 'gateway', host: '0.0.0.0', port: 8000 },
    ]);
    expect(services['temporal-ui']?.profiles).toEqual(['ops']);
  });

  it('gives the gateway a read-only database role', () => {
    expect(composeServices().gateway?.environment?.DATABASE_URL).toBe(
      'postgres://gateway_reader:test-only-gateway-password@postgres:5432/coordinator',
    );
  });
});
