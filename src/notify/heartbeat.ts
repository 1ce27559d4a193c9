import { hostOf, post, type SendOptions } from './send.js';

/**
 * Heartbeats in the healthchecks.io convention: `<url>/start` when a run starts, `<url>`
 * when it succeeds, `<url>/fail` when it fails, each with a short plain-text body. A
 * monitor that stops hearing the success ping raises its own alarm: the one alert that
 * still fires when the workflow never runs at all. Cronitor's telemetry URLs
 * (`cronitor.link`) take the same three events as `?state=run|complete|fail`; Better
 * Stack's heartbeats know success and `/fail` but no start, so none is sent there.
 */
export type Beat = 'start' | 'success' | 'fail';

const CRONITOR_STATE: Record<Beat, string> = { start: 'run', success: 'complete', fail: 'fail' };

/** The URL of one beat, or undefined when the service takes no such beat; a query string stays at the end. */
export function beatUrl(url: string, beat: Beat): string | undefined {
  const parsed = new URL(url);
  if (/(^|\.)cronitor\.link$/i.test(parsed.hostname)) {
    parsed.searchParams.set('state', CRONITOR_STATE[beat]);
    return parsed.toString();
  }
  if (beat === 'success') return url;
  if (beat === 'start' && /(^|\.)(betterstack|betteruptime)\.com$/i.test(parsed.hostname)) return undefined;
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/${beat}`;
  return parsed.toString();
}

export async function sendBeat(
  url: string,
  beat: Beat,
  text: string,
  options: SendOptions,
  warn: (message: string) => void,
): Promise<boolean> {
  const target = beatUrl(url, beat);
  if (!target) return true;
  const result = await post(target, `${text}\n`, 'text/plain; charset=utf-8', options);
  if (!result.ok)
    warn(
      `The ${beat} heartbeat to ${hostOf(url)} did not get through (${result.why}, ${result.attempts} attempt(s)); the run's result stands.`,
    );
  return result.ok;
}
