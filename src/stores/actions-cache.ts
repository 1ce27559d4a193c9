import * as cache from '@actions/cache';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LifeboatError } from '../errors.js';
import { MemoryLog, type Log } from '../log.js';
import {
  OBJECT_FILE,
  OBJECT_PATH,
  requireCacheService,
  withCacheClient,
  type ClientLine,
} from './actions-cache-client.js';
import {
  backupIdOf,
  belongsTo,
  CACHE_KEY_ROOT,
  latestManifestPrefix,
  sizeOf,
  slotFor,
  storeKeyOf,
  writeKey,
  type CacheSlot,
} from './actions-cache-keys.js';
import { readFailure, reportedMiss, saveFailure } from './actions-cache-outcome.js';
import { cachesApiFor } from './actions-cache-rest.js';
import { removeOnExit } from '../tempfiles.js';
import type { AccessAware, BackupStore, LatestAware, StoredObject } from './store.js';
import { githubTokenFromEnv, repositoryName, tempRoot } from '../settings/environment.js';

export interface ActionsCacheStoreOptions {
  /** Where the runner's settings come from; default process.env, which is never left changed. */
  env?: NodeJS.ProcessEnv;
  /** Parent of the private work directories; default RUNNER_TEMP, else the OS temp dir. */
  tempDir?: string;
  log?: Log;
  /** Token for the REST caches API (list, delete); default GITHUB_TOKEN. */
  token?: string;
}

/**
 * Backups in the repository's GitHub Actions cache, through the real @actions/cache client
 * (service v2). Each store key is its own entry holding one file, so reading a manifest
 * never downloads an archive; see actions-cache-keys.ts for the layout and how entries,
 * being immutable, still allow a manifest to be rewritten.
 */
export class ActionsCacheStore implements BackupStore, LatestAware, AccessAware {
  readonly kind = 'actions-cache' as const;
  readonly location: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: Log;
  private readonly tempDir: string;
  /** Work directories in use, each with the function that stops its removal on exit. */
  private readonly workDirs = new Map<string, () => void>();

  constructor(private readonly options: ActionsCacheStoreOptions = {}) {
    this.env = options.env ?? process.env;
    this.log = options.log ?? new MemoryLog();
    this.tempDir = options.tempDir || tempRoot(this.env);
    const repository = repositoryName(this.env);
    this.location = repository ? `actions-cache:${repository}` : 'actions-cache';
    this.log.secret(this.env.ACTIONS_RUNTIME_TOKEN ?? '');
    this.log.secret(this.token() ?? '');
  }

  async put(key: string, body: Readable, options: { overwrite?: boolean } = {}): Promise<void> {
    const dir = await this.newWorkDir();
    try {
      requireCacheService(this.env);
      const slot = slotFor(key);
      const existing = await this.find(slot, dir, true, `check for ${key}`);
      if (existing !== undefined && !options.overwrite) {
        throw new LifeboatError(
          'store',
          `The GitHub Actions cache already holds ${key}; refusing to overwrite it.`,
          {
            hint: 'Backup ids never repeat; this means two writers chose the same key. Run the backup again.',
          },
        );
      }
      // saveCache only takes files; the body is already encrypted, so a private copy is safe.
      const sizeBytes = await spool(body, path.join(dir, OBJECT_FILE), key);
      const cacheKey = writeKey(slot, existing !== undefined, undefined, sizeBytes);
      const { value, lines } = await this.client(dir, `save ${key}`, () =>
        cache.saveCache([OBJECT_PATH], cacheKey),
      );
      if (value === -1) throw saveFailure(key, lines, (t) => this.log.mask(t));
      this.log.debug(`Saved ${key} as cache entry ${cacheKey}`);
    } catch (error) {
      body.destroy();
      throw error;
    } finally {
      await this.removeWorkDir(dir);
    }
  }

  async get(key: string): Promise<Readable> {
    const dir = await this.newWorkDir();
    try {
      requireCacheService(this.env);
      const slot = slotFor(key);
      const matched = await this.find(slot, dir, false, `read ${key}`);
      if (matched === undefined || !belongsTo(slot, matched)) {
        throw new LifeboatError('not-found', `The GitHub Actions cache has no ${key}.`, {
          hint: 'Check the name and backup-id inputs. Cache entries unused for 7 days are evicted, and a branch sees only its own and the default branch entries.',
        });
      }
      const handle = await open(path.join(dir, OBJECT_FILE), 'r').catch((error: Error) => {
        throw new LifeboatError(
          'store',
          `The cache client reported ${key} restored, but no file arrived: ${error.message}`,
          {
            cause: error,
          },
        );
      });
      const stream = handle.createReadStream();
      // An open handle keeps the bytes readable after the directory goes (POSIX), so the
      // private copy is removed now; where that fails it goes when the stream closes.
      stream.once('close', () => void this.removeWorkDir(dir));
      await this.removeWorkDir(dir);
      return stream;
    } catch (error) {
      await this.removeWorkDir(dir);
      throw error;
    }
  }

  /**
   * A lookup without download (so it needs no REST token either): the size comes from the
   * matched entry's key, where `put` recorded it (see actions-cache-keys.ts).
   */
  async stat(key: string): Promise<StoredObject | undefined> {
    const dir = await this.newWorkDir();
    try {
      requireCacheService(this.env);
      const slot = slotFor(key);
      const matched = await this.find(slot, dir, true, `check ${key}`);
      if (matched === undefined || !belongsTo(slot, matched)) return undefined;
      const sizeBytes = sizeOf(slot, matched);
      if (sizeBytes === undefined) {
        throw new LifeboatError(
          'store',
          `The GitHub Actions cache entry ${matched} holding ${key} does not record the size of its object, and the cache cannot tell it without a download.`,
          {
            hint: 'Lifeboat records the size in every entry it writes; this one came from an older version or another tool. Take a new backup.',
          },
        );
      }
      return { sizeBytes };
    } finally {
      await this.removeWorkDir(dir);
    }
  }

  async latestBackupId(name: string): Promise<string | undefined> {
    const dir = await this.newWorkDir();
    try {
      requireCacheService(this.env);
      const matched = await this.restore(
        latestManifestPrefix(name),
        [],
        dir,
        true,
        `find the latest backup of ${name}`,
      );
      return matched === undefined ? undefined : backupIdOf(matched, name);
    } finally {
      await this.removeWorkDir(dir);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const entries = await cachesApiFor(this.env, this.token(), 'list').list(CACHE_KEY_ROOT);
    const keys = entries
      .map((e) => storeKeyOf(e.key))
      .filter((k): k is string => k?.startsWith(prefix) === true);
    return [...new Set(keys)];
  }

  /** The newest entry's last access, from the REST list (a token with `actions: read`). */
  async lastAccessedAt(key: string): Promise<Date | undefined> {
    const api = cachesApiFor(this.env, this.token(), 'list');
    const slot = slotFor(key);
    const found = await api.list(slot.revisionPrefix);
    if (slot.firstKey) found.push(...(await api.list(slot.firstKey)));
    const times = found
      .filter((e) => belongsTo(slot, e.key))
      .map((e) => Date.parse(e.lastAccessedAt))
      .filter((t) => Number.isFinite(t));
    return times.length ? new Date(Math.max(...times)) : undefined;
  }

  async delete(key: string): Promise<void> {
    const api = cachesApiFor(this.env, this.token(), 'delete');
    const slot = slotFor(key);
    const found = await api.list(slot.revisionPrefix);
    if (slot.firstKey) found.push(...(await api.list(slot.firstKey)));
    const keys = [...new Set(found.map((e) => e.key).filter((k) => belongsTo(slot, k)))];
    // Revisions first: an interrupted delete then leaves an older, still valid manifest.
    for (const k of keys.sort((a, b) => Number(a === slot.firstKey) - Number(b === slot.firstKey))) {
      await api.delete(k);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.workDirs.keys()].map((dir) => this.removeWorkDir(dir)));
  }

  /** The newest entry of a store key; `lookupOnly` skips the download. */
  private find(slot: CacheSlot, dir: string, lookupOnly: boolean, what: string): Promise<string | undefined> {
    // The primary key matches no entry exactly, so the service takes the newest entry under
    // it by prefix; a manifest's first write is the fallback restore key.
    return this.restore(slot.revisionPrefix, slot.firstKey ? [slot.firstKey] : [], dir, lookupOnly, what);
  }

  private async restore(
    primary: string,
    restoreKeys: string[],
    dir: string,
    lookupOnly: boolean,
    what: string,
  ): Promise<string | undefined> {
    const { value, lines } = await this.client(dir, what, () =>
      cache.restoreCache([OBJECT_PATH], primary, restoreKeys, { lookupOnly }),
    );
    if (value !== undefined) return value;
    // restoreCache answers undefined for a miss and for nearly every failure alike.
    if (reportedMiss(lines)) return undefined;
    throw readFailure(what, lines, (t) => this.log.mask(t));
  }

  private async client<T>(
    dir: string,
    what: string,
    call: () => Promise<T>,
  ): Promise<{ value: T; lines: ClientLine[] }> {
    try {
      return await withCacheClient(this.env, dir, this.log, call);
    } catch (error) {
      // The client throws only for invalid arguments; everything else it reports and swallows.
      throw new LifeboatError('store', this.log.mask(`Could not ${what}: ${(error as Error).message}`), {
        cause: error,
      });
    }
  }

  private token(): string | undefined {
    return this.options.token || githubTokenFromEnv(this.env);
  }

  private async newWorkDir(): Promise<string> {
    const dir = await mkdtemp(path.join(this.tempDir, 'lifeboat-cache-')).catch((error: Error) => {
      throw new LifeboatError('disk', `Cannot create a work directory in ${this.tempDir}: ${error.message}`, {
        hint: 'The actions-cache store stages each object there; point RUNNER_TEMP or the temp directory at a writable disk.',
        cause: error,
      });
    });
    // A signal skips every finally: the staged copy must still go.
    this.workDirs.set(dir, removeOnExit(dir));
    return dir;
  }

  private async removeWorkDir(dir: string): Promise<void> {
    try {
      await rm(dir, { recursive: true, force: true });
      this.workDirs.get(dir)?.();
      this.workDirs.delete(dir);
    } catch {
      // Still open elsewhere (Windows); the stream's close or close() removes it.
    }
  }
}

/** Writes the body to `file` and returns its size in bytes. */
async function spool(body: Readable, file: string, key: string): Promise<number> {
  try {
    await pipeline(body, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new LifeboatError(
        'disk',
        `The runner ran out of temporary space while staging ${key} for the cache.`,
        {
          hint: 'Free space on the runner or set a temp directory on a larger disk; nothing was stored.',
          cause: error,
        },
      );
    }
    throw error;
  }
}

export function createActionsCacheStore(options: ActionsCacheStoreOptions = {}): ActionsCacheStore {
  return new ActionsCacheStore(options);
}
