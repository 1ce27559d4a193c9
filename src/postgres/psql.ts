import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { LifeboatError } from '../errors.js';
import { SESSION_SETUP, WRITABLE_SESSION } from './client.js';
import { libpqEnv, type PgTarget } from './connection.js';
import type { PgTool, PgToolFinder } from './tools.js';
import { startChild, type Child } from '../process.js';

/** Where a script comes from: one `pg_restore --file=-`, or several one after another. */
export interface ScriptSource {
  stdout: Readable;
  /** Resolves once every child exited cleanly; rejects on the first that did not. */
  done: Promise<void>;
  kill(): void;
}

/** One piece of a script: a child's stdout, or rows read from a file. */
export interface ScriptPiece {
  stdout: Readable;
  done: Promise<void>;
  kill(): void;
}

export function pieceOf(child: Child): ScriptPiece {
  return { stdout: child.process.stdout!, done: child.done, kill: () => child.kill() };
}

/**
 * The scripts of several children, one after another, as one: each child starts when the
 * one before it exited cleanly, its output passed through a transform of its own if given.
 */
export function concatScripts(steps: { start: () => ScriptPiece; through?: Transform }[]): ScriptSource {
  const out = new PassThrough();
  let current: ScriptPiece | undefined;
  let killed = false;
  const done = (async () => {
    for (const step of steps) {
      if (killed) throw new Error('The restore script was stopped.');
      const child = (current = step.start());
      const streams = step.through
        ? pipeline(child.stdout, step.through, out, { end: false })
        : pipeline(child.stdout, out, { end: false });
      await Promise.all([streams, child.done]);
    }
    out.end();
  })();
  done.catch(() => undefined); // the runner awaits it
  return {
    stdout: out,
    done,
    kill: () => {
      killed = true;
      current?.kill();
      out.destroy();
    },
  };
}

export interface ScriptRunOptions {
  /** What prints the SQL script (`pg_restore --file=-`). */
  source: ScriptSource;
  /** Rewrites the script on its way to psql. */
  through?: Transform;
  psql: string;
  target: PgTarget;
  /** How the session shows in pg_stat_activity, so it can be watched. */
  applicationName: string;
  /** SQL run first, inside the transaction. */
  prelude: string;
  /** SQL of the caller's own run after the script and before COMMIT, in the same transaction. */
  epilogue?: string;
  /** Runs once the whole script went through; throwing stops before COMMIT. */
  beforeCommit?: () => void;
  /** Turns psql's stderr into the error to report, when it recognises it. */
  explain?: (psqlStderr: string) => LifeboatError | undefined;
  mask: (text: string) => string;
}

/**
 * Runs a script through psql inside a transaction this function opens and commits. COMMIT
 * is sent only after the script's source exited cleanly and every check passed; any other
 * way psql reaches the end of its input (a failed source, a refused line, a kill) ends the
 * session without COMMIT, and the server rolls back everything. psql stops at the first
 * error (ON_ERROR_STOP), echoing the statement that failed.
 */
export async function runScriptInTransaction(o: ScriptRunOptions): Promise<void> {
  const psql = startChild(
    o.psql,
    ['--no-psqlrc', '--quiet', '--no-password', '--echo-errors', '--set=ON_ERROR_STOP=1', '--file=-'],
    {
      label: 'psql',
      code: 'restore',
      env: { ...libpqEnv(o.target), PGAPPNAME: o.applicationName },
      stdio: ['pipe', 'ignore', 'pipe'],
      mask: o.mask,
    },
  );
  const stdin = psql.process.stdin!;
  stdin.on('error', () => undefined); // a psql that stopped early says why in its own error
  // The session's own settings first (see SESSION_SETUP and WRITABLE_SESSION): a script run writes.
  stdin.write(`${SESSION_SETUP};\n${WRITABLE_SESSION};\n${o.prelude}`);
  const streams = o.through
    ? pipeline(o.source.stdout, o.through, stdin, { end: false })
    : pipeline(o.source.stdout, stdin, { end: false });
  try {
    await Promise.all([streams, o.source.done]);
    o.beforeCommit?.();
  } catch (error) {
    // When psql stopped on an error of its own, that is the cause and the broken pipe a symptom.
    const own = await Promise.race([
      psql.done.then(
        () => undefined,
        (e: unknown) => e,
      ),
      delay(1000, undefined),
    ]);
    psql.kill();
    o.source.kill();
    throw own ? (o.explain?.(psql.stderr()) ?? own) : error;
  }
  stdin.end(`${o.epilogue ?? ''}COMMIT;\n`);
  try {
    await psql.done;
  } catch (error) {
    throw o.explain?.(psql.stderr()) ?? error;
  }
}

/** psql from pg_restore's own directory: the script it prints may use meta-commands only its own psql knows. */
export async function findPsql(pgRestore: PgTool, finder: PgToolFinder): Promise<string> {
  const sibling = path.join(path.dirname(pgRestore.path), 'psql');
  try {
    await access(sibling, constants.X_OK);
    return sibling;
  } catch {
    return (await finder.forServer('psql', pgRestore.major, pgRestore.version)).path;
  }
}

/**
 * psql's `--echo-errors` output in the shape pg_restore prints, for the shared explanation:
 * from the error on (warnings before it, such as a GRANT that granted nothing, are not the
 * cause), with the failed statement as `Command was:`.
 */
export function asPgRestoreError(psqlStderr: string): string {
  const lines = psqlStderr.split('\n');
  const at = lines.findIndex((l) => /\b(ERROR|FATAL|PANIC):/.test(l));
  return (at > 0 ? lines.slice(at) : lines)
    .join('\n')
    .replace(/^psql:[^\n]*?:\d+: STATEMENT:\s+/m, 'Command was: ');
}

/**
 * `COPY (query) TO STDOUT` through psql: the rows of one query in COPY's text format on
 * stdout, with nothing else (no header, no `\.`). The query is Lifeboat's own.
 */
export function startCopyOut(
  psql: string,
  target: PgTarget,
  query: string,
  mask: (text: string) => string,
): Child {
  return startChild(
    psql,
    [
      '--no-psqlrc',
      '--quiet',
      '--no-password',
      '--set=ON_ERROR_STOP=1',
      `--command=COPY (${query}) TO STDOUT`,
    ],
    {
      label: 'psql (COPY TO STDOUT)',
      code: 'restore',
      env: libpqEnv(target),
      stdio: ['ignore', 'pipe', 'pipe'],
      mask,
    },
  );
}
