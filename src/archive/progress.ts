import { Transform, type TransformCallback } from 'node:stream';
import { formatBytes } from '../duration.js';
import type { Log } from '../log.js';

/** Counts bytes passing through and reports size and rate every `intervalMs`. */
export class ProgressMeter extends Transform {
  bytes = 0;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Log,
    private readonly label: string,
    intervalMs = 5000,
  ) {
    super();
    this.timer = setInterval(() => this.report(), intervalMs);
    this.timer.unref();
    const stop = () => this.stop();
    this.once('end', stop).once('error', stop).once('close', stop);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  rate(): number {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    return this.bytes / seconds;
  }

  report(): void {
    this.log.progress(`${this.label}: ${formatBytes(this.bytes)} at ${formatBytes(this.rate())}/s`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
