import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through unchanged while hashing (SHA-256) and counting them. */
export class HashCounter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Hex digest; call once, after the stream finished. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Holds back the end of a stream until `check` resolves, so a store never finalizes
 * an object whose producer (pg_dump, zstd) failed after writing its last byte.
 */
export class EndGate extends Transform {
  constructor(private readonly check: () => Promise<void>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.check().then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }
}
