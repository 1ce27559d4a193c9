/**
 * How S3's failures read to a person: the service's own words (credentials masked) and a
 * hint that names what to check. The SDK's errors carry a name, a code and an HTTP status.
 */
import type { S3Settings } from './s3-url.js';

const NETWORK_ERROR = /^(ECONN[A-Z]+|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|E(HOST|NET)UNREACH|EPIPE|TimeoutError)$/;
const AUTH_ERROR = /^(InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|(Expired|Invalid)Token)$/;

export interface ServiceError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * A connection that failed or dropped, not an answer of the service: worth trying again.
 * Node names a response cut off mid-body `aborted` (ECONNRESET); the SDK an idle socket
 * `TimeoutError`.
 */
export function isNetworkFailure(error: unknown): boolean {
  const e = (error ?? {}) as ServiceError;
  return (
    NETWORK_ERROR.test(e.code ?? '') ||
    NETWORK_ERROR.test(e.name ?? '') ||
    e.code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    e.message === 'aborted'
  );
}

export function statusOf(error: unknown): number | undefined {
  return (error as ServiceError | undefined)?.$metadata?.httpStatusCode;
}

export function isMissing(error: unknown): boolean {
  const name = (error as ServiceError | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404;
}

/** What the service said, with the credentials masked. */
export function s3ServerSays(error: unknown, secrets: readonly string[]): string {
  const e = (error ?? {}) as ServiceError & { errors?: ServiceError[] };
  const status = statusOf(error);
  const name = e.code ?? e.name ?? 'Error';
  // Node reports a refused connection to every address of a host as an AggregateError with
  // an empty message; the SDK names an answer without an error body "Unknown".
  const detail = e.message || e.errors?.[0]?.message || 'no details';
  let text =
    name === 'Unknown' && status
      ? `HTTP ${status} without error details`
      : `${name}: ${detail}${status ? ` (HTTP ${status})` : ''}`;
  for (const secret of secrets) text = text.split(secret).join('***');
  return text;
}

/** What to check, by the kind of failure: the network, the credentials, the bucket, the region. */
export function s3Hint(error: unknown, settings: S3Settings): string {
  const e = (error ?? {}) as ServiceError;
  const endpoint = settings.endpoint;
  if (isNetworkFailure(error)) {
    return endpoint
      ? `Check that the S3 endpoint ${endpoint.host} (AWS_ENDPOINT_URL_S3) is up and reachable from here`
      : 'Check the network; for an S3-compatible service set AWS_ENDPOINT_URL_S3 to its address';
  }
  if (AUTH_ERROR.test(e.name ?? '') || e.name === 'CredentialsProviderError' || statusOf(error) === 403) {
    return (
      'Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ' +
      `credentials), and that they may read, write, list and delete in s3://${settings.bucket}`
    );
  }
  if ((statusOf(error) ?? 0) >= 500) {
    return 'The S3 service failed while answering; try again, and check its status page or logs if it persists';
  }
  if (e.name === 'NoSuchBucket') {
    return `Create the bucket "${settings.bucket}" or correct the store input`;
  }
  if (
    ['PermanentRedirect', 'AuthorizationHeaderMalformed'].includes(e.name ?? '') ||
    statusOf(error) === 301
  ) {
    return `The bucket lives in another region: set AWS_REGION (now ${settings.region}) to its region`;
  }
  return 'Check the credentials, the bucket in the store input and, for S3-compatible services, AWS_ENDPOINT_URL_S3';
}
