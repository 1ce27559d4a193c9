import { LifeboatError } from '../errors.js';
import type { ObjectLock, StoreSpec } from '../stores/store.js';
import { Inputs, ObjectLockModes } from './constants.js';
import { choice } from './values.js';

/** A lock longer than this is almost surely a typo (days for hours), and cannot be undone in compliance mode. */
const MAX_LOCK_DAYS = 36_500;

/**
 * `object-lock-days` and `object-lock-mode`: S3 only. A store that cannot lock objects is
 * refused here, before anything runs, rather than taking backups the user believes locked.
 */
export function parseObjectLock(
  raw: (name: string) => string,
  value: (name: string) => string,
  store: StoreSpec,
): ObjectLock | undefined {
  const daysText = raw(Inputs.ObjectLockDays);
  if (!daysText) {
    if (raw(Inputs.ObjectLockMode)) {
      throw new LifeboatError('input', 'Input `object-lock-mode` is set but `object-lock-days` is not.', {
        hint: 'Set `object-lock-days` to how long each backup stays locked (for example 30), or remove `object-lock-mode`.',
      });
    }
    return undefined;
  }
  const days = Number(daysText);
  if (!/^\d+$/.test(daysText) || days < 1 || days > MAX_LOCK_DAYS) {
    throw new LifeboatError(
      'input',
      `Input \`object-lock-days\` is "${daysText}"; accepted values: a whole number of days from 1 to ${MAX_LOCK_DAYS}.`,
      { hint: 'Set it to how long each backup must stay undeletable, for example 30.' },
    );
  }
  const mode = choice(value(Inputs.ObjectLockMode), Inputs.ObjectLockMode, ObjectLockModes, undefined);
  if (store.kind !== 's3') {
    throw new LifeboatError(
      'input',
      `Input \`object-lock-days\` needs an S3 store; the store here is ${store.kind === 'local' ? 'a local directory' : 'the GitHub Actions cache'}, which cannot lock objects.`,
      {
        hint: 'Use an S3 bucket with Object Lock enabled (store: s3://bucket/prefix), or remove object-lock-days.',
      },
    );
  }
  return { mode: mode as ObjectLock['mode'], days };
}
