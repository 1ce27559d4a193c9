/**
 * `npm run demo` on machines other than the one the project grew up on: with nothing
 * installed it stops at once with the install commands; with PostgreSQL somewhere other than
 * Debian's /usr/lib/postgresql/15/bin and off PATH, it runs the whole cycle.
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgres, postgresPlan } from '../helpers/find-postgres.js';

let machine: string;
const { client } = await postgresPlan();
const embedded = (await findPostgres()).servers.find((s) => s.source === 'embedded');

beforeAll(async () => {
  machine = await mkdtemp(path.join(tmpdir(), 'lifeboat-machine-'));
  // Under root the server runs as `nobody`, which must reach the binaries linked in here.
  await chmod(machine, 0o755);
});

afterAll(async () => {
  await rm(machine, { recursive: true, force: true });
});

interface DemoRun {
  code: number;
  stderr: string;
  ms: number;
}

/** Runs the demo's entry with only the given PATH and search roots; node itself by absolute path. */
function demo(env: { PATH: string; LIFEBOAT_PG_SEARCH: string }): Promise<DemoRun> {
  const started = performance.now();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PG|LIFEBOAT_)/.test(k)));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/demo.ts'],
      { env: { ...clean, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, _stdout, stderr) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          stderr,
          ms: performance.now() - started,
        }),
    );
  });
}

/** A directory of links to the given commands: a PATH with exactly those on it. */
async function pathWith(dir: string, commands: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, target] of Object.entries(commands)) await symlink(target, path.join(dir, name));
  return dir;
}

async function which(command: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, command);
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  throw new Error(`${command} is not on PATH`);
}

describe('npm run demo', () => {
  it('stops within a second naming what is missing and the commands that install it, when the machine has no PostgreSQL and no zstd', async () => {
    const bare = await pathWith(path.join(machine, 'bare-bin'), {});
    // Best of three: the claim is about the demo, not about a neighbour's load on a shared machine.
    const runs = [await demo({ PATH: bare, LIFEBOAT_PG_SEARCH: '' })];
    while (runs.length < 3 && runs.every((r) => r.ms >= 1000))
      runs.push(await demo({ PATH: bare, LIFEBOAT_PG_SEARCH: '' }));
    const run = runs.reduce((a, b) => (a.ms <= b.ms ? a : b));
    console.log(`demo with nothing installed failed after ${Math.round(run.ms)} ms`);
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(1000);
    expect(run.stderr).toContain('PostgreSQL client tools (pg_dump, pg_restore, psql) 13 or newer');
    expect(run.stderr).toContain('a PostgreSQL server (initdb, postgres), 13 or newer');
    expect(run.stderr).toContain('zstd');
    expect(run.stderr).toContain('Debian/Ubuntu:  sudo apt-get install -y postgresql postgresql-client zstd');
    expect(run.stderr).toContain('macOS:          brew install postgresql@17 zstd');
  });

  // A machine with client tools and no server: the embedded server stands in when the client can dump it.
  const fits = embedded && embedded.major <= client.major;
  it.skipIf(!embedded)(
    `with client tools ${client.major} and no server installed, ${fits ? 'runs on the embedded server' : 'stops at once, as pg_dump cannot dump the embedded server'} ${embedded?.major}`,
    async () => {
      const tools = Object.fromEntries(
        ['pg_dump', 'pg_restore', 'psql'].map((name) => [name, path.join(client.binDir, name)]),
      );
      const bin = await pathWith(path.join(machine, 'client-only-bin'), {
        ...tools,
        zstd: await which('zstd'),
        cp: await which('cp'),
      });
      const run = await demo({ PATH: bin, LIFEBOAT_PG_SEARCH: '' });
      if (fits) {
        expect(run.stderr).toMatch(/▶ Done/);
        expect(run.code).toBe(0);
        return;
      }
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `found only the embedded ${embedded!.version}, and pg_dump refuses servers newer than itself`,
      );
      expect(run.stderr).toContain('Debian/Ubuntu:  sudo apt-get install -y postgresql\n');
      expect(run.ms).toBeLessThan(5000); // before any cluster starts
    },
  );

  it('runs the whole cycle when PostgreSQL sits only in a PGDG-style server directory and a keg-only Homebrew client, off PATH', async () => {
    const { server } = await postgresPlan();
    // Another machine's layout, made of this machine's binaries: nothing in /usr/lib/postgresql, nothing on PATH.
    const root = path.join(machine, 'root');
    const serverDir = path.join(root, 'usr', `pgsql-${server.major}`, 'bin');
    const clientDir = path.join(root, 'opt', 'homebrew', 'opt', `postgresql@${client.major}`, 'bin');
    for (const name of ['postgres', 'initdb'])
      await pathWith(serverDir, { [name]: path.join(server.binDir, name) });
    for (const name of ['pg_dump', 'pg_restore', 'psql'])
      await pathWith(clientDir, { [name]: path.join(client.binDir, name) });
    const bin = await pathWith(path.join(machine, 'bin'), {
      zstd: await which('zstd'),
      cp: await which('cp'),
    });
    console.log(`demo on PostgreSQL ${server.version} (server) and ${client.version} (client), relocated`);

    const run = await demo({ PATH: bin, LIFEBOAT_PG_SEARCH: root });
    expect(run.stderr).toMatch(/▶ Done/);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/Drill: restore the latest backup/);
  });
});
