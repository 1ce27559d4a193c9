import type { RestoreSettings } from '../config.js';
import { LifeboatError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import type { BackupStore } from '../stores/store.js';

export interface RestoreContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  prompt?: (question: string) => Promise<string>;
}

export async function runRestore(_settings: RestoreSettings, _ctx: RestoreContext): Promise<void> {
  throw new LifeboatError('unsupported', 'Mode `restore` is not available in this build yet.');
}
