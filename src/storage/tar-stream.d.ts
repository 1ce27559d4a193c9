/** The part of tar-stream (v3, streamx streams) that Lifeboat uses; the package ships no types. */
declare module 'tar-stream' {
  import type { EventEmitter } from 'node:events';

  export interface TarHeader {
    name: string;
    size?: number;
    mode?: number;
    mtime?: Date;
    type?: 'file' | 'directory' | 'symlink' | 'link' | string;
  }

  export interface EntrySink extends EventEmitter {
    write(chunk: Buffer): boolean;
    end(): void;
    destroy(error?: Error): void;
  }

  export interface Pack extends EventEmitter, AsyncIterable<Buffer> {
    entry(header: TarHeader, callback: (error?: Error | null) => void): EntrySink;
    finalize(): void;
    destroy(error?: Error): void;
  }

  export interface Entry extends EventEmitter, AsyncIterable<Buffer> {
    header: TarHeader & { size: number };
    resume(): void;
  }

  export interface Extract extends EventEmitter, AsyncIterable<Entry> {
    write(chunk: Buffer): boolean;
    end(): void;
    destroy(error?: Error): void;
  }

  export function pack(): Pack;
  export function extract(): Extract;
}
