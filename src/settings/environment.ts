import os from 'node:os';
import { Inputs } from './constants.js';

/**
 * The environment Lifeboat reads, in one place: the runner's GITHUB_* and RUNNER_*, and
 * Lifeboat's own LIFEBOAT_*. Each reader takes the environment to read, so the CLI and the
 * tests can hand in theirs; no other module names these variables. (What the Actions cache
 * library itself reads, ACTIONS_* and the rest, is handed to it in stores/actions-cache-client.ts.)
 */
type Env = NodeJS.ProcessEnv;

/** Where private temp folders go: the runner's temp dir, cleaned after the job, else the OS's. */
export function tempRoot(env: Env = process.env): string {
  return env.RUNNER_TEMP || os.tmpdir();
}

/** The checked-out repository, against which relative paths in inputs resolve. */
export function workspaceDir(env: Env = process.env): string {
  return env.GITHUB_WORKSPACE || process.cwd();
}

/** `owner/repo` as the runner names it, trimmed; undefined outside a workflow. */
export function repositoryName(env: Env = process.env): string | undefined {
  return env.GITHUB_REPOSITORY?.trim() || undefined;
}

/** The REST API's root: api.github.com, or a GitHub Enterprise Server's. */
export function githubApiUrl(env: Env = process.env): string {
  return (env.GITHUB_API_URL?.trim() || 'https://api.github.com').replace(/\/+$/, '');
}

export function githubServerUrl(env: Env = process.env): string {
  return env.GITHUB_SERVER_URL || 'https://github.com';
}

/** The workflow's token, when the caller did not pass `github-token`. */
export function githubTokenFromEnv(env: Env = process.env): string | undefined {
  return env.GITHUB_TOKEN || undefined;
}

/** The workflow run, so a report can link to it. */
export function workflowRunId(env: Env = process.env): string | undefined {
  return env.GITHUB_RUN_ID || undefined;
}

/** The event that started the workflow and the file holding its payload. */
export function workflowEvent(env: Env = process.env): { name?: string; path?: string } {
  return { name: env.GITHUB_EVENT_NAME, path: env.GITHUB_EVENT_PATH };
}

/** LIFEBOAT_LOCK_WAIT_TIMEOUT_MS, a whole number above zero; tests shorten pg_dump's lock wait with it. */
export function lockWaitOverrideMs(env: Env = process.env): number | undefined {
  const override = Number(env.LIFEBOAT_LOCK_WAIT_TIMEOUT_MS);
  return Number.isInteger(override) && override > 0 ? override : undefined;
}

/**
 * LIFEBOAT_NOTIFY_TIMEOUT_MS and LIFEBOAT_NOTIFY_RETRY_DELAY_MS, whole numbers above zero:
 * tests of a receiver that hangs shorten the 10 s timeout and the pause between retries.
 */
export function notifyTimingOverride(env: Env = process.env): { timeoutMs?: number; retryDelayMs?: number } {
  const read = (name: string) => {
    const value = Number(env[name]);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  return {
    timeoutMs: read('LIFEBOAT_NOTIFY_TIMEOUT_MS'),
    retryDelayMs: read('LIFEBOAT_NOTIFY_RETRY_DELAY_MS'),
  };
}

/** The workflow run's page, for links in reports and notifications; undefined outside a workflow. */
export function workflowRunUrl(env: Env = process.env): string | undefined {
  const repository = repositoryName(env);
  const runId = workflowRunId(env);
  return repository && runId ? `${githubServerUrl(env)}/${repository}/actions/runs/${runId}` : undefined;
}

/**
 * The Storage endpoint's S3 access keys (Supabase: Project Settings → Storage → S3 access
 * keys). Only from the environment: never an input, never argv. Undefined when neither is set.
 */
export function storageCredentials(
  env: Env = process.env,
): { accessKeyId: string; secretAccessKey: string } | undefined {
  const accessKeyId = env.LIFEBOAT_STORAGE_ACCESS_KEY_ID?.trim() ?? '';
  const secretAccessKey = env.LIFEBOAT_STORAGE_SECRET_ACCESS_KEY?.trim() ?? '';
  if (!accessKeyId && !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey };
}

/** LIFEBOAT_PAUSE_AFTER: the rekey step after which the process waits to be killed (crash tests). */
export function pauseAfterStep(env: Env = process.env): string | undefined {
  return env.LIFEBOAT_PAUSE_AFTER?.trim() || undefined;
}

/** LIFEBOAT_NEW_IDENTITY: a rekey's new identity (the key or a key file), to prove the new archives readable. */
export function newIdentityFromEnv(env: Env = process.env): string | undefined {
  return env.LIFEBOAT_NEW_IDENTITY || undefined;
}

/** What an S3 store reads from the environment: credentials, region, endpoint. */
const AWS_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
];
export const COPY_TO_PREFIX = 'LIFEBOAT_COPY_TO_';

/**
 * The environment a copy opens its destination with. A second provider has credentials of
 * its own: LIFEBOAT_COPY_TO_AWS_ACCESS_KEY_ID and the rest. When any of them is set, they
 * replace the source's AWS_* as a whole, so a destination never runs on a mix of the two
 * providers' settings; when none is, the destination uses AWS_* like the source.
 */
export function copyDestinationEnv(env: Env = process.env): Env {
  if (!AWS_VARIABLES.some((name) => env[`${COPY_TO_PREFIX}${name}`])) return env;
  const out: Env = { ...env };
  for (const name of AWS_VARIABLES) {
    delete out[name];
    const own = env[`${COPY_TO_PREFIX}${name}`];
    if (own) out[name] = own;
  }
  return out;
}

/** The CLI's environment variables for inputs, tried in order when no flag gives one. */
export const CLI_ENV_FALLBACKS: Record<string, string[]> = {
  [Inputs.DatabaseUrl]: ['DATABASE_URL'],
  [Inputs.DatabaseCa]: ['LIFEBOAT_DATABASE_CA'],
  [Inputs.TargetUrl]: ['LIFEBOAT_TARGET_URL'],
  [Inputs.Store]: ['LIFEBOAT_STORE'],
  [Inputs.Name]: ['LIFEBOAT_NAME'],
  [Inputs.EncryptionRecipient]: ['LIFEBOAT_RECIPIENT'],
  [Inputs.EncryptionIdentity]: ['LIFEBOAT_IDENTITY'],
  [Inputs.EncryptionPassphrase]: ['LIFEBOAT_PASSPHRASE'],
  [Inputs.GithubToken]: ['GITHUB_TOKEN'],
  [Inputs.PgBinDir]: ['LIFEBOAT_PG_BIN_DIR'],
  [Inputs.NotifyUrl]: ['LIFEBOAT_NOTIFY_URL'],
  [Inputs.HeartbeatUrl]: ['LIFEBOAT_HEARTBEAT_URL'],
  [Inputs.MaskKey]: ['LIFEBOAT_MASK_KEY'],
};

/** The first of the CLI's fallback variables for an input that is set. */
export function cliEnvFallback(name: string, env: Env = process.env): string | undefined {
  for (const variable of CLI_ENV_FALLBACKS[name] ?? []) if (env[variable]) return env[variable];
  return undefined;
}
