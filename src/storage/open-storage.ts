import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { storageCredentials } from '../settings/environment.js';
import type { StorageSettings } from '../settings/storage-values.js';
import type { StorageClient } from './storage-client.js';

/**
 * A client for the Storage endpoint with the credentials from the environment, the secret
 * registered with the log before any request can quote it. The S3 SDK behind it is loaded
 * only here: a run without Storage never holds its megabytes of code in memory.
 */
export async function openStorage(
  settings: StorageSettings,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<StorageClient> {
  const credentials = storageCredentials(env);
  if (!credentials?.accessKeyId || !credentials.secretAccessKey) {
    const missing = !credentials?.accessKeyId
      ? 'LIFEBOAT_STORAGE_ACCESS_KEY_ID'
      : 'LIFEBOAT_STORAGE_SECRET_ACCESS_KEY';
    throw new LifeboatError('config', `storage-url is set, but ${missing} is not.`, {
      hint: 'Set LIFEBOAT_STORAGE_ACCESS_KEY_ID and LIFEBOAT_STORAGE_SECRET_ACCESS_KEY from secrets (Supabase: Project Settings → Storage → S3 access keys).',
    });
  }
  log.secret(credentials.secretAccessKey);
  const { StorageClient } = await import('./storage-client.js');
  return new StorageClient(settings, credentials);
}

/**
 * The buckets a run covers: the ones named, or every bucket the endpoint lists. `source`
 * says where the names came from, for the error when one is missing.
 */
export async function chooseBuckets(
  client: StorageClient,
  named: string[],
  source = 'Input `storage-buckets` names',
): Promise<string[]> {
  const listed = await client.listBuckets();
  if (!named.length) return listed;
  const missing = named.filter((b) => !listed.includes(b));
  if (missing.length)
    throw new LifeboatError(
      'input',
      `${source} ${missing.map((b) => `"${b}"`).join(', ')}, which ${client.where} does not have.`,
      {
        hint: `Buckets there: ${listed.length ? listed.join(', ') : 'none'}. Leave storage-buckets empty to take every bucket.`,
      },
    );
  return named;
}
