import { LifeboatError } from '../errors.js';
import { Inputs } from './constants.js';
import { bool } from './values.js';

/**
 * Where Supabase Storage (or any S3-compatible object service) is and what of it a run
 * touches. Credentials are not inputs: they come from LIFEBOAT_STORAGE_ACCESS_KEY_ID and
 * LIFEBOAT_STORAGE_SECRET_ACCESS_KEY (settings/environment.ts), so they never sit in a
 * workflow's `with:` block or on a command line.
 */
export interface StorageSettings {
  endpoint: URL;
  region: string;
  /** Buckets to back up or restore; empty means every bucket the endpoint lists. */
  buckets: string[];
}

export interface StorageRestoreSettings {
  /** Put Storage objects back (and nothing else: the database is left as it is). */
  restoreStorage: boolean;
  /** Only keys starting with this, in every chosen bucket. */
  storagePrefix: string;
  /** Delete objects the backup does not hold, in the chosen buckets and prefix. */
  storageDeleteExtra: boolean;
}

type Read = (name: string) => string;

/** `storage-url`, `storage-region`, `storage-buckets`; undefined when no `storage-url` is given. */
export function parseStorageInputs(raw: Read, value: Read): StorageSettings | undefined {
  const url = raw(Inputs.StorageUrl);
  const buckets = parseBuckets(raw(Inputs.StorageBuckets));
  const region = parseRegion(value(Inputs.StorageRegion));
  if (!url) {
    if (buckets.length)
      throw new LifeboatError(
        'input',
        `Input \`${Inputs.StorageBuckets}\` is set, but \`${Inputs.StorageUrl}\` is not.`,
        {
          hint: `Set \`${Inputs.StorageUrl}\` to the Storage S3 endpoint, for Supabase https://<project-ref>.supabase.co/storage/v1/s3.`,
        },
      );
    return undefined;
  }
  return { endpoint: parseEndpoint(url), region, buckets };
}

export function parseStorageRestoreInputs(
  raw: Read,
  value: Read,
  storage: StorageSettings | undefined,
): StorageRestoreSettings {
  const restoreStorage = bool(value(Inputs.RestoreStorage), Inputs.RestoreStorage, false);
  if (restoreStorage && raw(Inputs.Tables))
    throw new LifeboatError(
      'input',
      `Inputs \`${Inputs.RestoreStorage}\` and \`${Inputs.Tables}\` cannot be combined: a Storage restore puts objects back and leaves the database as it is.`,
      {
        hint: `Run two restores: one with \`${Inputs.Tables}\` for the tables, one with \`${Inputs.RestoreStorage}: true\` for the objects.`,
      },
    );
  if (restoreStorage && !storage)
    throw new LifeboatError(
      'input',
      `Input \`${Inputs.RestoreStorage}\` is true, but \`${Inputs.StorageUrl}\` is not set.`,
      {
        hint: `Set \`${Inputs.StorageUrl}\` to the Storage S3 endpoint the objects go back to, and the credentials in LIFEBOAT_STORAGE_ACCESS_KEY_ID and LIFEBOAT_STORAGE_SECRET_ACCESS_KEY.`,
      },
    );
  return {
    restoreStorage,
    storagePrefix: parsePrefix(raw(Inputs.StoragePrefix)),
    storageDeleteExtra: bool(value(Inputs.StorageDeleteExtra), Inputs.StorageDeleteExtra, false),
  };
}

function parseRegion(text: string): string {
  if (/^[a-z0-9][a-z0-9-]{0,49}$/.test(text)) return text;
  throw new LifeboatError(
    'input',
    `Input \`${Inputs.StorageRegion}\` is "${text}"; accepted values: a region name such as \`us-east-1\`.`,
    {
      hint: 'Set storage-region to the region of the Storage service (Supabase: the project region, shown with the S3 access keys).',
    },
  );
}

/** A key prefix: Storage keys have no leading slash and no control characters. */
function parsePrefix(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!text.startsWith('/') && !/[\u0000-\u001f\u007f]/.test(text)) return text;
  throw new LifeboatError(
    'input',
    `Input \`${Inputs.StoragePrefix}\` is "${text.replace(/[^\x20-\x7e]/g, '?')}"; accepted values: the start of object keys, without a leading slash, for example \`avatars/2024/\`.`,
    {
      hint: 'Give the key prefix as the object keys begin: no leading "/" and no control characters.',
    },
  );
}

function parseEndpoint(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl(`is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw badUrl(`must be an http:// or https:// URL`);
  if (url.username || url.password) throw badUrl('must not carry credentials');
  return url;
}

function badUrl(what: string): LifeboatError {
  return new LifeboatError('input', `Input \`${Inputs.StorageUrl}\` ${what}.`, {
    hint: 'Accepted: the S3 endpoint of the Storage service, for Supabase https://<project-ref>.supabase.co/storage/v1/s3 (Project Settings → Storage). Credentials go in LIFEBOAT_STORAGE_ACCESS_KEY_ID and LIFEBOAT_STORAGE_SECRET_ACCESS_KEY.',
  });
}

/** Bucket ids, comma separated; Supabase allows more than S3's rules, so only the separators and control characters are refused. */
function parseBuckets(text: string): string[] {
  const names = text
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const name of names) {
    // eslint-disable-next-line no-control-regex
    if (/[/\u0000-\u001f\u007f]/.test(name))
      throw new LifeboatError(
        'input',
        `Input \`${Inputs.StorageBuckets}\` names "${name}", which is not a bucket id.`,
        {
          hint: 'Give bucket ids separated by commas, for example `avatars, documents`; no slashes.',
        },
      );
  }
  return [...new Set(names)];
}
