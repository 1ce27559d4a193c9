import { formatDuration } from '../duration.js';
import { describeError } from '../errors.js';
import type { Log } from '../log.js';

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
 * Runs the drill's steps one after another, timing and logging each. The first failure is
 * kept; `skipRest` records the steps it kept from running, so the report lists the whole drill.
 */
export class DrillSteps {
  readonly records: StepRecord[] = [];
  failure: { step: string; error: unknown } | undefined;

  constructor(
    private readonly log: Log,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  async run<T>(name: string, fn: (step: StepHandle) => Promise<T>): Promise<T> {
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
      record.status = 'failed';
      record.detail = this.log.mask(describeError(error).split('\n')[0] ?? '');
      this.failure ??= { step: name, error };
      this.log.info(`✘ ${name} failed after ${seconds(record.seconds)}`);
      throw error;
    }
  }

  /** Records the steps a failure kept from running. */
  skipRest(names: string[]): void {
    const done = new Set(this.records.map((r) => r.name));
    for (const name of names) {
      if (!done.has(name)) this.records.push({ name, status: 'skipped', seconds: 0 });
    }
  }
}

function seconds(value: number): string {
  return value < 60 ? `${value.toFixed(1)}s` : formatDuration(value);
}
