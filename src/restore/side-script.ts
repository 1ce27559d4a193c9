import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { LifeboatError } from '../errors.js';
import { quoteIdent } from '../postgres/catalog.js';
import { key } from './plan.js';

/**
 * Rewrites the SQL `pg_restore -f -` prints for a few tables (their TABLE and TABLE DATA
 * entries) so that every table it creates, alters or fills lives in the side schema.
 *
 * It is an allow-list, not a search-and-replace: a statement is let through only when it is
 * a session SET, or a CREATE TABLE, ALTER TABLE or COPY of a table it was told to move, and
 * then only after its name was rewritten. Anything else stops the stream, so nothing the
 * archive holds can reach a live table. COPY data passes through untouched.
 */
export class SideScriptRewriter extends Transform {
  /** `key(schema, name)` of each table, with what was rewritten for it. */
  readonly seen = new Map<string, { created: boolean; copied: boolean }>();
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');
  private mode: 'between' | 'statement' | 'copy-header' | 'data' = 'between';

  /** `targets` maps `key(schema, name)` to the table's name inside `sideSchema`. */
  constructor(
    private readonly sideSchema: string,
    private readonly targets: Map<string, string>,
  ) {
    super();
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    // A decoder, not chunk.toString(): a UTF-8 character split between two chunks stays whole.
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    try {
      const out = lines.map((line) => this.line(line));
      done(null, out.length ? `${out.join('\n')}\n` : undefined);
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    this.pending += this.decoder.end();
    try {
      const last = this.pending ? this.line(this.pending) : undefined;
      if (this.mode !== 'between') throw refuse('the script ended inside a statement', this.pending);
      done(null, last === undefined ? undefined : `${last}\n`);
    } catch (error) {
      done(error as Error);
    }
  }

  private line(line: string): string {
    switch (this.mode) {
      case 'data':
        if (line === '\\.') this.mode = 'between';
        return line;
      case 'copy-header':
        if (/ FROM stdin;$/.test(line)) this.mode = 'data';
        return line;
      case 'statement':
        // INHERITS or PARTITION OF would attach the copy to a live parent table.
        if (/^\)?\s*INHERITS\s*\(/.test(line)) throw refuse('a table inherits from another', line);
        if (line.endsWith(';')) this.mode = 'between';
        return line;
      case 'between':
        return this.statementStart(line);
    }
  }

  private statementStart(line: string): string {
    if (line === '' || line.startsWith('--')) return line;
    if (/^\\(un)?restrict [A-Za-z0-9]+$/.test(line)) return line;
    if (/^SET [a-z_]+ = /.test(line) || line.startsWith('SELECT pg_catalog.set_config(')) {
      return this.until(line);
    }
    const start = /^(CREATE (?:UNLOGGED )?TABLE |ALTER TABLE (?:ONLY )?|COPY )/.exec(line)?.[1];
    if (!start) throw refuse('a statement other than CREATE TABLE, ALTER TABLE or COPY', line);
    const name = parseQualifiedName(line, start.length);
    const side = name && this.targets.get(key(name));
    if (!name || side === undefined) throw refuse('a statement about a table not chosen', line);
    const rest = line.slice(name.end);
    if (/\bPARTITION OF\b/.test(rest)) throw refuse('a table is a partition of another', line);
    const seen = this.seen.get(key(name)) ?? { created: false, copied: false };
    this.seen.set(key(name), seen);
    if (start.startsWith('CREATE')) seen.created = true;
    const rewritten = `${start}${quoteIdent(this.sideSchema)}.${quoteIdent(side)}${rest}`;
    if (start === 'COPY ') {
      seen.copied = true;
      this.mode = / FROM stdin;$/.test(line) ? 'data' : 'copy-header';
      return rewritten;
    }
    return this.until(rewritten);
  }

  /** Passes a statement's first line; the statement goes on until a line ends with `;`. */
  private until(line: string): string {
    this.mode = line.endsWith(';') ? 'between' : 'statement';
    return line;
  }
}

/** `"Mixed Case"."weird ""quoted"" name" (` → schema, name and where the name ends. */
export function parseQualifiedName(
  text: string,
  at: number,
): { schema: string; name: string; end: number } | undefined {
  const first = parseIdent(text, at);
  if (!first || text[first.end] !== '.') return undefined;
  const second = parseIdent(text, first.end + 1);
  if (!second) return undefined;
  return { schema: first.value, name: second.value, end: second.end };
}

function parseIdent(text: string, at: number): { value: string; end: number } | undefined {
  if (text[at] === '"') {
    let value = '';
    for (let i = at + 1; i < text.length; i++) {
      if (text[i] !== '"') value += text[i];
      else if (text[i + 1] === '"') {
        value += '"';
        i++;
      } else return { value, end: i + 1 };
    }
    return undefined;
  }
  // pg_dump leaves only lower-case plain words unquoted.
  const bare = /^[a-z_][a-z0-9_$]*/.exec(text.slice(at))?.[0];
  return bare ? { value: bare, end: at + bare.length } : undefined;
}

function refuse(why: string, line: string): LifeboatError {
  const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
  return new LifeboatError(
    'restore',
    `Stopped the selective restore before it could touch anything but the side schema: ${why}.\nLine: ${shown}`,
    {
      hint: 'Nothing was committed. Restore this table with a full restore into a scratch database instead, or report the line above to the Lifeboat maintainers.',
    },
  );
}
