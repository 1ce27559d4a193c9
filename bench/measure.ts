/**
 * Runs a command (or an in-process function) and measures its wall time, the peak RSS of
 * its whole process tree, and how much CPU the rest of the machine used meanwhile. RSS is
 * sampled every 50 ms from /proc/<pid>/status (VmRSS summed over the process and all its
 * descendants; VmHWM kept per process name), so a peak shorter than a sample can be missed
 * by the sum but not by the per-process high-water marks. Linux only.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { watchDiskUsage } from '../src/disk-usage.js';

export interface Measurement {
  label: string;
  seconds: number;
  /** Largest sampled sum of VmRSS over the tree. */
  peakRssBytes: number;
  /** Per process name, the largest VmHWM seen (the process's own peak). */
  peakRssByName: Record<string, number>;
  /** Bytes written, when the step has an output. */
  outputBytes?: number;
  /**
   * High-water mark of the step's own temporary directory (TMPDIR and RUNNER_TEMP point at
   * a fresh one per command), sampled every 200 ms; absent for in-process steps.
   */
  peakTempBytes?: number;
  /** CPU the measured tree used, in core-seconds. */
  cpuSeconds: number;
  /** CPU the PostgreSQL server (all its processes) used meanwhile, when its pid was given. */
  serverCpuSeconds?: number;
  /** Average cores busy with work that is not ours (not this process tree or the server's). */
  foreignCores: number;
  loadAverage: { before: number; after: number };
  samples: number;
}

const TICKS = 100; // USER_HZ: /proc reports CPU times in 1/100 s on every Linux we run on.
const INTERVAL_MS = 50;

interface ProcInfo {
  ppid: number;
  name: string;
  cpuTicks: number;
}

function readStat(pid: number): ProcInfo | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The name is in parentheses and may itself contain spaces or parentheses.
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    return { ppid: Number(fields[1]), name, cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // exited between listing and reading
  }
}

function readMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

function busyTicks(): number {
  const cpu = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  return cpu.reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + (value || 0)), 0);
}

function sum(values: Map<number, number>): number {
  let total = 0;
  for (const value of values.values()) total += value;
  return total;
}

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[0]);
}

/**
 * Samples the tree under `root` (for memory and CPU) and the tree under this process (ours:
 * the bench, its children and the PostgreSQL server it started) until stopped.
 */
class TreeSampler {
  private readonly parents = new Map<number, number>();
  private readonly names = new Map<number, string>();
  private readonly cpuOfTree = new Map<number, number>();
  private readonly cpuOfOurs = new Map<number, number>();
  private readonly cpuOfServer = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly startBusy = busyTicks();
  private readonly startedAt = process.hrtime.bigint();
  peakRss = 0;
  readonly peakByName: Record<string, number> = {};
  samples = 0;

  /** `root` is the measured process; with `alone`, its descendants are not counted. */
  constructor(
    private readonly root: () => number | undefined,
    private readonly alone = false,
    private readonly serverPid?: number,
  ) {
    this.sample();
    this.baselineOurs = sum(this.cpuOfOurs);
    this.baselineTree = sum(this.cpuOfTree);
    this.baselineServer = sum(this.cpuOfServer);
    this.timer = setInterval(() => this.sample(), INTERVAL_MS);
  }

  private readonly baselineOurs: number;
  private readonly baselineTree: number;
  private readonly baselineServer: number;

  private sample(): void {
    const live = new Set<number>();
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      live.add(pid);
      if (!this.parents.has(pid)) {
        const info = readStat(pid);
        if (info) {
          this.parents.set(pid, info.ppid);
          this.names.set(pid, info.name);
        }
      }
    }
    for (const pid of this.parents.keys()) if (!live.has(pid)) this.parents.delete(pid);
    const rootPid = this.root();
    let rss = 0;
    for (const pid of this.parents.keys()) {
      const inOurs = this.descends(pid, process.pid);
      if (!inOurs) continue;
      const info = readStat(pid);
      if (!info) continue;
      this.cpuOfOurs.set(pid, info.cpuTicks);
      if (this.serverPid && this.descends(pid, this.serverPid)) this.cpuOfServer.set(pid, info.cpuTicks);
      if (rootPid === undefined) continue;
      if (this.alone ? pid !== rootPid : !this.descends(pid, rootPid)) continue;
      this.cpuOfTree.set(pid, info.cpuTicks);
      const memory = readMemory(pid);
      if (!memory) continue;
      rss += memory.rss;
      const name = this.names.get(pid) ?? String(pid);
      this.peakByName[name] = Math.max(this.peakByName[name] ?? 0, memory.hwm);
    }
    this.peakRss = Math.max(this.peakRss, rss);
    this.samples++;
  }

  private descends(pid: number, ancestor: number): boolean {
    for (let at: number | undefined = pid, hops = 0; at && hops < 64; hops++) {
      if (at === ancestor) return true;
      at = this.parents.get(at);
    }
    return false;
  }

  /** Stops sampling; CPU figures are for the whole sampled span. */
  stop(): { cpuSeconds: number; serverCpuSeconds?: number; foreignCores: number } {
    this.sample();
    clearInterval(this.timer);
    const seconds = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    // Processes alive at the start had CPU time before it; only count what they used since.
    const busy = busyTicks() - this.startBusy;
    const ours = sum(this.cpuOfOurs) - this.baselineOurs;
    return {
      cpuSeconds: (sum(this.cpuOfTree) - this.baselineTree) / TICKS,
      serverCpuSeconds: this.serverPid ? (sum(this.cpuOfServer) - this.baselineServer) / TICKS : undefined,
      foreignCores: Math.max(0, (busy - ours) / TICKS / Math.max(seconds, 0.001)),
    };
  }
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Size of this file once the command finished, as the step's output size. */
  outputFile?: string;
  /** Size in bytes of what the command wrote to stdout (else stdout is discarded). */
  countStdout?: boolean;
  /** Seconds from the start until a stderr line first matched each pattern (phases of a run). */
  marks?: Record<string, RegExp>;
  /** The PostgreSQL postmaster, whose processes' CPU is reported as serverCpuSeconds. */
  serverPid?: number;
}

/** Runs `command args` to completion; a non-zero exit is an error quoting its stderr. */
export async function measureCommand(
  label: string,
  command: string,
  args: string[],
  options: CommandOptions = {},
): Promise<Measurement & { stdout: string; stderr: string; marks: Record<string, number> }> {
  const before = loadAverage();
  // A temporary directory of its own, watched: what the step puts there is its temporary disk.
  const temp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-temp-'));
  const usage = watchDiskUsage(temp);
  const started = process.hrtime.bigint();
  const child = spawn(command, args, {
    env: { ...(options.env ?? process.env), TMPDIR: temp, RUNNER_TEMP: temp },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sampler = new TreeSampler(() => child.pid, false, options.serverPid);
  let stdout = '';
  let stderr = '';
  let counted = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    counted += chunk.length;
    if (!options.countStdout && stdout.length < 1 << 20) stdout += chunk.toString('utf8');
  });
  const marks: Record<string, number> = {};
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr = (stderr + text).slice(-64 * 1024);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    const at = Number(process.hrtime.bigint() - started) / 1e9;
    for (const line of lines) {
      for (const [name, pattern] of Object.entries(options.marks ?? {})) {
        if (marks[name] === undefined && pattern.test(line)) marks[name] = at;
      }
    }
  });
  const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = sampler.stop();
  const peakTempBytes = await usage.stop();
  rmSync(temp, { recursive: true, force: true });
  if (status.code !== 0) {
    throw new Error(
      `${label}: ${command} ${status.signal ? `was killed by ${status.signal}` : `exited with ${status.code}`}\n${stderr.trim().split('\n').slice(-20).join('\n')}`,
    );
  }
  let outputBytes: number | undefined;
  if (options.countStdout) outputBytes = counted;
  if (options.outputFile) outputBytes = statSync(options.outputFile).size;
  return {
    label,
    seconds,
    peakRssBytes: sampler.peakRss,
    peakRssByName: sampler.peakByName,
    outputBytes,
    peakTempBytes,
    ...cpu,
    loadAverage: { before, after: loadAverage() },
    samples: sampler.samples,
    stdout,
    stderr,
    marks,
  };
}

/** Runs `fn` in this process; the RSS figures are this process's (its baseline included). */
export async function measureFunction<T>(
  label: string,
  fn: () => Promise<T>,
  options: { serverPid?: number } = {},
): Promise<{ measurement: Measurement; value: T }> {
  const before = loadAverage();
  const sampler = new TreeSampler(() => process.pid, true, options.serverPid);
  const started = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = sampler.stop();
  return {
    value,
    measurement: {
      label,
      seconds,
      peakRssBytes: sampler.peakRss,
      peakRssByName: sampler.peakByName,
      ...cpu,
      loadAverage: { before, after: loadAverage() },
      samples: sampler.samples,
    },
  };
}

/** `bash -o pipefail -c script`: a pipeline fails when any of its commands does. */
export function shell(script: string): [string, string[]] {
  return ['bash', ['-o', 'pipefail', '-c', script]];
}

export const cores = () => os.availableParallelism();

/** The postmaster's pid, from the first line of postmaster.pid in its data directory. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(`${dataDir}/postmaster.pid`, 'latin1').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits (at most `maxSeconds`) until processes outside this benchmark use less than
 * `cores` of CPU over a one-second window, so a step does not start in the middle of
 * someone else's burst. Returns the seconds waited.
 */
export async function waitForQuiet(maxSeconds = 30, cores = 0.3): Promise<number> {
  const started = Date.now();
  for (;;) {
    const sampler = new TreeSampler(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { foreignCores } = sampler.stop();
    const waited = (Date.now() - started) / 1000;
    if (foreignCores < cores || waited >= maxSeconds) return waited;
  }
}
