import type { Log } from '../log.js';
import { pauseAfterStep } from '../settings/environment.js';

/** The steps of a rekey after which LIFEBOAT_PAUSE_AFTER can stop it (rekey-set.ts names them). */
export type RekeyStep = 'archive' | 'verified' | 'manifest' | 'old-manifest' | 'old-archive' | 'backup';

/**
 * Where a rekey can be stopped for good: with LIFEBOAT_PAUSE_AFTER=<step> the process says
 * so and waits, doing nothing more, until it is killed. The crash tests kill it there with
 * SIGKILL, one row per step, and prove every backup still reads with one of the two keys;
 * a pause instead of a kill at a guessed moment makes each row hit its step exactly.
 */
export async function pauseAfter(
  step: RekeyStep,
  log: Log,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (pauseAfterStep(env) !== step) return;
  log.info(`Rekey paused after step "${step}" (LIFEBOAT_PAUSE_AFTER); waiting to be stopped.`);
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
}
