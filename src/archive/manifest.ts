import { z } from 'zod';
import { LifeboatError } from '../errors.js';
import { VerificationLevels, type VerificationLevel } from '../settings/constants.js';

/**
 * The manifest of a backup set. Its plain part is readable without a key (the gate reads
 * it in pull-request jobs that hold no secrets), so it holds nothing derived from user
 * data; the catalog snapshot travels age-encrypted in `catalog`.
 */
export const MANIFEST_FORMAT = 'lifeboat-manifest';
export const MANIFEST_VERSION = 4;

const LevelSchema = z.enum(VerificationLevels);

/** One stored, encrypted pg_dump archive: the whole backup, or one part of a parallel one. */
const StoredArchiveSchema = z.object({
  key: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  dumpBytes: z.number().int().nonnegative().nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  tocEntries: z.number().int().nonnegative().nullable(),
});

export type StoredArchive = z.infer<typeof StoredArchiveSchema>;

export const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.number().int().positive(),
  backupId: z.string().min(1),
  name: z.string().min(1),
  createdAt: z.string(),
  completedAt: z.string(),
  lifeboatVersion: z.string(),
  source: z.object({
    serverVersion: z.string(),
    serverMajor: z.number().int(),
    pgDumpVersion: z.string(),
    /**
     * The source cluster's system identifier and the database dumped: not user data, and
     * what a refresh compares to refuse a target that is the source itself. Absent in
     * manifests written before refreshes existed.
     */
    systemIdentifier: z.string().nullable().optional(),
    database: z.string().optional(),
  }),
  /**
   * The main archive: the whole schema and every row no part carries. A parallel backup
   * (format version 2) adds `parts`, data-only archives of the same snapshot, each with
   * how many tables' rows it holds (which ones is in the encrypted catalog: names are the
   * user's). A reader that ignored the parts would restore without those rows, so older
   * versions refuse the manifest by its version.
   */
  archive: StoredArchiveSchema.extend({
    format: z.literal('pg_dump-custom'),
    compression: z.literal('zstd'),
    encryption: z.enum(['age-x25519', 'age-scrypt']),
    parts: z.array(StoredArchiveSchema.extend({ tables: z.number().int().positive() })).optional(),
  }),
  /**
   * The Storage archive (format version 4): bucket objects in one tar, through zstd and age.
   * Only its key, size, hash and counts; which buckets and keys it holds is in the encrypted
   * catalog. A reader before version 4 would restore the database without the files, so it
   * refuses the manifest by its version.
   */
  storage: StoredArchiveSchema.pick({ key: true, sizeBytes: true, sha256: true })
    .extend({
      format: z.literal('tar'),
      compression: z.literal('zstd'),
      objects: z.number().int().nonnegative(),
      buckets: z.number().int().nonnegative(),
    })
    .optional(),
  verification: z.object({
    level: LevelSchema,
    checkedAt: z.string(),
    history: z.array(z.object({ level: LevelSchema, at: z.string(), by: z.string() })),
  }),
  migration: z
    .object({
      table: z.string(),
      latestVersion: z.string().nullable(),
    })
    .nullable(),
  durationSeconds: z.number().nonnegative(),
  /** age-encrypted JSON catalog snapshot, base64. */
  catalog: z.string(),
  /**
   * The age recipients (public keys, not secrets) the archives and catalog are encrypted
   * to, so `list` can say which key a backup needs. Absent before it was recorded and for a
   * passphrase; older readers ignore it, as they ignore any field they do not know.
   */
  recipients: z.array(z.string().regex(/^age1[0-9a-z]+$/)).optional(),
  /**
   * The key generation of a rekeyed backup (2, 3, …; absent is 1): its objects live under
   * `<id>.kG…` keys (store-keys.ts). Older readers never list such a manifest at all, so
   * none can read it as a generation-1 one.
   */
  keyGeneration: z.number().int().min(2).optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;

/**
 * The version a manifest must declare: the lowest whose readers restore all of it. 4 when it
 * holds a Storage archive. 2 when
 * it has parts. 3 when its catalog records roles and privileges: a reader before 3 would
 * ignore them and restore less (owners, grants and policies lost on a new server), so it
 * must refuse instead. The catalog is encrypted, but whether roles were recorded is not
 * user data: every backup since version 3 records them.
 */
export function formatVersionFor(
  archive: Manifest['archive'],
  catalog?: { roleDetails?: unknown },
  storage?: Manifest['storage'],
): number {
  if (storage) return 4;
  if (catalog?.roleDetails) return 3;
  return archive.parts?.length ? 2 : 1;
}

/** Every stored archive of a backup, the main one first. */
export function storedArchives(manifest: Manifest): StoredArchive[] {
  return [manifest.archive, ...(manifest.archive.parts ?? [])];
}

/** Stored bytes of the whole backup, every part and the Storage archive included. */
export function totalStoredBytes(manifest: Manifest): number {
  return storedArchives(manifest).reduce((sum, a) => sum + a.sizeBytes, manifest.storage?.sizeBytes ?? 0);
}

/** Bytes of the plain pg_dump archives, every part included; null when any size is unknown. */
export function totalDumpBytes(manifest: Manifest): number | null {
  return storedArchives(manifest).reduce<number | null>(
    (sum, a) => (sum === null || a.dumpBytes === null ? null : sum + a.dumpBytes),
    0,
  );
}

export function serializeManifest(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(ManifestSchema.parse(manifest), null, 2)}\n`);
}

export function parseManifest(bytes: Buffer | string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString());
  } catch {
    throw new LifeboatError('integrity', `The manifest ${where} is not valid JSON (damaged or truncated).`, {
      hint: 'Take a new backup; this one cannot be trusted.',
    });
  }
  const head = json as { format?: unknown; formatVersion?: unknown };
  if (head?.format !== MANIFEST_FORMAT) {
    throw new LifeboatError('format', `${where} is not a Lifeboat manifest.`, {
      hint: 'Check the store and name inputs.',
    });
  }
  if (typeof head.formatVersion === 'number' && head.formatVersion > MANIFEST_VERSION) {
    throw new LifeboatError(
      'format',
      `The manifest ${where} has format version ${head.formatVersion}, newer than this Lifeboat understands (${MANIFEST_VERSION}).`,
      { hint: 'Upgrade Lifeboat (use the same major version that wrote the backup, or newer).' },
    );
  }
  const result = ManifestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new LifeboatError(
      'integrity',
      `The manifest ${where} is damaged: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'schema mismatch'}.`,
      { hint: 'Take a new backup; this one cannot be trusted.' },
    );
  }
  return result.data;
}

const RANK: Record<VerificationLevel, number> = { stored: 1, readable: 2, restored: 3 };

export function levelAtLeast(level: VerificationLevel, required: VerificationLevel): boolean {
  return RANK[level] >= RANK[required];
}

/** A manifest whose verification level rose, with the step recorded. */
export function withLevel(
  manifest: Manifest,
  level: VerificationLevel,
  by: string,
  at = new Date(),
): Manifest {
  const next = RANK[level] > RANK[manifest.verification.level] ? level : manifest.verification.level;
  return {
    ...manifest,
    verification: {
      level: next,
      checkedAt: at.toISOString(),
      history: [...manifest.verification.history, { level, at: at.toISOString(), by }],
    },
  };
}
