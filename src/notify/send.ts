import { describeError } from '../errors.js';

/**
 * One POST with a timeout and a few retries, for webhooks and heartbeats. Never throws:
 * the answer is whether it got through and, if not, why, for a warning. The URL is a
 * secret, so the reason names only the host.
 */
export interface SendOptions {
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
}

export const DEFAULT_SEND: SendOptions = { timeoutMs: 10_000, retries: 2, retryDelayMs: 1_000 };

export type SendResult = { ok: true; attempts: number } | { ok: false; attempts: number; why: string };

export async function post(
  url: string,
  body: string,
  contentType: string,
  options: SendOptions,
): Promise<SendResult> {
  let why = '';
  const attempts = options.retries + 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': contentType, 'user-agent': 'lifeboat' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: 'follow',
      });
      // Read the answer so the connection is released; its text is the service's, not ours to print.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, attempts: attempt };
      why = `HTTP ${response.status}`;
      // A refusal (bad URL, removed webhook) does not get better by asking again; a busy service may.
      if (response.status < 500 && response.status !== 429 && response.status !== 408)
        return { ok: false, attempts: attempt, why };
    } catch (error) {
      why =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${Math.round(options.timeoutMs / 100) / 10}s`
          : (causeOf(error) ?? describeError(error));
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, options.retryDelayMs));
  }
  return { ok: false, attempts, why };
}

/** fetch reports "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is its cause. */
function causeOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the URL';
  }
}
