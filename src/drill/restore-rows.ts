import type { Writable } from 'node:stream';
import { archiveFeed, type PlainArchive } from '../archive/plain-stream.js';
import type { Log } from '../log.js';
import type { ArchiveContents } from '../postgres/archive-toc.js';
import type { PgTarget } from '../postgres/connection.js';
import type { PgTool } from '../postgres/tools.js';
import { headFeed } from '../postgres/pg-restore.js';
import { pipedRestoreRefusal, restorePiped } from '../postgres/piped-restore.js';
import type { ResolvedProfile } from '../postgres/profile.js';
import { restoreStreamed } from '../postgres/restore-phases.js';
import type { PrivateTempDir } from '../tempfiles.js';

export interface DrillRestoreOptions {
  tool: PgTool;
  target: PgTarget;
  jobs: number;
  /** Each archive's head: the main one first, then the data parts. */
  heads: ArchiveContents[];
  /** Entries of the main archive the profile skips. */
  skip: Set<number>;
  sizeOf: (schema: string | null, table: string) => number;
  /** Locks the target's lock table holds for all sessions: how much one transaction may take. */
  lockSlots: number;
  profile: ResolvedProfile;
  /** A stream of archive `part`; `first` reports progress; `feeding` as openPlainArchive takes it. */
  open: (
    part: number,
    first: boolean,
    feeding: { into?: Writable; check?: boolean },
  ) => Promise<PlainArchive>;
  temp: PrivateTempDir;
  log: Log;
}

/**
 * The drill's restore, every archive streamed from the store: a backup in parts through one
 * `pg_restore --jobs` reading named pipes, each part one stream (piped-restore.ts); one
 * archive, or parts where pipes cannot run, by `pg_restore` processes that share the rows
 * out (restore-phases.ts), which measured faster for one archive (docs/performance.md).
 */
export async function restoreDrillDatabase(o: DrillRestoreOptions): Promise<void> {
  const { heads, log } = o;
  const common = {
    tool: o.tool,
    target: o.target,
    jobs: o.jobs,
    skip: o.skip,
    sizeOf: o.sizeOf,
    profile: o.profile,
    mask: (t: string) => log.mask(t),
    log,
  };
  const refusal = o.jobs > 1 ? pipedRestoreRefusal(heads) : 'one job';
  if (!refusal) {
    await restorePiped({
      ...common,
      archives: heads,
      open: (part, whole, first) => o.open(part, first, { check: whole }),
      temp: o.temp,
    });
    return;
  }
  if (o.jobs > 1 && heads.length > 1) log.info(`Restoring with several pg_restore processes: ${refusal}.`);
  await restoreStreamed({
    ...common,
    archives: heads.map((h) => h.entries),
    lockSlots: o.lockSlots,
    open: (part, whole, first) => archiveFeed((feeding) => o.open(part, first, feeding), whole),
    // Each head was read from a stream (readArchiveHead), which keeps its bytes.
    schemaOnly: (part) => headFeed(heads[part - 1]!.head!),
    listFile: (name) => o.temp.file(name),
  });
}
