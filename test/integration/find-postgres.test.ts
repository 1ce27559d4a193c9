/**
 * Discovery of the PostgreSQL a machine holds, in the layouts people have: Debian/Ubuntu's
 * /usr/lib/postgresql/<major>/bin, the PGDG RPMs' /usr/pgsql-<major>/bin and Homebrew's
 * keg-only formulae. The other machines are stand-in trees of small scripts that answer
 * `--version` as those majors would; this machine's real PostgreSQL is checked too.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePostgres, findPostgres, postgresPlan } from '../helpers/find-postgres.js';
import { choosePostgres } from '../helpers/postgres-choice.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lifeboat-layouts-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const CLIENT = ['pg_dump', 'pg_restore', 'psql'];
const SERVER = ['postgres', 'initdb'];

/** Puts tools answering `--version` with the given version into a directory under the machine's root. */
async function install(machine: string, dir: string, version: string, tools: string[]): Promise<void> {
  const bin = path.join(machine, dir);
  await mkdir(bin, { recursive: true });
  for (const tool of tools) {
    await writeFile(path.join(bin, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) ${version}"\n`);
    await chmod(path.join(bin, tool), 0o755);
  }
}

const onlyStandardLocations = (machine: string) => ({ PATH: '', LIFEBOAT_PG_SEARCH: machine });

describe('findPostgres', () => {
  it('finds every supported major in the Debian, PGDG and Homebrew layouts and prefers the newest', async () => {
    const machine = path.join(root, 'many');
    await install(machine, 'usr/lib/postgresql/16/bin', '16.4', [...CLIENT, ...SERVER]);
    await install(machine, 'usr/lib/postgresql/12/bin', '12.20', [...CLIENT, ...SERVER]);
    await install(machine, 'usr/pgsql-17/bin', '17.2', [...CLIENT, ...SERVER]);
    await install(machine, 'opt/homebrew/opt/postgresql@18/bin', '18.1', CLIENT);

    const found = await findPostgres(onlyStandardLocations(machine));
    const installed = found.servers.filter((s) => s.source === 'installed');
    expect(installed.map((s) => [s.version, path.relative(machine, s.binDir)]).sort()).toEqual([
      ['12.20', 'usr/lib/postgresql/12/bin'],
      ['16.4', 'usr/lib/postgresql/16/bin'],
      ['17.2', 'usr/pgsql-17/bin'],
    ]);
    expect(found.clients.map((c) => c.major)).toEqual([18, 17, 16, 12]);

    const choice = choosePostgres(found);
    if (!('plan' in choice)) throw new Error(JSON.stringify(choice.missing));
    expect(choice.plan.client.version).toBe('18.1');
    expect(choice.plan.server.version).toBe('17.2');
    expect(choice.plan.servers.filter((s) => s.source === 'installed').map((s) => s.major)).toEqual([17, 16]);
  });

  it("uses Ubuntu 24.04's PostgreSQL 16 and offers the embedded server as the newer one", async () => {
    const machine = path.join(root, 'noble');
    await install(machine, 'usr/lib/postgresql/16/bin', '16.10', [...CLIENT, ...SERVER]);
    const choice = choosePostgres(await findPostgres(onlyStandardLocations(machine)));
    if (!('plan' in choice)) throw new Error(JSON.stringify(choice.missing));
    expect(choice.plan.server.version).toBe('16.10');
    expect(choice.plan.newer?.source ?? 'none').toMatch(/^(embedded|none)$/);
  });

  it('ignores a directory with only part of the client tools', async () => {
    const machine = path.join(root, 'partial');
    await install(machine, 'opt/homebrew/opt/libpq/bin', '17.0', ['psql']);
    expect((await findPostgres(onlyStandardLocations(machine))).clients).toEqual([]);
  });

  it("finds this machine's own PostgreSQL", async () => {
    const plan = await postgresPlan();
    console.log(`PostgreSQL on this machine: ${await describePostgres()}`);
    expect(plan.server.major).toBeGreaterThanOrEqual(13);
    expect(plan.server.major).toBeLessThanOrEqual(plan.client.major);
  });
});
