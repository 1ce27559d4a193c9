/**
 * S3 Object Lock for the test S3 peer, which s3rver lacks: a local stand-in that enforces
 * it as the issue allows. The bucket's lock configuration, a retain-until date per key taken
 * from the write's own x-amz-object-lock-* headers (kept only once the write completes),
 * answered on HEAD, and a DeleteObject before that date refused as AWS refuses it (AWS
 * would instead add a delete marker to a versioned bucket; the versions stay either way).
 */
import type http from 'node:http';

export interface ObjectLockState {
  /** Whether the bucket has Object Lock enabled (switchable). */
  enabled: boolean;
  /** Retain-until date and mode per stored key. */
  retained: Map<string, { mode: string; until: Date }>;
}

const XML = '<?xml version="1.0" encoding="UTF-8"?>\n';

export interface LockAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * What the stand-in answers before the request reaches s3rver, if anything; `after` is
 * called with s3rver's status once a write it let through has been answered.
 */
export function objectLockStep(
  state: ObjectLockState,
  pending: Map<string, { mode: string; until: Date }>,
  op: string,
  key: string,
  req: http.IncomingMessage,
): { answer?: LockAnswer; after?: (status: number) => void; headers?: Record<string, string> } {
  if (op === 'GetObjectLockConfiguration') {
    return state.enabled
      ? {
          answer: {
            status: 200,
            body: `${XML}<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`,
          },
        }
      : {
          answer: {
            status: 404,
            body: `${XML}<Error><Code>ObjectLockConfigurationNotFoundError</Code><Message>Object Lock configuration does not exist for this bucket</Message></Error>`,
          },
        };
  }
  const mode = req.headers['x-amz-object-lock-mode'];
  const until = req.headers['x-amz-object-lock-retain-until-date'];
  if ((op === 'PutObject' || op === 'CreateMultipartUpload') && mode && until) {
    if (!state.enabled) {
      return {
        answer: {
          status: 400,
          body: `${XML}<Error><Code>InvalidRequest</Code><Message>Bucket is missing Object Lock Configuration</Message></Error>`,
        },
      };
    }
    const lock = { mode: String(mode), until: new Date(String(until)) };
    if (op === 'CreateMultipartUpload') pending.set(key, lock);
    else return { after: (status) => status === 200 && state.retained.set(key, lock) };
  }
  if (op === 'CompleteMultipartUpload') {
    const lock = pending.get(key);
    return {
      after: (status) => status === 200 && lock && (pending.delete(key), state.retained.set(key, lock)),
    };
  }
  const held = state.retained.get(key);
  if (op === 'HeadObject' && held) {
    return {
      headers: {
        'x-amz-object-lock-mode': held.mode,
        'x-amz-object-lock-retain-until-date': held.until.toISOString(),
      },
    };
  }
  if (op === 'DeleteObject' && held && held.until.getTime() > Date.now()) {
    return {
      answer: {
        status: 403,
        body: `${XML}<Error><Code>AccessDenied</Code><Message>Access Denied because object protected by object lock.</Message></Error>`,
      },
    };
  }
  if (op === 'DeleteObject') return { after: (status) => status < 300 && state.retained.delete(key) };
  return {};
}
