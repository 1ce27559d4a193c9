import { LifeboatError } from '../errors.js';

/** Where an S3 store lives, read from `s3://bucket/prefix` and the AWS environment. */
export interface S3Location {
  bucket: string;
  /** Without leading or trailing slash; empty for the bucket root. */
  prefix: string;
}

export interface S3Settings extends S3Location {
  region: string;
  /** Set only for S3-compatible services (MinIO, R2, a local test server). */
  endpoint?: URL;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

const ACCEPTED = 'The store input accepts s3://bucket or s3://bucket/prefix';

function invalid(message: string, hint = ACCEPTED): LifeboatError {
  return new LifeboatError('input', message, { hint });
}

/**
 * The bucket naming rules S3 enforces for new buckets; S3-compatible services follow them too.
 * Checking here turns a later, cryptic signature or DNS failure into an input error.
 */
function checkBucket(bucket: string, url: string): void {
  const rules =
    'Bucket names are 3-63 characters of lower-case letters, digits, dots and hyphens, ' +
    'starting and ending with a letter or digit';
  if (bucket === '') throw invalid(`The store input "${url}" names no bucket`);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw invalid(`The store input names an invalid S3 bucket "${bucket}"`, `${rules}. ${ACCEPTED}.`);
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw invalid(`The store input names "${bucket}", which is an IP address, not a bucket`, `${rules}.`);
  }
}

export function parseS3Url(url: string): S3Location {
  const text = url.trim();
  if (!/^s3:\/\//i.test(text)) {
    throw invalid(`The store input "${text}" is not an s3:// URL`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    throw invalid('The store input contains control characters');
  }
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  checkBucket(bucket, text);

  const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  // Empty or dot segments are legal in S3 keys but most tools mangle them, so a backup
  // stored under one would be hard to find again by hand.
  if (prefix !== '' && prefix.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw invalid(`The store input "${text}" has an empty, "." or ".." path segment in its prefix`);
  }
  return { bucket, prefix };
}

function endpointFrom(env: NodeJS.ProcessEnv): URL | undefined {
  const name = env.AWS_ENDPOINT_URL_S3 ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let endpoint: URL;
  try {
    endpoint = new URL(raw);
  } catch {
    throw invalid(
      `${name} is not a URL`,
      `Set ${name} to the service's address, for example https://s3.example.com`,
    );
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw invalid(`${name} must be an http:// or https:// URL, not ${endpoint.protocol}//`);
  }
  return endpoint;
}

/** Everything the S3 client needs, from the URL and the standard AWS variables of `env`. */
export function resolveS3Settings(url: string, env: NodeJS.ProcessEnv): S3Settings {
  const { bucket, prefix } = parseS3Url(url);
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1';
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    const missing = accessKeyId ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
    throw new LifeboatError('config', `${missing} is not set, but its partner is`, {
      hint: 'Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither to use the default AWS credential chain',
    });
  }
  const sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;
  // Without keys in env the SDK's own chain (profiles, web identity, instance roles) applies.
  const credentials =
    accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined;
  return { bucket, prefix, region, endpoint: endpointFrom(env), credentials };
}

/** A description safe to print: the URL plus a custom endpoint's host, never credentials. */
export function describeS3Location(settings: S3Location & { endpoint?: URL }): string {
  const url = `s3://${settings.bucket}${settings.prefix ? `/${settings.prefix}` : ''}`;
  return settings.endpoint ? `${url} at ${settings.endpoint.host}` : url;
}

/** Values that must be masked in any output: the secret key and the session token. */
export function s3Secrets(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN]
    .map((v) => v?.trim())
    .filter((v): v is string => Boolean(v));
}
