import { readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * The directories where PostgreSQL packages put their binaries, usually off PATH: Debian and
 * Ubuntu (one directory per major), the PGDG RPMs, source builds, Homebrew (keg-only formulae
 * such as postgresql@17 are never linked onto PATH) and Postgres.app.
 *
 * `roots` are file-system prefixes the standard locations are looked up under (default: `/`);
 * the test harness passes others to stand in for a different machine.
 */
export async function installBinDirs(roots: readonly string[] = ['/']): Promise<string[]> {
  const dirs: string[] = [];
  for (const root of roots) {
    const at = (...parts: string[]) => path.join(root, ...parts);
    const children = (dir: string) => readdir(at(dir)).catch(() => [] as string[]);
    for (const version of await children('usr/lib/postgresql'))
      dirs.push(at('usr/lib/postgresql', version, 'bin'));
    for (const entry of await children('usr'))
      if (/^pgsql-\d+$/.test(entry)) dirs.push(at('usr', entry, 'bin'));
    dirs.push(at('usr/local/pgsql/bin'));
    for (const brew of ['opt/homebrew', 'usr/local']) {
      for (const formula of await children(`${brew}/opt`)) {
        if (/^(libpq|postgresql(@\d+)?)$/.test(formula)) dirs.push(at(brew, 'opt', formula, 'bin'));
      }
    }
    const app = 'Applications/Postgres.app/Contents/Versions';
    for (const version of await children(app)) dirs.push(at(app, version, 'bin'));
  }
  return dirs;
}
