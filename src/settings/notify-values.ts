import { LifeboatError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { bool, parseName } from './values.js';
import { Inputs, NotifyFormats, NotifyWhen, type NotifyFormat, type NotifyOn } from './constants.js';

/**
 * Parsers for the watch's and the notifications' inputs, apart from values.ts so each file
 * keeps one job. Webhook and heartbeat URLs are secrets: whoever holds one can post to the
 * team's channel or silence its heartbeat, so the caller masks every one before use.
 */

export interface NotifySettings {
  urls: string[];
  on: NotifyOn;
  format: NotifyFormat;
}

/** One http(s) URL, or an error naming the input (without echoing the secret value). */
export function parseHttpUrl(value: string, name: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new LifeboatError('input', `Input \`${name}\` holds a value that is not an http(s) URL.`, {
      hint:
        name === Inputs.HeartbeatUrl
          ? 'Pass the check’s ping URL from a secret, e.g. `${{ secrets.LIFEBOAT_HEARTBEAT_URL }}` (https://hc-ping.com/…).'
          : 'Pass webhook URLs from a secret, one a line, e.g. `${{ secrets.LIFEBOAT_NOTIFY_URL }}`.',
    });
  }
  return value;
}

/** `notify-url`: one or more URLs, separated by newlines (or spaces). */
export function parseNotifyUrls(value: string): string[] {
  return value
    .split(/\s+/)
    .filter(Boolean)
    .map((url) => parseHttpUrl(url, Inputs.NotifyUrl));
}

export function parseNotifyOn(value: string): NotifyOn {
  return choiceOf(value, Inputs.NotifyOn, NotifyWhen);
}

export function parseNotifyFormat(value: string): NotifyFormat {
  return choiceOf(value, Inputs.NotifyFormat, NotifyFormats);
}

/** `names`: set names separated by commas (or newlines); none given means the `name` input. */
export function parseNames(value: string, fallback: string): string[] {
  const names = value
    .split(/[,\s]+/)
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) return [fallback];
  return [
    ...new Set(
      names.map((n) => {
        try {
          return parseName(n);
        } catch {
          throw new LifeboatError(
            'input',
            `Input \`names\` holds "${n}", which is not a backup set name; use letters, digits, '.', '_' and '-' (at most 100).`,
            { hint: 'List the sets to watch separated by commas, e.g. `production, staging-eu`.' },
          );
        }
      }),
    ),
  ];
}

/** `drill-max-age`: a duration, or `off` to skip the drill check (null). */
export function parseDrillMaxAge(value: string): number | null {
  if (/^(off|false|none)$/i.test(value.trim())) return null;
  try {
    return parseDuration(value, Inputs.DrillMaxAge);
  } catch (error) {
    throw new LifeboatError(
      'input',
      `Input \`drill-max-age\` is "${value}"; accepted values: a duration (\`35d\`, \`6w\`) or \`off\`.`,
      {
        hint: 'Use `35d` (the default: monthly drills with a few days to spare), or `off` when no drill runs.',
        cause: error,
      },
    );
  }
}

function choiceOf<T extends string>(value: string, name: string, allowed: readonly T[]): T {
  const lower = value.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(lower)) return lower as T;
  throw new LifeboatError(
    'input',
    `Input \`${name}\` is ${value ? `"${value}"` : 'empty'}; accepted values: ${allowed.map((a) => `\`${a}\``).join(', ')}.`,
    { hint: `Set \`${name}\` to one of: ${allowed.join(', ')}.` },
  );
}

type Read = (name: string) => string;

/** The inputs every mode shares for notifications and heartbeats; `raw` as given, `value` with defaults. */
export function parseNotifyInputs(raw: Read, value: Read): { notify: NotifySettings; heartbeatUrl?: string } {
  const heartbeat = raw(Inputs.HeartbeatUrl);
  return {
    notify: {
      urls: parseNotifyUrls(raw(Inputs.NotifyUrl)),
      on: parseNotifyOn(value(Inputs.NotifyOn)),
      format: parseNotifyFormat(value(Inputs.NotifyFormat)),
    },
    heartbeatUrl: heartbeat ? parseHttpUrl(heartbeat, Inputs.HeartbeatUrl) : undefined,
  };
}

/** The watch's own inputs (`max-age` and `require` are the gate's, with the watch's defaults). */
export function parseWatchInputs(
  raw: Read,
  value: Read,
  name: string,
): { names: string[]; drillMaxAgeSeconds: number | null; failOnProblem: boolean } {
  return {
    names: parseNames(raw(Inputs.Names), name),
    drillMaxAgeSeconds: parseDrillMaxAge(value(Inputs.DrillMaxAge)),
    failOnProblem: bool(value(Inputs.FailOnProblem), Inputs.FailOnProblem, true),
  };
}
