/**
 * What a backup records about Storage, in the encrypted catalog only: bucket names, keys,
 * content types and metadata are the user's data. The plain manifest lists the archive
 * (key, size, SHA-256) and nothing of what is in it. Pure: no I/O.
 */
export interface StorageObjectEntry {
  bucket: string;
  key: string;
  sizeBytes: number;
  sha256: string;
  contentType?: string;
  cacheControl?: string;
  metadata: Record<string, string>;
}

export interface StorageBucketEntry {
  name: string;
  objects: number;
  bytes: number;
}

export interface ConsistencyReport {
  /** Rows of storage.objects were compared (false: the database has no storage.objects). */
  compared: boolean;
  /** Objects in the bucket without a storage.objects row in the dump's snapshot (uploaded during the backup, say). */
  onlyInStorage: { bucket: string; key: string }[];
  /** storage.objects rows whose object the backup does not hold (deleted during the backup, or lost). */
  onlyInDatabase: { bucket: string; key: string }[];
}

export interface StorageCatalog {
  buckets: StorageBucketEntry[];
  objects: StorageObjectEntry[];
  consistency: ConsistencyReport;
}

/** The tar member name of an object: `<bucket>/<key>`, so `tar x` recreates one folder per bucket. */
export function memberName(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

/** Entries by their tar member name. */
export function byMember(objects: StorageObjectEntry[]): Map<string, StorageObjectEntry> {
  return new Map(objects.map((o) => [memberName(o.bucket, o.key), o]));
}

/** Per-bucket counts and bytes, buckets in name order, empty buckets kept. */
export function bucketTotals(
  bucketNames: string[],
  objects: { bucket: string; sizeBytes: number }[],
): StorageBucketEntry[] {
  const totals = new Map(bucketNames.map((name) => [name, { name, objects: 0, bytes: 0 }]));
  for (const o of objects) {
    const t = totals.get(o.bucket) ?? { name: o.bucket, objects: 0, bytes: 0 };
    t.objects += 1;
    t.bytes += o.sizeBytes;
    totals.set(o.bucket, t);
  }
  return [...totals.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Objects on one side only. `rows` are storage.objects (bucket_id, name) of the dump's
 * snapshot, `objects` what the backup holds; only the buckets backed up are compared.
 */
export function compareWithRows(
  rows: { bucket: string; key: string }[] | null,
  objects: { bucket: string; key: string }[],
  buckets: string[],
): ConsistencyReport {
  if (!rows) return { compared: false, onlyInStorage: [], onlyInDatabase: [] };
  const chosen = new Set(buckets);
  const id = (o: { bucket: string; key: string }) => JSON.stringify([o.bucket, o.key]);
  const rowIds = new Set(rows.filter((r) => chosen.has(r.bucket)).map(id));
  const objectIds = new Set(objects.map(id));
  return {
    compared: true,
    onlyInStorage: objects.filter((o) => !rowIds.has(id(o))).map(({ bucket, key }) => ({ bucket, key })),
    onlyInDatabase: rows.filter((r) => chosen.has(r.bucket) && !objectIds.has(id(r))),
  };
}

/** A few names from a list, for one readable line: `"a/x", "b/y" and 3 more`. */
export function someNames(list: { bucket: string; key: string }[], max = 5): string {
  const shown = list.slice(0, max).map((o) => `"${o.bucket}/${o.key}"`);
  return list.length > max ? `${shown.join(', ')} and ${list.length - max} more` : shown.join(', ');
}
