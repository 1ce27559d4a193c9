import type { Log, Reporter } from '../log.js';
import { Outputs } from '../settings/constants.js';
import { notifyTimingOverride, repositoryName, workflowRunUrl } from '../settings/environment.js';
import type { Settings } from '../settings/settings.js';
import { bodyFor, formatFor } from './formats.js';
import { sendBeat } from './heartbeat.js';
import { headline, reasonOf, type RunMessage } from './message.js';
import { DEFAULT_SEND, hostOf, post, type SendOptions } from './send.js';

export { formatFor, bodyFor, genericBody } from './formats.js';
export { beatUrl } from './heartbeat.js';
export type { RunMessage } from './message.js';

/**
 * Heartbeats and notifications around any mode, so no mode needs to know of them: the
 * start beat goes out beside the run (never delaying it), the outcome once it ends. A run's
 * outcome is its error, or for the watch an unhealthy verdict it reported without failing.
 * Whatever goes wrong in sending is a warning; the run's own result is rethrown untouched.
 */
export async function withRunSignals(
  settings: Settings,
  ctx: { log: Log; reporter: Reporter; env?: NodeJS.ProcessEnv },
  run: (reporter: Reporter) => Promise<void>,
): Promise<void> {
  const env = ctx.env ?? process.env;
  const { log } = ctx;
  const options = sendOptions(env);
  const outputs: Record<string, string> = {};
  const reporter: Reporter = {
    output: (name, value) => {
      outputs[name] = value;
      ctx.reporter.output(name, value);
    },
    summary: (markdown) => ctx.reporter.summary(markdown),
  };
  const heartbeat = settings.heartbeatUrl;
  const warn = (message: string) => log.warning(message);
  const started = heartbeat
    ? sendBeat(heartbeat, 'start', `lifeboat ${settings.mode} of ${setsOf(settings)}: started`, options, warn)
    : Promise.resolve(true);
  let error: unknown;
  let failed = false;
  try {
    await run(reporter);
  } catch (caught) {
    error = caught;
    failed = true;
  }
  if (outputs[Outputs.Healthy] === 'false') failed = true;
  const message: RunMessage = {
    mode: settings.mode,
    name: setsOf(settings),
    result: failed ? 'failure' : 'success',
    backupId: outputs[Outputs.BackupId] || null,
    reason: reasonOf(settings.mode, outputs, error),
    runUrl: workflowRunUrl(env) ?? null,
    repository: repositoryName(env) ?? null,
  };
  // The start beat first, so a monitor never sees the end before the start.
  await started;
  await Promise.all([
    heartbeat
      ? sendBeat(heartbeat, failed ? 'fail' : 'success', log.mask(headline(message)), options, warn)
      : undefined,
    notify(settings, message, options, log),
  ]);
  if (error !== undefined) throw error;
}

async function notify(
  settings: Settings,
  message: RunMessage,
  options: SendOptions,
  log: Log,
): Promise<void> {
  const notify = settings.notify;
  if (!notify || notify.urls.length === 0 || notify.on === 'never') return;
  if (notify.on === 'failure' && message.result === 'success') return;
  await Promise.all(
    notify.urls.map(async (url) => {
      const format = formatFor(url, notify.format);
      // Masked once more: a notification leaves by another door than the log.
      const body = log.mask(JSON.stringify(bodyFor(format, message)));
      const result = await post(url, body, 'application/json', options);
      if (result.ok) log.info(`Notified ${hostOf(url)} (${format}).`);
      else
        log.warning(
          `The ${format} notification to ${hostOf(url)} did not get through (${result.why}, ${result.attempts} attempt(s)); the run's result stands.`,
        );
    }),
  );
}

function setsOf(settings: Settings): string {
  return settings.mode === 'watch' ? settings.names.join(', ') : settings.name;
}

function sendOptions(env: NodeJS.ProcessEnv): SendOptions {
  const override = notifyTimingOverride(env);
  return {
    ...DEFAULT_SEND,
    timeoutMs: override.timeoutMs ?? DEFAULT_SEND.timeoutMs,
    retryDelayMs: override.retryDelayMs ?? DEFAULT_SEND.retryDelayMs,
  };
}
