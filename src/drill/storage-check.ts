import type { DecryptKeys } from '../archive/age/index.js';
import type { Manifest } from '../archive/manifest.js';
import { generationOf, storageKey } from '../archive/store-keys.js';
import type { Log } from '../log.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';
import type { PgTarget } from '../postgres/connection.js';
import { openClient } from '../postgres/session.js';
import { readStorageRows } from '../postgres/storage-rows.js';
import { count, emptyComparison, type Check, type Comparison } from '../postgres/verify/checks.js';
import { byMember, memberName } from '../storage/object-catalog.js';
import { readStorageArchive } from '../storage/tar-read.js';
import type { BackupStore } from '../stores/store.js';

/**
 * The drill's Storage check: the archive decrypts and decompresses to its end, every object
 * hashes to the SHA-256 its catalog recorded, and every storage.objects row of the restored
 * database has its object in the backup. A row without its object is a file the restore
 * cannot give back: an error that names bucket and key. An object without a row (uploaded
 * while the backup ran) loses nothing: a warning.
 */
export async function checkStorage(options: {
  store: BackupStore;
  manifest: Manifest;
  expected: CatalogSnapshot;
  keys: DecryptKeys;
  target: PgTarget;
  log: Log;
}): Promise<{ result: Comparison; note: string }> {
  const { manifest, expected } = options;
  const stored = manifest.storage!;
  const out = emptyComparison();
  const catalog = expected.storage;
  const error = (
    object: string,
    message: string,
    hint: string,
    expectedValue: string,
    actual: string,
  ): Check => ({
    kind: 'storage',
    object,
    expected: expectedValue,
    actual,
    severity: 'error',
    message,
    hint,
  });
  if (!catalog) {
    out.checks.push(
      error(
        'catalog',
        'The manifest lists a Storage archive, but its catalog holds no Storage objects.',
        'The manifest was altered or written by another tool; use another backup.',
        'objects',
        'none',
      ),
    );
    return { result: out, note: 'no Storage catalog' };
  }
  const members = await readStorageArchive({
    store: options.store,
    key: storageKey(manifest.name, manifest.backupId, generationOf(manifest)),
    sha256: stored.sha256,
    sizeBytes: stored.sizeBytes,
    keys: options.keys,
    log: options.log,
    label: 'Checking the Storage archive',
  });
  const recorded = byMember(catalog.objects);
  const archived = new Map(members.map((m) => [memberName(m.bucket, m.key), m]));
  const damaged =
    'The archive does not hold what the backup recorded: use another backup, and check the store.';
  for (const [name, entry] of recorded) {
    const got = archived.get(name);
    if (!got)
      out.checks.push(
        error(
          `"${name}"`,
          `Storage object "${name}" (bucket "${entry.bucket}", key "${entry.key}") is missing from the archive.`,
          damaged,
          entry.sha256,
          'missing',
        ),
      );
    else if (got.sha256 !== entry.sha256)
      out.checks.push(
        error(
          `"${name}"`,
          `Storage object "${name}" does not hash to its recorded SHA-256.`,
          damaged,
          entry.sha256,
          got.sha256,
        ),
      );
  }
  for (const name of archived.keys())
    if (!recorded.has(name))
      out.checks.push(
        error(
          `"${name}"`,
          `The archive holds "${name}", which the catalog does not record.`,
          damaged,
          'absent',
          'present',
        ),
      );
  count(out, 'storage', members.length);

  const { client } = await openClient(options.target, 'target-url');
  let rows;
  try {
    rows = await readStorageRows(client);
  } finally {
    await client.end().catch(() => undefined);
  }
  const buckets = new Set(catalog.buckets.map((b) => b.name));
  let missing = 0;
  let orphans = 0;
  if (rows) {
    const rowNames = new Set(rows.map((r) => memberName(r.bucket, r.key)));
    for (const row of rows) {
      if (!buckets.has(row.bucket) || recorded.has(memberName(row.bucket, row.key))) continue;
      missing++;
      out.checks.push(
        error(
          `"${memberName(row.bucket, row.key)}"`,
          `storage.objects row for bucket "${row.bucket}", key "${row.key}" has no object in the backup: restored, the app would point at a file that does not exist.`,
          'The file was deleted while the backup ran, or was already missing from the bucket (the backup warned about it). Check the bucket; if the file is gone for good, delete the row.',
          'object',
          'missing',
        ),
      );
    }
    for (const entry of catalog.objects) {
      if (rowNames.has(memberName(entry.bucket, entry.key))) continue;
      orphans++;
      out.checks.push({
        kind: 'storage',
        object: `"${memberName(entry.bucket, entry.key)}"`,
        expected: 'row',
        actual: 'missing',
        severity: 'warning',
        message: `Storage object "${memberName(entry.bucket, entry.key)}" has no storage.objects row in the restored database (uploaded while the backup ran, or an orphaned file).`,
      });
    }
  }
  const note = `${members.length} objects in ${catalog.buckets.length} buckets, SHA-256 checked; ${
    rows
      ? `${rows.length - missing} storage.objects rows have their object, ${missing} do not, ${orphans} objects have no row`
      : 'no storage.objects table restored'
  }`;
  return { result: out, note };
}
