import { hostOf, post, type SendOptions } from './send.js';

/**
 * Heartbeats in the healthchecks.io convention: `<url>/start` when a run starts, `<url>`
 * when it succeeds, `<url>/fail` when it fails, each with a short plain-text body. A
 * monitor that stops hearing the success ping raises its own alarm: the one alert that
 * still fires when the workflow never runs at all. Works with healthchecks.io, Cronitor
 * and Better Stack heartbeat URLs.
 */
export type Beat = 'start' | 'success' | 'fail';

/** The URL of one beat; a query string (a Cronitor key, say) stays at the end. */
export function beatUrl(url: string, beat: Beat): string {
  if (beat === 'success') return url;
  const parsed = new URL(url);
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
  const result = await post(beatUrl(url, beat), `${text}\n`, 'text/plain; charset=utf-8', options);
  if (!result.ok)
    warn(
      `The ${beat} heartbeat to ${hostOf(url)} did not get through (${result.why}, ${result.attempts} attempt(s)); the run's result stands.`,
    );
  return result.ok;
}
