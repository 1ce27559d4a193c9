import { GetObjectLockConfigurationCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LifeboatError } from '../errors.js';
import type { ObjectLock } from './store.js';
import { isMissing, s3Hint, s3ServerSays, type ServiceError } from './s3-errors.js';
import type { S3Settings } from './s3-url.js';

/**
 * S3 Object Lock for the S3 store: the bucket check made before any dump starts, the
 * parameters every put carries, and the retain-until date retention reads before it deletes
 * (on a versioned bucket a plain DELETE of a locked object "succeeds" by adding a delete
 * marker, so the lock must be asked about, not inferred from a refusal).
 */
export async function checkObjectLock(
  client: S3Client,
  settings: S3Settings,
  secrets: readonly string[],
  location: string,
): Promise<void> {
  const notEnabled = (why: string) =>
    new LifeboatError(
      'input',
      `Inputs \`object-lock-days\`/\`object-lock-mode\` need Object Lock on the bucket, but ${location} ${why}.`,
      {
        hint: `Object Lock can only be turned on for a bucket with versioning (aws s3api put-object-lock-configuration --bucket ${settings.bucket} --object-lock-configuration ObjectLockEnabled=Enabled), or remove object-lock-days.`,
      },
    );
  try {
    const answer = await client.send(new GetObjectLockConfigurationCommand({ Bucket: settings.bucket }));
    if (answer.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled')
      throw notEnabled('does not have it enabled');
  } catch (error) {
    if (error instanceof LifeboatError) throw error;
    const name = (error as ServiceError).name ?? '';
    if (name === 'ObjectLockConfigurationNotFoundError' || isMissing(error))
      throw notEnabled('has no Object Lock configuration');
    throw new LifeboatError(
      'store',
      `Could not read the Object Lock configuration of ${location}: ${s3ServerSays(error, secrets)}`,
      { hint: s3Hint(error, settings), cause: error },
    );
  }
}

/** The put parameters of a locked object: retained from now for `days`. */
export function lockParams(
  lock: ObjectLock | undefined,
  now: Date = new Date(),
): { ObjectLockMode?: 'GOVERNANCE' | 'COMPLIANCE'; ObjectLockRetainUntilDate?: Date } {
  if (!lock) return {};
  return {
    ObjectLockMode: lock.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
    ObjectLockRetainUntilDate: new Date(now.getTime() + lock.days * 86_400_000),
  };
}

/** The retain-until date of an object still locked; undefined when none, past, or absent. */
export async function retainedUntil(
  client: S3Client,
  bucket: string,
  fullKey: string,
  now: Date = new Date(),
): Promise<Date | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: fullKey }));
    const until = head.ObjectLockRetainUntilDate;
    return until && until.getTime() > now.getTime() ? until : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}
