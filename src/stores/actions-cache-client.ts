import path from 'node:path';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { githubServerUrl } from '../settings/environment.js';

/**
 * Runs @actions/cache calls in a controlled world. The client reads its configuration from
 * process.env at call time and reports through @actions/core, which writes workflow
 * commands (`::debug::`, `::warning::`, `::add-mask::`) straight to stdout. So, for the
 * length of one call, and one call at a time:
 * - process.env carries exactly the settings of the store's env (set, then put back), and
 *   none of the secrets the client's `tar` and `zstd` would otherwise inherit (see HIDDEN);
 * - stdout is captured, each line is forwarded to the Log (masks as secrets, the rest as
 *   debug, transfer lines as progress) and kept, because the lines are the only place the
 *   client says why it returned -1 or undefined.
 */

/** Variables the client reads; each is taken from the store's env, or unset. */
const CLIENT_VARIABLES = [
  'ACTIONS_CACHE_SERVICE_V2',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_CACHE_URL',
  'ACTIONS_CACHE_MODE',
  'GITHUB_SERVER_URL',
  'SEGMENT_DOWNLOAD_TIMEOUT_MINS',
  // Both the client and the Azure SDK it uploads and downloads with honour these.
  ...['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [name, name.toLowerCase()]),
];

/** The one file inside every cache entry; see `OBJECT_PATH`. */
export const OBJECT_FILE = 'lifeboat-object';

/**
 * The path string handed to saveCache and restoreCache. The entry's version is a hash of
 * this exact string, so it must be the same in every run: an absolute temp path would
 * make each run's entries invisible to the next. `~` is expanded by the client's glob from
 * HOME, which a session points at its private work directory (GITHUB_WORKSPACE too, which
 * is where tar archives from and extracts to), so the fixed string names a fresh file.
 * Unlike changing the working directory, this touches nothing the rest of the process
 * resolves relative paths against. The version also covers the compression the client
 * picks (zstd when installed, else gzip), so entries are readable where zstd is equally
 * present: the same runner image. (That pass gains nothing: the bytes are encrypted.)
 */
export const OBJECT_PATH = `~${path.sep}${OBJECT_FILE}`;

export interface ClientLine {
  level: 'debug' | 'info' | 'warning' | 'error';
  text: string;
}

/**
 * Secrets hidden from process.env for the length of a call: the client starts `tar` and
 * `zstd` with a copy of process.env (it offers no other way), and they need none of them.
 * The client's own settings (ACTIONS_RUNTIME_TOKEN and the URLs) it must read from there.
 */
const HIDDEN = /^(INPUT_|LIFEBOAT_|AWS_|PG|ACTIONS_ID_TOKEN_REQUEST_)|^(GITHUB_TOKEN|GH_TOKEN|DATABASE_URL)$/;

let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` with the client's world set up for `workDir`; returns its value and output. */
export function withCacheClient<T>(
  env: NodeJS.ProcessEnv,
  workDir: string,
  log: Log,
  fn: () => Promise<T>,
): Promise<{ value: T; lines: ClientLine[] }> {
  const run = queue.then(async () => {
    const restoreEnv = overlay({
      ...Object.fromEntries(
        Object.keys(process.env)
          .filter((n) => HIDDEN.test(n))
          .map((n) => [n, undefined]),
      ),
      ...Object.fromEntries(CLIENT_VARIABLES.map((name) => [name, env[name]])),
      // RUNNER_DEBUG would make the client list every archive it handles.
      RUNNER_DEBUG: undefined,
      RUNNER_TEMP: workDir,
      GITHUB_WORKSPACE: workDir,
      HOME: workDir,
      ...(process.platform === 'win32' ? { USERPROFILE: workDir } : {}),
    });
    const capture = captureStdout(log);
    try {
      const value = await fn();
      return { value, lines: capture.lines };
    } finally {
      capture.stop();
      restoreEnv();
    }
  });
  queue = run.catch(() => undefined);
  return run;
}

function overlay(values: Record<string, string | undefined>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(values)) {
    saved.set(name, process.env[name]);
    setVariable(name, value);
  }
  return () => saved.forEach((value, name) => setVariable(name, value));
}

function setVariable(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

const COMMAND = /^::([a-z-]+)(?: [^:]*)?::(.*)$/;
const TRANSFER = /^(Sent|Received) \d+ of \d+/;

function captureStdout(log: Log): { lines: ClientLine[]; stop(): void } {
  const lines: ClientLine[] = [];
  const original = process.stdout.write;
  let pending = '';
  let forwarding = false;
  const handle = (raw: string): void => {
    const command = COMMAND.exec(raw);
    const text = command ? unescapeData(command[2] ?? '') : raw;
    const name = command?.[1];
    if (name === 'add-mask') return log.secret(text);
    if (command && name !== 'debug' && name !== 'warning' && name !== 'error') return;
    const level = name === 'debug' || name === 'warning' || name === 'error' ? name : 'info';
    lines.push({ level, text });
    if (TRANSFER.test(text)) log.progress(text);
    else log.debug(level === 'info' || level === 'debug' ? text : `${level}: ${text}`);
  };
  process.stdout.write = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    // The Log itself may write to stdout (the action's does); let that through untouched.
    if (forwarding) return (original as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    const parts = pending.split(/\r?\n/);
    pending = parts.pop() ?? '';
    forwarding = true;
    try {
      parts.filter((part) => part.length > 0).forEach(handle);
    } finally {
      forwarding = false;
    }
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) process.nextTick(callback);
    return true;
  } as typeof process.stdout.write;
  return {
    lines,
    stop() {
      process.stdout.write = original;
      if (pending) handle(pending);
    },
  };
}

/** Undoes @actions/core's escaping of command data. */
function unescapeData(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** Refuses early, and says why, where the client would only fail vaguely. */
export function requireCacheService(env: NodeJS.ProcessEnv): void {
  // The client's own test for GitHub Enterprise Server, where it falls back to service v1.
  const host = /^[a-z]+:\/\/([^/:]+)/i.exec(githubServerUrl(env))?.[1] ?? '';
  if (!/^(github\.com|.*\.ghe\.com|.*\.localhost)$/i.test(host)) {
    throw new LifeboatError(
      'unsupported',
      'The actions-cache store needs cache service v2, which GitHub Enterprise Server lacks.',
      {
        hint: 'Use an S3-compatible or local store on GitHub Enterprise Server.',
      },
    );
  }
  const missing = ['ACTIONS_CACHE_SERVICE_V2', 'ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_TOKEN'].filter(
    (n) => !env[n],
  );
  if (missing.length > 0) {
    throw new LifeboatError(
      'unsupported',
      `The GitHub Actions cache is not reachable here: ${missing.join(', ')} not set.`,
      {
        hint: 'Only an action step receives the cache credentials: run Lifeboat with `uses:` (not the CLI in a `run:` step), or choose an S3 or local store.',
      },
    );
  }
}
