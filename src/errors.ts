/**
 * Errors that are the user's to fix (bad input, unreachable host, missing key)
 * are `LifeboatError`s: a stable code, a message that says what went wrong, and
 * a hint that says how to fix it. Anything else reaching the entry point is a bug.
 */
export type ErrorCode =
  | 'input'
  | 'config'
  | 'connection'
  | 'auth'
  | 'ipv6'
  | 'pooler'
  | 'tools'
  | 'permission'
  | 'dump'
  | 'restore'
  | 'store'
  | 'not-found'
  | 'integrity'
  | 'crypto'
  | 'key'
  | 'format'
  | 'verify'
  | 'gate'
  | 'drill'
  | 'watch'
  | 'confirm'
  | 'mask'
  | 'production'
  | 'lock'
  | 'disk'
  | 'unsupported'
  | 'internal';

export class LifeboatError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LifeboatError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** One line for humans: the message, then the hint when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof LifeboatError) {
    return error.hint ? `${error.message}\nHint: ${error.hint}` : error.message;
  }
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return `Unexpected failure: ${JSON.stringify(error)}`;
  } catch {
    return 'Unexpected failure of an unknown kind';
  }
}

export function isLifeboatError(error: unknown, code?: ErrorCode): error is LifeboatError {
  return error instanceof LifeboatError && (code === undefined || error.code === code);
}
