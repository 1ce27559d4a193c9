import { formatBytes } from '../duration.js';
import { memberName, type StorageObjectEntry } from './object-catalog.js';
import type { ListedObject } from './storage-client.js';

/** What a Storage restore does to one bucket. */
export interface BucketPlan {
  bucket: string;
  /** Objects the bucket lacks: put back. */
  put: number;
  putBytes: number;
  /** Objects that differ from the backup (size or SHA-256): replaced. */
  replace: number;
  replaceBytes: number;
  /** Objects already identical: left alone. */
  identical: number;
  /** Objects the backup does not hold: kept, or deleted with storage-delete-extra. */
  extra: number;
  extraBytes: number;
}

export interface StorageRestorePlan {
  buckets: BucketPlan[];
  /** Member names (`bucket/key`) to write. */
  writes: Set<string>;
  /** Objects to delete (only with storage-delete-extra). */
  deletes: { bucket: string; key: string }[];
  deleteExtra: boolean;
}

/**
 * Pure: the backup's objects (already narrowed to the chosen buckets and prefix) against
 * what the buckets hold now. `currentHashes` has the SHA-256 of every current object whose
 * size equals its backed-up copy (only those can be identical); a size that differs needs no hash.
 */
export function planStorageRestore(input: {
  buckets: string[];
  backup: StorageObjectEntry[];
  current: ListedObject[];
  currentHashes: Map<string, string>;
  deleteExtra: boolean;
}): StorageRestorePlan {
  const plans = new Map<string, BucketPlan>(
    input.buckets.map((bucket) => [
      bucket,
      { bucket, put: 0, putBytes: 0, replace: 0, replaceBytes: 0, identical: 0, extra: 0, extraBytes: 0 },
    ]),
  );
  const now = new Map(input.current.map((o) => [memberName(o.bucket, o.key), o]));
  const wanted = new Set<string>();
  const writes = new Set<string>();
  for (const entry of input.backup) {
    const name = memberName(entry.bucket, entry.key);
    wanted.add(name);
    const plan = plans.get(entry.bucket)!;
    const there = now.get(name);
    if (!there) {
      plan.put++;
      plan.putBytes += entry.sizeBytes;
      writes.add(name);
    } else if (there.sizeBytes === entry.sizeBytes && input.currentHashes.get(name) === entry.sha256) {
      plan.identical++;
    } else {
      plan.replace++;
      plan.replaceBytes += entry.sizeBytes;
      writes.add(name);
    }
  }
  const deletes: { bucket: string; key: string }[] = [];
  for (const [name, o] of now) {
    if (wanted.has(name)) continue;
    const plan = plans.get(o.bucket)!;
    plan.extra++;
    plan.extraBytes += o.sizeBytes;
    if (input.deleteExtra) deletes.push({ bucket: o.bucket, key: o.key });
  }
  return { buckets: [...plans.values()], writes, deletes, deleteExtra: input.deleteExtra };
}

/** The buckets the restore will change: something to write, or something to delete. */
export function changedBuckets(plan: StorageRestorePlan): string[] {
  return plan.buckets.filter((b) => b.put || b.replace || (plan.deleteExtra && b.extra)).map((b) => b.bucket);
}

/** One line per bucket, for the log and the summary. */
export function describeBucketPlan(b: BucketPlan, deleteExtra: boolean): string {
  const parts = [
    `${b.put} to put back (${formatBytes(b.putBytes)})`,
    `${b.replace} to replace (${formatBytes(b.replaceBytes)})`,
    `${b.identical} identical, left alone`,
    `${b.extra} not in the backup (${formatBytes(b.extraBytes)}), ${deleteExtra ? 'deleted' : 'kept'}`,
  ];
  return `${b.bucket}: ${parts.join('; ')}`;
}
