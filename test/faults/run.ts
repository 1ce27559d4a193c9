/**
 * Runs Lifeboat for a fault row: in process, the way the entry points do (inputs parsed
 * once, a mode run against a store, any failure turned into one masked message and an exit
 * status), or as the real CLI in a child process when a row needs signals or a process exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseSettings } from '../../src/settings/settings.js';
import { describeError, isLifeboatError } from '../../src/errors.js';
import { MemoryLog, MemoryReporter } from '../../src/log.js';
import { runMode, runModeIn } from '../../src/run.js';
import type { BackupStore } from '../../src/stores/store.js';

export interface Outcome {
  /** What the CLI would exit with: 0, 1, or 2 for bad input. */
  code: number;
  /** The message the entry point prints (masked), '' on success. */
  message: string;
  error?: unknown;
  outputs: Record<string, string>;
  summaries: string[];
  log: MemoryLog;
  /** Everything a person could see: log lines, outputs, summaries and the message. */
  shown: string;
}

export interface RunOptions {
  /** A store the test built itself (fault switches, small parts); else the one `store` names. */
  store?: BackupStore;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

export async function runLifeboat(
  inputs: Record<string, string>,
  options: RunOptions = {},
): Promise<Outcome> {
  const log = new MemoryLog();
  const reporter = new MemoryReporter();
  let error: unknown;
  try {
    const settings = parseSettings(
      (name) => inputs[name] ?? '',
      (value) => log.secret(value),
    );
    if (options.store)
      await runModeIn(settings, { log, reporter, env: options.env, now: options.now, store: options.store });
    else await runMode(settings, { log, reporter, env: options.env });
  } catch (e) {
    error = e;
  }
  const message = error === undefined ? '' : log.mask(describeError(error));
  const code = error === undefined ? 0 : isLifeboatError(error, 'input') ? 2 : 1;
  const shown = [log.text(), JSON.stringify(reporter.outputs), ...reporter.summaries, message].join('\n');
  return { code, message, error, outputs: reporter.outputs, summaries: reporter.summaries, log, shown };
}

export interface CliProcess {
  child: ChildProcess;
  /** Resolves when the process ends, with its status (or 128 + signal number) and output. */
  done: Promise<{ code: number; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves once stderr has printed a line matching `pattern`. */
  said(pattern: RegExp): Promise<void>;
}

/**
 * Runs the CLI once so tsx's compile cache exists before any row watches the temp directory:
 * the cache then counts as a peer's directory, not as files a row left behind.
 */
export async function warmCli(env: NodeJS.ProcessEnv): Promise<void> {
  const { code, stderr } = await startCli(['--help'], env).done;
  if (code !== 0) throw new Error(`lifeboat --help failed: ${stderr}`);
}

/** The real CLI (`lifeboat <args>`) in a child process, with its own environment. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const w of [...waiters]) {
      if (w.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const done = new Promise<{ code: number; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => {
      child.on('close', (code, signal) => resolve({ code: code ?? 128, signal, stdout, stderr }));
    },
  );
  return {
    child,
    done,
    said: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve();
        waiters.push({ pattern, resolve });
        void done.then(() => reject(new Error(`the CLI ended without printing ${pattern}:\n${stderr}`)));
      }),
  };
}
