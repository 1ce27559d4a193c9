import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LifeboatError } from '../errors.js';
import { quoteIdent, quoteLiteral, tableRef } from '../postgres/catalog.js';
import type { PgTarget } from '../postgres/connection.js';
import { concatScripts, runScriptInTransaction, type ScriptPiece } from '../postgres/psql.js';
import { NEWLINE, scanLines, type LineFilter } from './line-scan.js';

/**
 * Moves the chosen tables' rows into the side schema of the target, as data only: each
 * table's rows (from a scratch database's `COPY … TO STDOUT`, or read straight from the
 * archive) enter `lifeboat_restore_<backup-id>` with `COPY … FROM STDIN`, inside one
 * transaction of one psql session on the target. That session runs only statements
 * Lifeboat wrote (CREATE SCHEMA, CREATE TABLE, COPY, a row count check); the archive's SQL
 * never reaches the target, so no text in a backup can make it write anywhere else.
 */
export interface SideColumn {
  name: string;
  /** The type as the target knows it (`public.mood`), or `text` when it does not. */
  type: string;
  /** The backup's type, when the target lacks it and the column became text. */
  fallback?: string;
}

export interface SideCopyTable {
  /** The table in the scratch database (and in the backup). */
  schema: string;
  name: string;
  sideName: string;
  columns: SideColumn[];
  /** The rows the backup recorded; the side table must hold exactly these. */
  rows: number | null;
}

export interface SideCopyOptions {
  psql: string;
  /** A table's rows in COPY's text format. */
  rows: (t: SideCopyTable) => ScriptPiece;
  target: PgTarget;
  sideSchema: string;
  tables: SideCopyTable[];
  /** Said on the side schema, for whoever finds it later. */
  note: string;
  mask: (text: string) => string;
}

/** Pure: the statements that open the transaction and create the side tables, empty. */
export function sidePrelude(o: Pick<SideCopyOptions, 'sideSchema' | 'tables' | 'note'>): string {
  const schema = quoteIdent(o.sideSchema);
  return [
    'BEGIN;',
    `CREATE SCHEMA IF NOT EXISTS ${schema};`,
    `COMMENT ON SCHEMA ${schema} IS ${quoteLiteral(o.note)};`,
    ...o.tables.map(
      (t) =>
        `CREATE TABLE ${tableRef(o.sideSchema, t.sideName)} (${t.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')});`,
    ),
    '',
  ].join('\n');
}

/** Pure: what frames one table's rows in the script: the COPY that takes them, the check after. */
export function sideFrame(sideSchema: string, t: SideCopyTable): { header: string; trailer: string } {
  const side = tableRef(sideSchema, t.sideName);
  const columns = t.columns.map((c) => quoteIdent(c.name)).join(', ');
  const check =
    t.rows === null
      ? ''
      : `DO $lifeboat$ BEGIN IF (SELECT count(*) FROM ${side}) <> ${t.rows} THEN RAISE EXCEPTION 'side table % holds % rows; the backup recorded ${t.rows}', ${quoteLiteral(`${sideSchema}.${t.sideName}`)}, (SELECT count(*) FROM ${side}); END IF; END $lifeboat$;\n`;
  return { header: `COPY ${side} (${columns}) FROM STDIN;\n`, trailer: `\\.\n${check}` };
}

/** The query that reads a table's rows in the scratch database, its own rows only (not its children's). */
export function scratchSelect(t: Pick<SideCopyTable, 'schema' | 'name' | 'columns'>): string {
  return `SELECT ${t.columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ONLY ${tableRef(t.schema, t.name)}`;
}

export async function copyIntoSide(o: SideCopyOptions): Promise<void> {
  const source = concatScripts(
    o.tables.map((t) => {
      const { header, trailer } = sideFrame(o.sideSchema, t);
      return {
        start: () => o.rows(t),
        through: new CopyRows(header, trailer),
      };
    }),
  );
  await runScriptInTransaction({
    source,
    psql: o.psql,
    target: o.target,
    applicationName: `lifeboat restore ${randomBytes(4).toString('hex')}`,
    prelude: sidePrelude(o),
    explain: (stderr) => {
      const reason = /ERROR:\s+(.*)$/m.exec(stderr)?.[1] ?? stderr.trim().split('\n')[0];
      return new LifeboatError(
        'restore',
        `Loading the tables into ${o.sideSchema} stopped: ${reason}. Nothing was committed: the side schema and its tables were rolled back.`,
        {
          hint: sideLoadHint(reason ?? ''),
        },
      );
    },
    mask: o.mask,
  });
}

/** What to do about a side load that stopped, by the server's reason. Pure. */
export function sideLoadHint(reason: string): string {
  if (/does not exist|invalid input value/.test(reason))
    return "A column's type differs between the backup and the target (an enum value or a domain the target no longer has). Restore the whole backup into a new database instead.";
  if (/side table .* holds \d+ rows; the backup recorded/.test(reason))
    return "The archive's rows for this table do not add up to the count the backup recorded. Run a drill of this backup (mode: drill), which checks every table against its catalog, and restore from another backup if it fails.";
  if (/permission denied/.test(reason))
    return 'Check the target-url user may create schemas in the target database, then run the restore again.';
  return 'The message above names the cause; nothing changed in the target.';
}

/** `\.\r`: the longest line that can end a table's rows. */
const MARKER_LENGTH = 3;

/**
 * One table's rows between the COPY that takes them and the check after them. psql reads
 * COPY data up to a line `\\.`, and whatever follows it as SQL: so the rows must hold no
 * such line. COPY's text format escapes every backslash in a value, so real rows never do;
 * the end marker pg_dump stores after a table's rows is dropped here, and anything after it
 * but blank lines stops the restore.
 */
export class CopyRows extends Transform {
  private started = false;
  private ended = false;
  /**
   * The current line's bytes so far while it is short enough to be the end marker (`\.`, or
   * `\.\r`) or a blank line after it, held back until its line end says which. A longer line
   * streams out as it comes: a row may be hundreds of megabytes, so a line is never gathered.
   */
  private held = Buffer.alloc(0);
  private long = false;
  /**
   * At a line start before the end marker, whole rows longer than a marker go out as they
   * came, without being copied one by one.
   */
  private readonly scan: LineFilter = {
    atRest: () => !this.ended && !this.long && !this.held.length,
    ordinary: (_bytes, at, end) => end - at > MARKER_LENGTH,
    append: (piece, out) => this.append(piece, out),
    endLine: (out) => this.endLine(out),
  };

  constructor(
    private readonly header: string,
    private readonly trailer: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const out: Buffer[] = [];
    try {
      if (!this.started) {
        this.started = true;
        out.push(Buffer.from(this.header));
      }
      scanLines(chunk, this.scan, out);
    } catch (error) {
      return done(error as Error);
    }
    done(null, Buffer.concat(out));
  }

  override _flush(done: TransformCallback): void {
    const out: Buffer[] = [Buffer.from(this.started ? '' : this.header)];
    try {
      // A last row without its line end still gets one, so the trailer starts a line.
      if (this.long || this.held.length) this.endLine(out);
    } catch (error) {
      return done(error as Error);
    }
    out.push(Buffer.from(this.trailer));
    done(null, Buffer.concat(out));
  }

  /** More of the current line. */
  private append(piece: Buffer, out: Buffer[]): void {
    if (!piece.length) return;
    if (this.long) {
      out.push(piece);
      return;
    }
    this.held = Buffer.concat([this.held, piece]);
    if (this.held.length <= MARKER_LENGTH) return;
    if (this.ended) throw this.afterEnd();
    this.long = true;
    out.push(this.held);
    this.held = Buffer.alloc(0);
  }

  /** The current line ended: a row goes out, the end marker is dropped, a blank line after it skipped. */
  private endLine(out: Buffer[]): void {
    if (this.long) {
      out.push(NEWLINE);
      this.long = false;
      return;
    }
    const line = this.held.toString('latin1');
    this.held = Buffer.alloc(0);
    if (this.ended) {
      if (line === '' || line === '\r') return;
      throw this.afterEnd();
    }
    if (line === '\\.' || line === '\\.\r') this.ended = true;
    else out.push(Buffer.from(line, 'latin1'), NEWLINE);
  }

  private afterEnd(): LifeboatError {
    return new LifeboatError(
      'restore',
      "A table's rows in the archive go on after their end marker (a line `\\.`): the archive is damaged or forged. Nothing was committed.",
      {
        hint: 'Restore from another backup, and check who can write to the store.',
      },
    );
  }
}
