import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { LifeboatError, type ErrorCode } from './errors.js';

export interface ChildOptions {
  label: string;
  /** Settings of the child's one connection (PG*, from libpqEnv); everything else is dropped, see childEnv. */
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  /** Error code for a failed exit. */
  code: ErrorCode;
  /** Masks secrets in the stderr text quoted in errors. */
  mask?: (text: string) => string;
  hint?: string;
}

export interface Child {
  process: ChildProcess;
  /** Resolves on exit 0; rejects with the stderr tail on any other exit, a signal, or a spawn failure. */
  done: Promise<void>;
  stderr(): string;
  kill(): void;
}

const STDERR_LIMIT = 16 * 1024;

/** What a tool needs of the environment to find its libraries, speak the locale and write temp files. */
const PASSED_THROUGH = new Set(['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'LANGUAGE', 'TZ']);
const PASSED_THROUGH_WINDOWS = new Set(['SYSTEMROOT', 'WINDIR', 'COMSPEC', 'PATHEXT']);

function passedThrough(name: string): boolean {
  return (
    PASSED_THROUGH.has(name) ||
    name.startsWith('LC_') ||
    (process.platform === 'win32' && PASSED_THROUGH_WINDOWS.has(name.toUpperCase()))
  );
}

/**
 * The whole environment of a child process: PATH, locale, temp dir and HOME from `base`,
 * and the PG* variables of its one connection from `connection`. Nothing else: not the
 * action's INPUT_* (which hold the identity and database URLs), not LIFEBOAT_*, AWS_*,
 * GITHUB_TOKEN or ACTIONS_*, which a tool never needs and a compromised or verbose one could
 * leak. PG* of `base` are dropped too: a stray PGSERVICE or PGPASSFILE must not redirect us.
 */
export function childEnv(
  connection: NodeJS.ProcessEnv = {},
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base))
    if (value !== undefined && passedThrough(name)) env[name] = value;
  for (const [name, value] of Object.entries(connection)) {
    if (value !== undefined && (/^PG[A-Z_]+$/.test(name) || passedThrough(name))) env[name] = value;
  }
  return env;
}

/**
 * Starts a child process whose failure can never go unnoticed: every caller awaits `done`,
 * which rejects on a non-zero status or a signal, quoting the last lines it wrote to stderr.
 * Arguments never carry passwords (they travel in env), so argv is safe to show; the
 * environment is always the minimal one of `childEnv`, whatever the caller passes.
 */
export function startChild(command: string, args: string[], options: ChildOptions): Child {
  const proc = spawn(command, args, {
    env: childEnv(options.env),
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  const mask = options.mask ?? ((t: string) => t);
  const tail = () => mask(stderr.trim());
  const done = new Promise<void>((resolve, reject) => {
    proc.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new LifeboatError(
          error.code === 'ENOENT' ? 'tools' : options.code,
          error.code === 'ENOENT'
            ? `${options.label} could not be started: ${command} was not found.`
            : `${options.label} could not be started: ${error.message}`,
          { hint: options.hint, cause: error },
        ),
      );
    });
    proc.once('close', (status, signal) => {
      if (status === 0) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with status ${status}`;
      const said = tail();
      reject(
        new LifeboatError(options.code, `${options.label} ${how}${said ? `:\n${indent(said)}` : '.'}`, {
          hint: options.hint,
        }),
      );
    });
  });
  // Callers may attach late; never let an early failure become an unhandled rejection.
  done.catch(() => undefined);
  return {
    process: proc,
    done,
    stderr: tail,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

function indent(text: string): string {
  const lines = text.split('\n');
  const kept = lines.length > 20 ? ['…', ...lines.slice(-20)] : lines;
  return kept.map((l) => `  ${l}`).join('\n');
}

/**
 * The error of the first of `children` that failed, else `error`: a child that died
 * (pg_dump, zstd) says in its own stderr what the broken pipe it left downstream cannot.
 */
export async function preferChildError(error: unknown, children: Child[]): Promise<unknown> {
  for (const child of children) {
    const childError = await child.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (childError) return childError;
  }
  return error;
}
