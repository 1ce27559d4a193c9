/**
 * How faults are injected into processes, servers, the network and the disk: real broken
 * things wherever possible (a pg_dump that is killed, a lock another session holds, a file
 * system that is full), and the network faked only where a test cannot own it (one DNS
 * answer). Damage to stored backups is in damage.ts.
 */
import { execFile } from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { chmod, mkdir, mkdtemp, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createToolFinder, type ToolName } from '../../src/postgres/tools.js';
import type { Cluster } from '../helpers/cluster.js';

const run = promisify(execFile);

/** The real binary of a PostgreSQL client tool, as Lifeboat would find it. */
export async function realTool(name: ToolName): Promise<string> {
  const found = (await createToolFinder().candidates(name))[0];
  if (!found) throw new Error(`no ${name} on this machine`);
  return found.path;
}

/**
 * A `pg-bin-dir` whose tools are shell scripts wrapping the real ones. `body` runs with
 * REAL set to the real binary and "$@" the arguments; `--version` always answers truly.
 */
export async function wrapperBinDir(
  parent: string,
  scripts: Partial<Record<ToolName, string>>,
): Promise<string> {
  const dir = await mkdtemp(path.join(parent, 'pg-bin-'));
  for (const [name, body] of Object.entries(scripts) as [ToolName, string][]) {
    const real = await realTool(name);
    const file = path.join(dir, name);
    await writeFile(
      file,
      `#!/bin/bash\nREAL='${real}'\nif [ "$1" = --version ]; then exec "$REAL" --version; fi\n${body}\n`,
    );
    await chmod(file, 0o755);
  }
  return dir;
}

/** A pg_dump that streams real output for a while, then dies by SIGKILL. */
export const KILLED_PG_DUMP = `echo "pg_dump wrapper: killed after partial output" >&2
"$REAL" "$@" | head -c 20000
kill -9 $$`;

/**
 * A pg_dump that dies by SIGKILL when it dumps a data part of a parallel backup, after the
 * main part's pg_dump (run normally) has had time to finish and be stored.
 */
export const KILLED_DATA_PART = `if printf '%s\\n' "$@" | grep -qx -- --data-only; then
  sleep 1
  echo "pg_dump wrapper: data part killed after partial output" >&2
  "$REAL" "$@" | head -c 2000
  kill -9 $$
fi
exec "$REAL" "$@"`;

/** Records each call's argv and environment variable names to files in `log`, then runs the real tool. */
export function recordingTool(log: string): string {
  return `printf '%s\\n' "$@" >> '${log}/argv'
env >> '${log}/env'
exec "$REAL" "$@"`;
}

/**
 * Holds an ACCESS EXCLUSIVE lock on a table in its own session, as a migration would,
 * until `release` is called.
 */
export async function holdLock(
  cluster: Cluster,
  database: string,
  table: string,
): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: cluster.url({ database }) });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

type LookupCallback = (error: Error | null, address?: unknown, family?: number) => void;

/**
 * Makes `host` resolve to `address` only (in this process), as a Supabase direct host
 * resolves to IPv6 alone: both the callback resolver, which sockets use, and the promise one.
 */
export async function withDnsAnswer<T>(host: string, address: string, fn: () => Promise<T>): Promise<T> {
  const dns = createRequire(import.meta.url)('node:dns') as typeof import('node:dns');
  const family = address.includes(':') ? 6 : 4;
  const original = dns.lookup;
  const originalPromise = dns.promises.lookup;
  const answer = (options: unknown) =>
    (options as { all?: boolean } | undefined)?.all ? [{ address, family }] : { address, family };
  const patched = function (name: string, options: unknown, callback?: LookupCallback) {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = typeof options === 'function' ? undefined : options;
    if (name !== host) return (original as (...a: unknown[]) => void).call(dns, name, options, callback);
    const a = answer(opts);
    process.nextTick(() => (Array.isArray(a) ? cb(null, a) : cb(null, a.address, a.family)));
  };
  (dns as { lookup: unknown }).lookup = patched;
  (dns.promises as { lookup: unknown }).lookup = async (name: string, options?: unknown) =>
    name === host
      ? answer(options)
      : (originalPromise as (...a: unknown[]) => Promise<unknown>).call(dns.promises, name, options);
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    (dns as { lookup: unknown }).lookup = original;
    (dns.promises as { lookup: unknown }).lookup = originalPromise;
    syncBuiltinESMExports();
  }
}

/**
 * A small tmpfs at `dir` (a real full disk), or undefined when this process may not mount
 * one (not root, and no password-less sudo).
 */
export async function mountTmpfs(
  dir: string,
  size: string,
): Promise<{ unmount(): Promise<void> } | undefined> {
  await mkdir(dir, { recursive: true });
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const sudo = uid === 0 ? [] : ['sudo', '-n'];
  const args = ['mount', '-t', 'tmpfs', '-o', `size=${size},mode=0700,uid=${uid},gid=${gid}`, 'tmpfs', dir];
  try {
    const [command, ...rest] = [...sudo, ...args];
    await run(command!, rest);
  } catch {
    return undefined;
  }
  return {
    async unmount() {
      const [command, ...rest] = [...sudo, 'umount', dir];
      await run(command!, rest);
    },
  };
}

/** Fills a file system up to its last few bytes, so the next real write fails with ENOSPC. */
export async function fillUp(dir: string): Promise<void> {
  const handle = await open(path.join(dir, 'ballast'), 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await handle.write(block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}
