// Entry of a scoring thread. Sources are TypeScript run through tsx (no build step), so the thread
// registers tsx before it loads the scoring code, as bin/coordinator.mjs does for the process.
import { register } from 'tsx/esm/api';

register();
await import('./thread.ts');
