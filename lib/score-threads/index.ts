export { type ScoreJob, type ScoreProgress, ScoreThreads, type ScoreThreadsOptions } from './pool.js';
