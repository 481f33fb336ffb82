export { databaseUrl, temporalOptions } from './derived.js';
export { readSettings, type Settings, settingsHelp } from './settings.js';
