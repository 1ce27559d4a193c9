import { formatDuration } from '../duration.js';
import { describeError } from '../errors.js';
import type { Log } from '../log.js';

/** The drill's steps, by the name reports and summaries show. */
export const STEPS = {
  manifest: 'Read the manifest and its catalog snapshot',
  connect: 'Connect to the target server, find pg_restore',
  fetch: 'Read the table of contents from the store',
  create: 'Create the drill database',
  prepare: 'Prepare for the profile',
  settings: 'Replay database settings',
  // Streamed from the store: SHA-256, decryption and decompression are checked as it reads.
  restore: 'pg_restore',
  verify: 'Verify against the catalog snapshot',
  storage: 'Check Storage objects against the archive and storage.objects',
} as const;

export interface StepRecord {
  name: string;
  status: 'ok' | 'failed' | 'skipped';
  seconds: number;
  /** One line about what the step did (sizes, counts) or why it failed. */
  detail?: string;
}

export interface StepHandle {
  /** Records what the step did, shown next to its duration. */
  note(detail: string): void;
}

/**
 * Runs the drill's steps, timing and logging each. The first failure is
 * kept; `skipRest` records the steps it kept from running, so the report lists the whole drill.
 */
export class DrillSteps {
  readonly records: StepRecord[] = [];
  failure: { step: string; error: unknown } | undefined;

  constructor(
    private readonly log: Log,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Runs one step. A step given `stopped` that fails after that signal fired was stopped
   * because a step running beside it failed: it is recorded as skipped, not as the failure.
   */
  async run<T>(name: string, fn: (step: StepHandle) => Promise<T>, stopped?: AbortSignal): Promise<T> {
    const record: StepRecord = { name, status: 'ok', seconds: 0 };
    this.records.push(record);
    this.log.info(`▶ ${name}`);
    const started = this.clock();
    try {
      const result = await fn({ note: (detail) => (record.detail = detail) });
      record.seconds = (this.clock() - started) / 1000;
      this.log.info(`✔ ${name} (${seconds(record.seconds)})${record.detail ? `: ${record.detail}` : ''}`);
      return result;
    } catch (error) {
      record.seconds = (this.clock() - started) / 1000;
      if (stopped?.aborted) {
        record.status = 'skipped';
        record.detail = 'stopped: a step running beside it failed';
        this.log.info(`– ${name} stopped after ${seconds(record.seconds)}`);
        throw error;
      }
      record.status = 'failed';
      record.detail = this.log.mask(describeError(error).split('\n')[0] ?? '');
      this.failure ??= { step: name, error };
      this.log.info(`✘ ${name} failed after ${seconds(record.seconds)}`);
      throw error;
    }
  }

  /**
   * Records the steps a failure kept from running, and puts the records in the order of
   * `names`: steps that ran side by side finish in whatever order they finish.
   */
  skipRest(names: string[]): void {
    const done = new Set(this.records.map((r) => r.name));
    for (const name of names) {
      if (!done.has(name)) this.records.push({ name, status: 'skipped', seconds: 0 });
    }
    const rank = (name: string) => (names.includes(name) ? names.indexOf(name) : names.length);
    this.records.sort((a, b) => rank(a.name) - rank(b.name));
  }
}

function seconds(value: number): string {
  return value < 60 ? `${value.toFixed(1)}s` : formatDuration(value);
}
