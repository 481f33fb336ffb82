import type { Command } from 'commander';
import { readSettings, temporalOptions } from '../../lib/config/index.js';
import { createLogger } from '../../lib/log/index.js';
import { connectClient } from '../../lib/temporal/index.js';
import { gameOf, openDatabase } from '../../workers/resources.js';
import { activateGame } from '../game-plan.js';
import { ensureSchedules, scheduleIds } from '../schedules.js';
import { scheduleSettings } from '../settings.js';

async function withClient(work: (client: Awaited<ReturnType<typeof connectClient>>) => Promise<void>): Promise<void> {
  const client = await connectClient(temporalOptions(readSettings()));
  try {
    await work(client);
  } finally {
    await client.connection.close();
  }
}

const known = Object.values(scheduleIds);

function checkId(id: string): boolean {
  if (known.includes(id as (typeof known)[number])) return true;
  console.error(`unknown schedule "${id}" (known: ${known.join(', ')})`);
  process.exitCode = 2;
  return false;
}

export function register(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('the recurring jobs: price ingestion, prediction slots and score passes');

  schedules
    .command('list')
    .description('each schedule with its interval, state and next runs')
    .action(() =>
      withClient(async (client) => {
        for await (const summary of client.schedule.list()) {
          const handle = client.schedule.getHandle(summary.scheduleId);
          const description = await handle.describe();
          const every = description.spec.intervals?.map((interval) => `every ${interval.every}`).join(', ');
          const next = description.info.nextActionTimes.slice(0, 2).map((time) => time.toISOString());
          console.log(
            `${summary.scheduleId}: ${every ?? 'calendar'}, ${description.state.paused ? 'PAUSED' : 'active'}` +
              `, ${description.info.numActionsTaken} run(s) so far, next ${next.join(' then ') || 'none'}`,
          );
        }
      }),
    );

  schedules
    .command('ensure')
    .description(
      "create the schedules or update them to the current settings, and make the game's prediction configs the active ones",
    )
    .action(async () => {
      const settings = readSettings();
      const logger = createLogger('schedules');
      // The database first: a schedule must not start cycles that ask for another game's predictions.
      const db = await openDatabase(settings, logger, 1);
      try {
        await activateGame(db, gameOf(settings), logger);
      } finally {
        await db.end();
      }
      await withClient((client) => ensureSchedules(client, scheduleSettings(settings), logger));
    });

  for (const [name, description] of [
    ['pause', 'stop starting runs (running ones finish)'],
    ['unpause', 'start runs again'],
    ['trigger', 'start one run now'],
  ] as const) {
    schedules
      .command(`${name} <id>`)
      .description(`${description}; id: ${known.join(' | ')}`)
      .action((id: string) =>
        withClient(async (client) => {
          if (!checkId(id)) return;
          const handle = client.schedule.getHandle(id);
          if (name === 'pause') await handle.pause('paused from the coordinator CLI');
          else if (name === 'unpause') await handle.unpause('unpaused from the coordinator CLI');
          else await handle.trigger();
          console.log(`${id}: ${name}d`);
        }),
      );
  }
}
