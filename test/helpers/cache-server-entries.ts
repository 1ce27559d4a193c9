import { randomUUID } from 'node:crypto';

/**
 * The cache service's bookkeeping, as GitHub's behaves: an entry is (key, version); it is
 * reserved by CreateCacheEntry and visible only once finalized; a second reservation of
 * the same key and version is refused even while the first is unfinished; lookups try
 * the key exactly, then as a prefix, then each restore key as a prefix, and the newest
 * matching entry wins; the version must always match.
 */
export interface CacheEntry {
  id: number;
  key: string;
  version: string;
  /** Where the bytes live in the blob backend. */
  blobName: string;
  sizeBytes: number;
  finalized: boolean;
  ref: string;
  createdAt: Date;
  /** When a lookup last matched the entry (the REST list's last_accessed_at); createdAt until then. */
  lastAccessedAt?: Date;
}

export class CacheEntries {
  private readonly all: CacheEntry[] = [];
  private nextId = 1;

  constructor(private readonly ref: string) {}

  /** A new unfinalized entry, or undefined when the key and version are taken. */
  reserve(key: string, version: string): CacheEntry | undefined {
    if (this.all.some((e) => e.key === key && e.version === version)) return undefined;
    const id = this.nextId++;
    const entry: CacheEntry = {
      id,
      key,
      version,
      blobName: `${id}-${randomUUID()}`,
      sizeBytes: 0,
      finalized: false,
      ref: this.ref,
      createdAt: new Date(),
    };
    this.all.push(entry);
    return entry;
  }

  /** The reserved, unfinalized entry for a key and version. */
  pending(key: string, version: string): CacheEntry | undefined {
    return this.all.find((e) => e.key === key && e.version === version && !e.finalized);
  }

  match(key: string, restoreKeys: string[], version: string): CacheEntry | undefined {
    const visible = this.newestFirst().filter((e) => e.finalized && e.version === version);
    const found =
      visible.find((e) => e.key === key) ??
      [key, ...restoreKeys].map((prefix) => visible.find((e) => e.key.startsWith(prefix))).find(Boolean);
    if (found) found.lastAccessedAt = new Date();
    return found;
  }

  /** Sets when entries whose key starts with `prefix` were last accessed, as if unread since. */
  setLastAccessed(prefix: string, at: Date): number {
    const hit = this.all.filter((e) => e.key.startsWith(prefix));
    for (const entry of hit) entry.lastAccessedAt = at;
    return hit.length;
  }

  /** Finalized entries whose key starts with `prefix`, newest first (the REST list). */
  listed(prefix: string): CacheEntry[] {
    return this.newestFirst().filter((e) => e.finalized && e.key.startsWith(prefix));
  }

  /** Removes every finalized entry with exactly this key (the REST delete); returns what went. */
  removeKey(key: string, ref?: string): CacheEntry[] {
    const gone = this.all.filter((e) => e.finalized && e.key === key && (ref === undefined || e.ref === ref));
    for (const entry of gone) this.all.splice(this.all.indexOf(entry), 1);
    return gone;
  }

  /** Gives every entry with exactly this key another key, as a writer with another layout would have named it. */
  rekey(key: string, to: string): void {
    for (const entry of this.all) if (entry.key === key) entry.key = to;
  }

  snapshot(): CacheEntry[] {
    return this.all.map((e) => ({ ...e }));
  }

  private newestFirst(): CacheEntry[] {
    return [...this.all].sort((a, b) => b.id - a.id);
  }
}
