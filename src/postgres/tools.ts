import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { LifeboatError } from '../errors.js';
import { installBinDirs } from './locations.js';
import { startChild } from '../process.js';

export type ToolName = 'pg_dump' | 'pg_restore' | 'psql';

export interface PgTool {
  name: ToolName;
  path: string;
  major: number;
  version: string;
}

/** Hides where PostgreSQL client binaries live, and which one suits a server. */
export interface PgToolFinder {
  /** Every candidate of a tool, newest first. */
  candidates(name: ToolName): Promise<PgTool[]>;
  /** The tool whose major version is the server's, else the oldest newer one. */
  forServer(name: ToolName, serverMajor: number, serverVersion: string): Promise<PgTool>;
}

export interface ToolFinderOptions {
  binDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the standard install locations are looked up (see installBinDirs); `/` unless a test says otherwise. */
  roots?: readonly string[];
}

export function createToolFinder(options: ToolFinderOptions = {}): PgToolFinder {
  const cache = new Map<ToolName, Promise<PgTool[]>>();
  const finder: PgToolFinder = {
    candidates(name) {
      let found = cache.get(name);
      if (!found) {
        found = discover(name, options.binDir, options.env ?? process.env, options.roots);
        cache.set(name, found);
      }
      return found;
    },
    async forServer(name, serverMajor, serverVersion) {
      const all = await finder.candidates(name);
      if (options.binDir) {
        const own = all.filter((t) => path.dirname(t.path) === path.resolve(options.binDir!));
        const fit = own.find((t) => t.major >= serverMajor);
        if (fit) return fit;
        if (own.length === 0) {
          throw new LifeboatError(
            'tools',
            `Input \`pg-bin-dir\` has no runnable ${name} (${options.binDir}).`,
            {
              hint: `Point pg-bin-dir at the bin directory of a PostgreSQL ${serverMajor} (or newer) client installation.`,
            },
          );
        }
      }
      const fitting = all.filter((t) => t.major >= serverMajor).sort((a, b) => a.major - b.major);
      const chosen = fitting.find((t) => t.major === serverMajor) ?? fitting[0];
      if (chosen) return chosen;
      throw tooOld(name, serverMajor, serverVersion, all);
    },
  };
  return finder;
}

function tooOld(name: ToolName, serverMajor: number, serverVersion: string, found: PgTool[]): LifeboatError {
  const list = found.length
    ? found.map((t) => `${t.version} (${t.path})`).join(', ')
    : 'none in pg-bin-dir, on PATH or in the standard install locations (/usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, Homebrew)';
  return new LifeboatError(
    'tools',
    `The server runs PostgreSQL ${serverVersion}, but no ${name} of major version ${serverMajor} or newer was found. Found: ${list}.`,
    {
      hint:
        `Install the PostgreSQL ${serverMajor} client. On Ubuntu/Debian (GitHub runners): ` +
        `sudo apt-get install -y postgresql-common && sudo /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y && sudo apt-get install -y postgresql-client-${serverMajor}. ` +
        `On macOS: brew install postgresql@${serverMajor}. Or set pg-bin-dir to a directory holding ${name} ${serverMajor}.`,
    },
  );
}

async function discover(
  name: ToolName,
  binDir: string | undefined,
  env: NodeJS.ProcessEnv,
  roots: readonly string[] | undefined,
): Promise<PgTool[]> {
  const dirs = new Set<string>();
  if (binDir) dirs.add(path.resolve(binDir));
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir) dirs.add(path.resolve(dir));
  for (const dir of await installBinDirs(roots)) dirs.add(dir);
  const seen = new Set<string>();
  const tools: PgTool[] = [];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (!(await isExecutable(file))) continue;
    const version = await versionOf(file);
    if (!version || seen.has(`${version.version}|${file}`)) continue;
    seen.add(`${version.version}|${file}`);
    tools.push({ name, path: file, ...version });
  }
  return tools.sort((a, b) => b.major - a.major);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → { major: 15, version: '15.18' } */
export function parseToolVersion(output: string): { major: number; version: string } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const major = Number(match[1]);
  return { major, version: match[2] ? `${major}.${match[2]}` : `${major}` };
}

/** What `<tool> --version` says, through the one process layer; a tool that fails or hangs is no candidate. */
async function versionOf(file: string): Promise<{ major: number; version: string } | undefined> {
  const child = startChild(file, ['--version'], { label: `${path.basename(file)} --version`, code: 'tools' });
  let stdout = '';
  child.process.stdout!.setEncoding('utf8');
  child.process.stdout!.on('data', (text: string) => (stdout += text));
  const timer = setTimeout(() => child.kill(), 10_000);
  try {
    await child.done;
    return parseToolVersion(stdout);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
