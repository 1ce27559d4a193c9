import type { DecryptKeys, EncryptKeys } from '../archive/age/index.js';
import type { Manifest } from '../archive/manifest.js';
import { storageKey } from '../archive/store-keys.js';
import { formatBytes } from '../duration.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { pool } from '../pool.js';
import type { StorageRow } from '../postgres/storage-rows.js';
import type { StorageSettings } from '../settings/storage-values.js';
import { chooseBuckets, openStorage } from '../storage/open-storage.js';
import {
  bucketTotals,
  compareWithRows,
  memberName,
  someNames,
  type StorageCatalog,
} from '../storage/object-catalog.js';
import type { ListedObject, StorageClient } from '../storage/storage-client.js';
import { readStorageArchive } from '../storage/tar-read.js';
import { writeStorageArchive, type WrittenStorage } from '../storage/tar-write.js';
import type { BackupStore } from '../stores/store.js';

/**
 * The Storage side of a backup: the buckets are chosen (and the credentials proved) before
 * any dump starts; the objects stream into `<id>.storage.tar.zst.age` while pg_dump runs;
 * the archive is read back like the database archive; the listing is compared with the
 * storage.objects rows of the dump's snapshot, and every difference becomes a warning.
 */
export class StorageBackup {
  readonly key: string;
  private written?: WrittenStorage;
  private listedCount = 0;
  private level: 'stored' | 'readable' = 'stored';
  private catalogPart?: StorageCatalog;

  private constructor(
    private readonly client: StorageClient,
    private readonly buckets: string[],
    name: string,
    backupId: string,
  ) {
    this.key = storageKey(name, backupId);
  }

  static async open(
    settings: StorageSettings,
    where: { env: NodeJS.ProcessEnv; log: Log; name: string; backupId: string },
  ): Promise<StorageBackup> {
    const client = await openStorage(settings, where.env, where.log);
    try {
      const buckets = await chooseBuckets(client, settings.buckets);
      where.log.info(`Storage: backing up ${buckets.length} buckets from ${client.where}.`);
      return new StorageBackup(client, buckets, where.name, where.backupId);
    } catch (error) {
      client.close();
      throw error;
    }
  }

  /** Lists every chosen bucket (a few at once) and streams the objects into the store. */
  async write(options: {
    store: BackupStore;
    keys: EncryptKeys;
    log: Log;
    signal?: AbortSignal;
  }): Promise<void> {
    const lists = await pool(
      4,
      this.buckets.map((b) => () => this.client.listObjects(b)),
    );
    const objects: ListedObject[] = lists.flat();
    this.listedCount = objects.length;
    const bytes = objects.reduce((n, o) => n + o.sizeBytes, 0);
    options.log.info(
      `Storage: ${objects.length} objects (${formatBytes(bytes)}) listed; streaming them into ${this.key}.`,
    );
    this.written = await writeStorageArchive({ client: this.client, objects, key: this.key, ...options });
  }

  /** Every byte back from the store; with a key, every object's SHA-256 against what was written. */
  async readBack(options: {
    store: BackupStore;
    keys?: DecryptKeys;
    log: Log;
  }): Promise<'stored' | 'readable'> {
    const written = this.written!;
    const members = await readStorageArchive({
      ...options,
      key: this.key,
      sha256: written.sha256,
      sizeBytes: written.sizeBytes,
    });
    if (!options.keys) return (this.level = 'stored');
    const expected = new Map(written.objects.map((o) => [memberName(o.bucket, o.key), o]));
    const wrong = members.filter((m) => expected.get(memberName(m.bucket, m.key))?.sha256 !== m.sha256);
    if (wrong.length || members.length !== written.objects.length) {
      throw new LifeboatError(
        'integrity',
        `Reading back ${this.key} found ${members.length} objects where ${written.objects.length} were written${wrong.length ? `; ${someNames(wrong)} differ` : ''}.`,
        {
          hint: 'The store lost or altered bytes. Nothing was marked verified; check the store and take a new backup.',
        },
      );
    }
    return (this.level = 'readable');
  }

  /** The comparison with storage.objects, warned about line by line; the encrypted catalog's part. */
  catalog(rows: StorageRow[] | null, log: Log): StorageCatalog {
    const written = this.written!;
    const consistency = compareWithRows(rows, written.objects, this.buckets);
    if (written.vanished.length)
      log.warning(
        `Storage: ${written.vanished.length} objects were deleted during the backup, after they were listed: ${someNames(written.vanished)}.`,
      );
    if (!consistency.compared)
      log.warning(
        'Storage: the database has no storage.objects table, so the objects could not be compared with it.',
      );
    if (consistency.onlyInStorage.length)
      log.warning(
        `Storage: ${consistency.onlyInStorage.length} objects have no storage.objects row in the dump (uploaded during the backup, or orphaned files): ${someNames(consistency.onlyInStorage)}.`,
      );
    if (consistency.onlyInDatabase.length)
      log.warning(
        `Storage: ${consistency.onlyInDatabase.length} storage.objects rows in the dump have no object in the backup (deleted during the backup, or already missing): ${someNames(consistency.onlyInDatabase)}. A drill of this backup will report them.`,
      );
    this.catalogPart = {
      buckets: bucketTotals(this.buckets, written.objects),
      objects: written.objects,
      consistency,
    };
    return this.catalogPart;
  }

  manifestPart(): NonNullable<Manifest['storage']> {
    const written = this.written!;
    return {
      key: this.key,
      sizeBytes: written.sizeBytes,
      sha256: written.sha256,
      format: 'tar',
      compression: 'zstd',
      objects: written.objects.length,
      buckets: this.buckets.length,
    };
  }

  get verified(): 'stored' | 'readable' {
    return this.level;
  }

  /** Markdown lines for the job summary: counts, bytes and every kind of difference. */
  summaryLines(): string[] {
    const c = this.catalogPart;
    const w = this.written;
    if (!c || !w) return [];
    const bytes = w.objects.reduce((n, o) => n + o.sizeBytes, 0);
    const lines = [
      `**Storage**: ${w.objects.length} objects (${formatBytes(bytes)}) from ${c.buckets.length} buckets, ${formatBytes(w.sizeBytes)} stored; ${this.listedCount} listed.`,
    ];
    const warn = (n: number, text: string) => n && lines.push(`- ⚠️ ${n} ${text}`);
    warn(w.vanished.length, 'objects deleted during the backup');
    warn(c.consistency.onlyInStorage.length, 'objects without a storage.objects row in the dump');
    warn(c.consistency.onlyInDatabase.length, 'storage.objects rows without their object');
    if (!c.consistency.compared) lines.push('- ⚠️ no storage.objects table to compare with');
    return lines;
  }

  close(): void {
    this.client.close();
  }
}
