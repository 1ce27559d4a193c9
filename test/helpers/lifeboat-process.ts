/**
 * Lifeboat in a real process, for tests that need one: the action's entry as a runner starts
 * it (through tsx, or the committed bundle), and the CLI with signals and an exit status.
 * Tests import these through the harness, `lifeboat.ts`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** Everything a person could see: stdout minus the runner's mask commands, stderr, outputs, summary. */
  shown: string;
}

/**
 * Runs the action the way a runner does: inputs as INPUT_<NAME> (upper-cased, hyphens
 * kept), outputs and the job summary through the files GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
 * `entry` is the TypeScript source (through tsx) or the committed bundle.
 */
export async function runAction(
  inputs: Record<string, string>,
  options: { entry?: 'source' | 'dist'; env?: NodeJS.ProcessEnv } = {},
): Promise<ActionRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-action-'));
  const outputFile = path.join(dir, 'output');
  const summaryFile = path.join(dir, 'summary');
  await writeFile(outputFile, '');
  await writeFile(summaryFile, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
  };
  for (const key of Object.keys(env)) if (key.startsWith('INPUT_')) delete env[key];
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const [command, args] =
    options.entry === 'dist'
      ? [process.execPath, ['dist/index.js']]
      : [process.execPath, ['--import', 'tsx', 'src/index.ts']];
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
  const outputs = parseOutputFile(await readFile(outputFile, 'utf8'));
  const summary = await readFile(summaryFile, 'utf8');
  await rm(dir, { recursive: true, force: true });
  return { ...result, outputs, summary, shown: visible({ ...result, outputs, summary }) };
}

/** GITHUB_OUTPUT uses `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i]!);
    outputs[match[1]!] = value.join('\n');
  }
  return outputs;
}

/** stdout minus the runner's own mask commands, which carry secrets by design. */
function visible(run: Omit<ActionRun, 'shown'>): string {
  const stdout = run.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  return [stdout, run.stderr, JSON.stringify(run.outputs), run.summary].join('\n');
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
