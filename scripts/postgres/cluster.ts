/**
 * Throwaway PostgreSQL clusters for tests, the demo and the benchmark: a real
 * server on 127.0.0.1 with scram-sha-256 auth and a password that needs
 * percent-encoding, so secret handling is exercised for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import {
  dataTemplate,
  run,
  serverAccount,
  serverBinDir,
  withoutPgEnv,
  type RunAs,
} from './cluster-binaries.js';
import { postgresPlan } from './find-postgres.js';
import type { PostgresPlan, ServerInstall } from './postgres-choice.js';

export interface Cluster {
  readonly major: number;
  readonly host: string;
  readonly port: number;
  readonly superuser: string;
  readonly password: string;
  readonly binDir: string;
  /** The client tools (psql, pg_dump, pg_restore) that suit this server; not always on PATH. */
  readonly clientBinDir: string;
  readonly dataDir: string;
  url(options?: { database?: string; user?: string; password?: string }): string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  exec(sql: string, database?: string): Promise<void>;
  createDatabase(name: string): Promise<string>;
  createRole(name: string, options?: { password?: string; attributes?: string }): Promise<void>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';

/** A cluster's temp dir and, once started, its postmaster. */
interface Server {
  root: string;
  child?: ChildProcess;
  exited?: Promise<void>;
}

/** Servers to end and directories to remove if the process ends without stop(). */
const leftovers = new Set<Server>();

/** A certificate and key (PEM) the server presents, turning ssl on. */
export interface ServerTls {
  cert: string;
  key: string;
}

/**
 * Starts a cluster of the given major, by default the newest server the machine's client
 * tools can dump (pg_dump refuses servers newer than itself); see find-postgres.ts.
 */
export async function startCluster(
  options: {
    major?: number;
    password?: string;
    tls?: ServerTls;
    /** Server settings (`-c name=value`) over the ones every test cluster starts with. */
    settings?: Record<string, string>;
  } = {},
): Promise<Cluster> {
  const plan = await postgresPlan();
  const install = serverOf(plan, options.major);
  const major = install.major;
  const password = options.password ?? `p@ss:w/rd% ?#${randomBytes(8).toString('hex')}`;
  const as = await serverAccount();
  const binDir = await serverBinDir(install, as);
  armSafetyNet();

  const root = await mkdtemp(path.join(os.tmpdir(), `lifeboat-pg${major}-`));
  const server: Server = { root };
  leftovers.add(server);
  try {
    if (as) await chown(root, as.uid, as.gid);
    const dataDir = path.join(root, 'data');
    await run('cp', ['-Rp', await dataTemplate(binDir, major, as), dataDir], { as });
    const settings = [
      ...(options.tls ? await tlsSettings(root, options.tls, as) : []),
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ];
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        await launch(server, binDir, dataDir, port, as, settings);
        await setPassword(root, port, password);
        return new RunningCluster(major, port, password, binDir, plan.client.binDir, dataDir, server);
      } catch (error) {
        // Another process took the port between our probe and the server's bind.
        if (!/could not bind .*already in use/i.test(String(error)) || attempt === 5) throw error;
      }
    }
  } catch (error) {
    if (server.child?.pid) killQuietly(server.child.pid, 'SIGKILL');
    leftovers.delete(server);
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

function serverOf(plan: PostgresPlan, major: number | undefined): ServerInstall {
  if (major === undefined) return plan.server;
  const all = [...plan.servers, ...(plan.newer ? [plan.newer] : [])];
  const server = all.find((s) => s.major === major);
  if (server) return server;
  throw new Error(
    `No PostgreSQL ${major} server on this machine; found ${all.map((s) => s.version).join(', ')}.`,
  );
}

/**
 * The certificate and key as files the server accepts (the key 0600 and owned by the server's
 * account, or PostgreSQL refuses it), and the settings that turn ssl on with them.
 */
async function tlsSettings(root: string, tls: ServerTls, as?: RunAs): Promise<string[]> {
  const cert = path.join(root, 'server.crt');
  const key = path.join(root, 'server.key');
  await writeFile(cert, tls.cert, { mode: 0o644 });
  await writeFile(key, tls.key, { mode: 0o600 });
  if (as) await Promise.all([chown(cert, as.uid, as.gid), chown(key, as.uid, as.gid)]);
  return ['-c', 'ssl=on', '-c', `ssl_cert_file=${cert}`, '-c', `ssl_key_file=${key}`];
}

async function launch(
  server: Server,
  binDir: string,
  dataDir: string,
  port: number,
  as?: RunAs,
  settings: string[] = [],
): Promise<void> {
  const root = server.root;
  const logPath = path.join(root, 'server.log');
  const log = openSync(logPath, 'w');
  const args = ['-D', dataDir, '-p', String(port), '-k', root, ...settings];
  // Not detached: a Ctrl-C in the demo's terminal reaches the server too.
  const child = spawn(path.join(binDir, 'postgres'), args, {
    stdio: ['ignore', log, log],
    env: withoutPgEnv(),
    cwd: root,
    uid: as?.uid,
    gid: as?.gid,
  });
  closeSync(log);
  // The server must never keep a test process or the demo alive; stop() and the safety net end it.
  child.unref();
  server.child = child;
  let gone: string | undefined;
  server.exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      gone = `postgres exited (${signal ?? code}) before accepting connections`;
      resolve();
    });
    child.once('error', (error) => {
      gone = `could not run postgres: ${error.message}`;
      resolve();
    });
  });

  const failure = async (reason: string) => {
    const log = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').slice(-20).join('\n');
    return new Error(`${reason}\n--- server log (tail) ---\n${log}`);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) throw await failure(gone);
    // The postmaster writes "ready" as the status line of its pid file once it accepts connections.
    const pidFile = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
    const lines = pidFile.split('\n');
    if (Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') return;
    if (Date.now() > deadline) throw await failure('postgres did not become ready within 30 s');
    await delay(10);
  }
}

async function setPassword(socketDir: string, port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: socketDir, port, user: SUPERUSER, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${pg.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
}

/** A port free right now; the server may still lose a race for it, which startCluster retries. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

class RunningCluster implements Cluster {
  readonly host = HOST;
  readonly superuser = SUPERUSER;
  private stopping?: Promise<void>;

  constructor(
    readonly major: number,
    readonly port: number,
    readonly password: string,
    readonly binDir: string,
    readonly clientBinDir: string,
    readonly dataDir: string,
    private readonly server: Server,
  ) {}

  url(options: { database?: string; user?: string; password?: string } = {}): string {
    const user = encodeURIComponent(options.user ?? this.superuser);
    const password = encodeURIComponent(options.password ?? this.password);
    const database = encodeURIComponent(options.database ?? 'postgres');
    return `postgresql://${user}:${password}@${this.host}:${this.port}/${database}`;
  }

  async query<T = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database?: string,
  ): Promise<T[]> {
    // A client per call: a pooled idle connection would block tests that drop or recreate the database.
    const client = new pg.Client({ connectionString: this.url({ database }) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async exec(sql: string, database = 'postgres'): Promise<void> {
    const env = withoutPgEnv({
      PGHOST: this.host,
      PGPORT: String(this.port),
      PGUSER: this.superuser,
      PGPASSWORD: this.password,
      PGDATABASE: database,
      PGSSLMODE: 'disable',
      PGCONNECT_TIMEOUT: '10',
    });
    // Homebrew's postgresql@17, for one, puts psql off PATH.
    await run(path.join(this.clientBinDir, 'psql'), ['-v', 'ON_ERROR_STOP=1', '-X', '-q', '-f', '-'], {
      env,
      input: sql,
    });
  }

  async createDatabase(name: string): Promise<string> {
    await this.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return this.url({ database: name });
  }

  async createRole(name: string, options: { password?: string; attributes?: string } = {}): Promise<void> {
    const parts = [`CREATE ROLE ${pg.escapeIdentifier(name)}`];
    if (options.attributes) parts.push(options.attributes);
    // A password is only useful to a role that can log in, unless the caller says otherwise.
    if (options.password !== undefined) {
      if (!/\b(NO)?LOGIN\b/i.test(options.attributes ?? '')) parts.push('LOGIN');
      parts.push(`PASSWORD ${pg.escapeLiteral(options.password)}`);
    }
    await this.query(parts.join(' '));
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { child, exited, root } = this.server;
    if (child && exited && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT'); // immediate shutdown
      // The timer keeps the event loop alive while we wait on the unref'd child.
      if ((await Promise.race([exited.then(() => true), delay(10_000, false)])) === false) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    leftovers.delete(this.server);
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  }
}

let armed = false;

/** Ends servers a crashed or interrupted test left running, synchronously because 'exit' allows nothing else. */
function armSafetyNet(): void {
  if (armed) return;
  armed = true;
  const reap = () => {
    for (const { child, root } of leftovers) {
      if (child?.pid) killQuietly(child.pid, 'SIGQUIT');
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    }
    leftovers.clear();
  };
  process.on('exit', reap);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      reap();
      // Keep the default "die by this signal" unless someone else already handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
