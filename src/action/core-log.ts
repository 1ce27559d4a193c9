import * as core from '@actions/core';
import { SecretMask, type Log, type Reporter } from '../log.js';

/** Log and Reporter on the runner: masked lines, outputs and the job summary. */
export class ActionLog implements Log {
  private readonly masker = new SecretMask();
  private lastProgress = 0;

  info(message: string): void {
    core.info(this.mask(message));
  }
  warning(message: string): void {
    core.warning(this.mask(message));
  }
  debug(message: string): void {
    core.debug(this.mask(message));
  }
  progress(message: string): void {
    // Runner logs are kept forever; one progress line every 30 s is plenty.
    if (Date.now() - this.lastProgress < 30_000) return;
    this.lastProgress = Date.now();
    core.info(this.mask(message));
  }
  secret(value: string): void {
    if (!value) return;
    core.setSecret(value);
    this.masker.add(value);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) core.setSecret(encoded);
  }
  mask(text: string): string {
    return this.masker.mask(text);
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    return core.group(this.mask(title), fn);
  }
}

export class ActionReporter implements Reporter {
  constructor(private readonly log: Log) {}
  output(name: string, value: string): void {
    core.setOutput(name, this.log.mask(value));
  }
  async summary(markdown: string): Promise<void> {
    await core.summary.addRaw(this.log.mask(markdown), true).write();
  }
}
