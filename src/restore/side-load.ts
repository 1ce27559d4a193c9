import { randomBytes } from 'node:crypto';
import { LifeboatError } from '../errors.js';
import { quoteIdent, quoteLiteral } from '../postgres/catalog.js';
import type { PgTarget } from '../postgres/connection.js';
import type { PgTool } from '../postgres/tools.js';
import { startChild } from '../process.js';
import { concatScripts, runScriptInTransaction } from './psql-run.js';
import { SideScriptRewriter } from './side-script.js';

export interface SideLoadOptions {
  pgRestore: PgTool;
  psql: string;
  /**
   * Each archive to read, with a `--use-list` naming only the chosen tables' TABLE and
   * TABLE DATA entries in it: the main archive first, then the parts that hold their rows.
   */
  sources: { file: string; listFile: string }[];
  target: PgTarget;
  sideSchema: string;
  /** `key(schema, name)` → name inside the side schema. */
  sideNames: Map<string, string>;
  /** Said on the side schema, for whoever finds it later. */
  note: string;
  mask: (text: string) => string;
}

/**
 * pg_restore prints the chosen tables as SQL, the rewriter moves every one of them into the
 * side schema, psql runs it in one transaction. Owners and grants stay out: the copies
 * belong to the restoring user and nobody else can read them.
 */
export async function loadSideTables(o: SideLoadOptions): Promise<void> {
  const rewriter = new SideScriptRewriter(o.sideSchema, o.sideNames);
  const source = concatScripts(
    o.sources.map(({ file, listFile }) => ({
      start: () =>
        startChild(
          o.pgRestore.path,
          ['--file=-', `--use-list=${listFile}`, '--no-owner', '--no-privileges', file],
          {
            label: `pg_restore ${o.pgRestore.version}`,
            code: 'restore',
            stdio: ['ignore', 'pipe', 'pipe'],
            mask: o.mask,
          },
        ),
    })),
  );
  const schema = quoteIdent(o.sideSchema);
  await runScriptInTransaction({
    source,
    through: rewriter,
    psql: o.psql,
    target: o.target,
    applicationName: `lifeboat restore ${randomBytes(4).toString('hex')}`,
    prelude: `BEGIN;\nCREATE SCHEMA IF NOT EXISTS ${schema};\nCOMMENT ON SCHEMA ${schema} IS ${quoteLiteral(o.note)};\n`,
    beforeCommit: () => {
      const missing = [...o.sideNames.keys()].filter((k) => !rewriter.seen.get(k)?.created);
      if (missing.length) {
        throw new LifeboatError(
          'restore',
          `pg_restore printed no definition for ${missing.length} of the chosen tables; nothing was committed.`,
          { hint: 'The archive may come from a pg_dump that Lifeboat does not know; please report it.' },
        );
      }
    },
    explain: (stderr) => {
      const reason = /ERROR:\s+(.*)$/m.exec(stderr)?.[1] ?? stderr.trim().split('\n')[0];
      return new LifeboatError(
        'restore',
        `Loading the tables into ${o.sideSchema} stopped: ${reason}. Nothing was committed: the side schema and its tables were rolled back.`,
        {
          hint: /does not exist/.test(reason ?? '')
            ? 'A restored table refers to a type, sequence or function the target no longer has. Recreate it, or restore the whole backup into a scratch database instead.'
            : 'psql must be at least as new as pg_restore (set pg-bin-dir to one PostgreSQL client installation).',
        },
      );
    },
    mask: o.mask,
  });
}
