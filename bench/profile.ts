/**
 * Where a Lifeboat backup's time goes (`npm run bench -- --profile`): pg_dump piped into
 * zstd at several levels and thread counts, zstd alone on the dump file, the catalog
 * snapshot with and without exact row counts, and the read-back alone.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { readBack } from '../src/backup/read-back.js';
import { MemoryLog } from '../src/log.js';
import { inspectDatabase, type InspectOptions } from '../src/postgres/inspect.js';
import { createToolFinder } from '../src/postgres/tools.js';
import { LocalStore } from '../src/stores/local.js';
import type { Keys, Manifest } from './lifeboat.js';
import { measureCommand, measureFunction, shell, waitForQuiet, type Measurement } from './measure.js';

export type CatalogVariant = 'fingerprints and counts' | 'exact counts only' | 'no table reads';

const CATALOG_VARIANTS: Record<CatalogVariant, InspectOptions> = {
  'fingerprints and counts': { fingerprints: true },
  'exact counts only': { fingerprints: false },
  'no table reads': { fingerprints: false, rowCounts: false },
};

export interface ZstdRun {
  level: number;
  threads: number;
  seconds: number;
  cpuSeconds: number;
  outputBytes: number;
}

export interface Profile {
  /** pg_dump -Fc -Z0 piped into zstd (and age), output discarded. */
  pipelines: Measurement[];
  /** zstd alone, reading the uncompressed dump from the page cache. */
  zstdOnFile: ZstdRun[];
  /** The catalog snapshot alone, reading the tables three ways. */
  catalog: Record<CatalogVariant, Measurement>;
  /** The backup's verification alone: read, hash, decrypt, decompress, list the TOC. */
  readBack: Measurement;
}

export async function runProfile(options: {
  env: NodeJS.ProcessEnv;
  url: string;
  plainDump: string;
  archive: string;
  manifest: Manifest;
  keys: Keys;
  workDir: string;
  serverMajor: number;
  serverPid?: number;
  log: (line: string) => void;
}): Promise<Profile> {
  const { env, log } = options;
  const run = async (label: string, script: string) => {
    log(`  profile: ${label}…`);
    await waitForQuiet();
    const [command, args] = shell(script);
    const {
      stdout: _o,
      stderr: _e,
      marks: _m,
      ...m
    } = await measureCommand(label, command, args, {
      env,
      serverPid: options.serverPid,
    });
    log(`    ${m.seconds.toFixed(1)} s`);
    return m;
  };
  const pipelines: Measurement[] = [];
  for (const [level, threads] of [
    [3, 0],
    [3, 1],
    [2, 0],
    [1, 0],
  ] as const) {
    pipelines.push(
      await run(
        `pg_dump -Fc -Z0 | zstd -${level} -T${threads}`,
        `pg_dump -Fc -Z0 | zstd -q -${level} -T${threads} --check > /dev/null`,
      ),
    );
  }
  pipelines.push(
    await run(
      'pg_dump -Fc -Z0 | zstd -3 -T0 | age',
      `pg_dump -Fc -Z0 | zstd -q -3 -T0 --check | age -r ${options.keys.recipient} > /dev/null`,
    ),
  );

  const zstdOnFile: ZstdRun[] = [];
  const out = path.join(options.workDir, 'profile.zst');
  for (const level of [1, 2, 3, 6]) {
    for (const threads of [1, 0]) {
      await waitForQuiet();
      const [command, args] = shell(
        `zstd -q -${level} -T${threads} --check -c ${options.plainDump} > ${out}`,
      );
      const m = await measureCommand(`zstd -${level} -T${threads}`, command, args, { env });
      zstdOnFile.push({
        level,
        threads,
        seconds: m.seconds,
        cpuSeconds: m.cpuSeconds,
        outputBytes: (await stat(out)).size,
      });
      log(`  profile: zstd -${level} -T${threads} on the file: ${m.seconds.toFixed(1)} s`);
    }
  }
  await rm(out, { force: true });

  // The three ways a catalog snapshot can read the tables, in the dump's kind of transaction.
  const client = new pg.Client({ connectionString: options.url });
  await client.connect();
  const catalog: Record<CatalogVariant, Measurement> = {} as Record<CatalogVariant, Measurement>;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const [variant, inspect] of Object.entries(CATALOG_VARIANTS) as [CatalogVariant, InspectOptions][]) {
      const { measurement } = await measureFunction(
        `catalog snapshot, ${variant}`,
        () => inspectDatabase(client, inspect),
        { serverPid: options.serverPid },
      );
      catalog[variant] = measurement;
      log(
        `  profile: catalog snapshot, ${variant}: ${measurement.seconds.toFixed(2)} s (server CPU ${(measurement.serverCpuSeconds ?? 0).toFixed(1)} s)`,
      );
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }

  const identity = (await readFile(options.keys.identityFile, 'utf8')).trim();
  const pgRestore = await createToolFinder().forServer(
    'pg_restore',
    options.serverMajor,
    String(options.serverMajor),
  );
  const storeRoot = path.dirname(path.dirname(options.archive));
  const { measurement: readBackRun } = await measureFunction('read-back alone (in process)', () =>
    readBack({
      store: new LocalStore(storeRoot),
      key: options.manifest.archive.key,
      sha256: options.manifest.archive.sha256,
      sizeBytes: options.manifest.archive.sizeBytes,
      keys: { identities: [identity] },
      pgRestore,
      log: new MemoryLog(),
    }),
  );
  log(`  profile: read-back alone ${readBackRun.seconds.toFixed(1)} s`);
  return { pipelines, zstdOnFile, catalog, readBack: readBackRun };
}
