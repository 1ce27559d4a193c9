import type { DrillSettings } from '../config.js';
import { LifeboatError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import type { BackupStore } from '../stores/store.js';

export interface DrillContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  prompt?: (question: string) => Promise<string>;
}

export async function runDrill(_settings: DrillSettings, _ctx: DrillContext): Promise<void> {
  throw new LifeboatError('unsupported', 'Mode `drill` is not available in this build yet.');
}
