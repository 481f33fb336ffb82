// `npm run bench -- NAME [args]`: runs bench/NAME.ts. Every benchmark prints progress on stderr and
// ends with one JSON line of figures on stdout; bench/README.md keeps the latest ones.
import { readdirSync } from 'node:fs';

const [name, ...args] = process.argv.slice(2);
const available = readdirSync(import.meta.dirname)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.endsWith('.test.ts'))
  .map((file) => file.replace(/\.ts$/, ''));

if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [args]`);
  process.exit(2);
}

const bench = (await import(`./${name}.ts`)) as { default: (args: string[]) => Promise<Record<string, unknown>> };
const figures = await bench.default(args);
console.log(JSON.stringify({ bench: name, at: new Date().toISOString(), ...figures }));
process.exit(0);
