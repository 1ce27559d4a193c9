/**
 * Preparing and running the PostgreSQL server binaries the test cluster harness
 * starts (find-postgres.ts finds them): an installed server as it is, the
 * embedded package's after linking its libraries. Also builds the initdb'd data
 * directory every cluster copies.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  access,
  appendFile,
  chmod,
  chown,
  lstat,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ServerInstall } from './postgres-choice.js';

/** The unprivileged account the server runs as; undefined means "the current user". */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

export interface RunOptions {
  as?: RunAs;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

/** Runs a command to completion; rejects with its stderr when it exits non-zero. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? withoutPgEnv(),
      uid: options.as?.uid,
      gid: options.as?.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A command that fails before reading its input closes stdin under us; its exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      const status = signal ? `was killed by ${signal}` : `exited with ${code}`;
      reject(new Error(`${path.basename(command)} ${status}:\n${stderr.trim() || stdout.trim()}`));
    });
  });
}

/** The caller's environment minus PG* variables, which would silently redirect our tools elsewhere. */
export function withoutPgEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  // English, locale-independent server messages, so tests can match on them.
  return { ...env, LC_ALL: 'C', ...extra };
}

/** PostgreSQL refuses to run as root, so under root the server runs as `nobody`. */
export async function serverAccount(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const fields = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((entry) => entry[0] === 'nobody');
  if (!fields || fields.length < 4)
    throw new Error('Running as root, but there is no `nobody` user to run PostgreSQL as.');
  const tmp = await stat(os.tmpdir());
  if ((tmp.mode & 0o001) === 0) {
    throw new Error(
      `Running as root, but ${os.tmpdir()} is not traversable by \`nobody\`; set TMPDIR to a directory like /tmp.`,
    );
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

const prepared = new Map<string, Promise<string>>();

/** The directory holding initdb and postgres of a server, ready for the server account to use. */
export function serverBinDir(server: ServerInstall, as: RunAs | undefined): Promise<string> {
  let dir = prepared.get(server.binDir);
  if (!dir) {
    dir = server.source === 'embedded' ? prepareEmbedded(server.binDir, as) : Promise.resolve(server.binDir);
    prepared.set(server.binDir, dir);
  }
  return dir;
}

async function prepareEmbedded(binDir: string, as: RunAs | undefined): Promise<string> {
  const packageDir = path.resolve(binDir, '..', '..');
  await hydrateSymlinks(packageDir);
  if (as) await openToOthers(path.join(packageDir, 'native'));
  return binDir;
}

/**
 * npm does not run the package's install script for us, and without these
 * links (libpq.so.5, libicuuc.so.60, ...) the server cannot load its libraries.
 * Several test workers may race here, so an existing link is success.
 */
async function hydrateSymlinks(packageDir: string): Promise<void> {
  const listing = await readFile(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8');
  const links = JSON.parse(listing) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const link = path.join(packageDir, target);
    if (await exists(link)) continue;
    await rm(link, { force: true }); // a dangling link from a moved tree
    const relative = path.relative(path.dirname(link), path.join(packageDir, source));
    await symlink(relative, link).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

/** Makes a tree readable (and its executables runnable) by the unprivileged server account. */
async function openToOthers(dir: string): Promise<void> {
  for (let at = dir; at !== path.dirname(at); at = path.dirname(at)) {
    if (((await stat(at)).mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as \`nobody\` under root, but ${at} is not traversable by other users; ` +
          'move the checkout somewhere world-readable or run the tests as a non-root user.',
      );
    }
  }
  const walk = async (at: string): Promise<void> => {
    const info = await lstat(at);
    if (info.isSymbolicLink()) return;
    const wanted = info.isDirectory() || info.mode & 0o100 ? 0o005 : 0o004;
    if ((info.mode & wanted) !== wanted) await chmod(at, (info.mode & 0o7777) | wanted);
    if (info.isDirectory()) for (const entry of await readdir(at)) await walk(path.join(at, entry));
  };
  await walk(dir);
}

// Durability buys nothing in a cluster that lives for one test file.
const SETTINGS = `listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_connections = 50
shared_buffers = 32MB
jit = off
timezone = 'UTC'
log_timezone = 'UTC'
`;

// Tests reach the server over TCP with a password; the private socket only lets the harness set that password.
const HBA = `local all all trust
host all all 127.0.0.1/32 scram-sha-256
`;

/**
 * initdb takes about a second; copying its result takes a tenth of that. The
 * template lives in the temp dir across test processes, keyed by everything
 * that shapes it, and appears atomically by rename so racing workers are safe.
 */
export async function dataTemplate(binDir: string, major: number, as: RunAs | undefined): Promise<string> {
  // The real binary, not the directory: a test that links a server into a temp dir reuses the template.
  const binary = await realpath(path.join(binDir, 'postgres'));
  const server = await stat(binary);
  const key = createHash('sha256')
    .update([binary, server.size, server.mtimeMs, as?.uid ?? process.getuid?.(), SETTINGS, HBA].join('\0'))
    .digest('hex')
    .slice(0, 16);
  const final = path.join(os.tmpdir(), `lifeboat-pg${major}-template-${key}`);
  if (await exists(path.join(final, 'data', 'global', 'pg_control'))) return path.join(final, 'data');
  // A temp-dir cleaner may have eaten part of an old template: move it aside so a fresh one can take its name.
  if (await exists(final)) await discard(final);

  const staging = await mkdtemp(path.join(os.tmpdir(), `lifeboat-pg${major}-staging-`));
  try {
    if (as) await chown(staging, as.uid, as.gid);
    const data = path.join(staging, 'data');
    const args = [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ];
    await run(path.join(binDir, 'initdb'), args, { as, cwd: staging });
    // Appending and overwriting keep the files owned by the server account.
    await appendFile(path.join(data, 'postgresql.conf'), `\n# Lifeboat test cluster\n${SETTINGS}`);
    await writeFile(path.join(data, 'pg_hba.conf'), HBA);
    await rename(staging, final);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    // Another worker finished its template first; theirs is as good as ours.
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  return path.join(final, 'data');
}

async function discard(template: string): Promise<void> {
  const trash = `${template}-trash-${process.pid}`;
  // Renaming first means no other worker copies a half-deleted template.
  await rename(template, trash).catch(() => undefined);
  await rm(trash, { recursive: true, force: true });
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
