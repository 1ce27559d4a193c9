import * as core from '@actions/core';
import { parseSettings } from '../settings/settings.js';
import { describeError } from '../errors.js';
import { runMode } from '../run.js';
import { ActionLog, ActionReporter } from './core-log.js';

/** The action: inputs → settings → mode; any failure becomes one masked setFailed. */
export async function main(): Promise<void> {
  const log = new ActionLog();
  try {
    const settings = parseSettings(
      (name) => core.getInput(name),
      (value) => log.secret(value),
    );
    await runMode(settings, { log, reporter: new ActionReporter(log) });
  } catch (error) {
    core.setFailed(log.mask(describeError(error)));
  }
}

/** `@github/local-action` calls the entry's `run`. */
export { main as run };
