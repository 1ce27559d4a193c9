import type { GateSettings } from '../config.js';
import { LifeboatError } from '../errors.js';
import type { Log, Reporter } from '../log.js';
import type { BackupStore } from '../stores/store.js';

export interface GateContext {
  log: Log;
  reporter: Reporter;
  store: BackupStore;
  env?: NodeJS.ProcessEnv;
  prompt?: (question: string) => Promise<string>;
}

export async function runGate(_settings: GateSettings, _ctx: GateContext): Promise<void> {
  throw new LifeboatError('unsupported', 'Mode `gate` is not available in this build yet.');
}
