import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { LifeboatError } from '../errors.js';
import { streamTableRows } from '../postgres/archive-rows.js';
import type { PlainArchive } from '../archive/plain-stream.js';
import { parseIdentifier, parseQualifiedName } from '../postgres/identifiers.js';
import { tableRef } from '../postgres/catalog.js';
import type pg from 'pg';
import type { TableShape } from './copy-back.js';
import { key } from './plan.js';
import type { SideColumn, SideCopyTable } from './side-copy.js';
import { copyToSide, rowsEntries, sideCopyOf, typeExists, type SideLoad } from './side-load.js';

/**
 * A selective restore where the target-url user may not create a scratch database: the
 * chosen tables' rows are read straight from the archive file (COPY's text format, as
 * pg_dump stored them) and copied into the side schema as data. No SQL of the archive runs
 * anywhere. The columns come from the entry's COPY statement, read by a strict parser that
 * refuses anything but `COPY name (columns) FROM stdin;`; their types from the live table,
 * or text where the live table lacks the column.
 */
export async function loadFromArchive(o: SideLoad): Promise<Map<string, TableShape>> {
  const { input } = o;
  const copies: (SideCopyTable & { archive: number; entry: number })[] = [];
  const shapes = new Map<string, TableShape>();
  for (const { table, definition } of o.chosen) {
    const found = o.archives
      .map((archive, i) => ({ i, entry: rowsEntries(archive, [{ table, definition }])[0] }))
      .find((x) => x.entry !== undefined);
    if (!found?.entry) {
      throw new LifeboatError(
        'restore',
        `The archive holds no rows entry for table ${table.schema}.${table.name}. Nothing was changed.`,
        {
          hint: 'Restore the whole backup into a new database and copy the table from there.',
        },
      );
    }
    const copy = parseCopyStatement(found.entry.copyStmt ?? '');
    if (!copy || copy.schema !== table.schema || copy.name !== table.name) {
      throw new LifeboatError(
        'restore',
        `The archive's COPY statement for ${table.schema}.${table.name} is not one Lifeboat reads as data: ${JSON.stringify((found.entry.copyStmt ?? '').slice(0, 200))}. Nothing was changed.`,
        {
          hint: 'Restore with a target-url user that may create databases, which loads the table in a scratch database.',
        },
      );
    }
    const live = await liveTypes(input.client, table.schema, table.name);
    const columns: SideColumn[] = [];
    for (const name of copy.columns) {
      const type = live.get(name);
      columns.push(
        type && (await typeExists(input.client, type))
          ? { name, type }
          : {
              name,
              type: 'text',
              fallback: type
                ? `type ${type} does not exist in the target`
                : 'the live table has no such column',
            },
      );
    }
    copies.push({ ...sideCopyOf(table, columns), archive: found.i, entry: found.entry.id });
    shapes.set(key(table), {
      columns: columns.map((c) => ({ name: c.name, generated: false, identityAlways: false })),
      primaryKey: [],
      references: [],
      triggers: [],
    });
  }
  await copyToSide(o, copies, (c) => {
    const archive = o.archives[c.archive]!;
    // The archive streams from the store for each table; it is read to its end and checked.
    let plain: PlainArchive | undefined;
    const rows = async function* () {
      plain = await archive.open();
      yield* streamTableRows(plain.stdout!, archive.contents, c.entry);
    };
    const stdout = Readable.from(rows());
    const done = (async () => {
      await finished(stdout);
      await plain!.done;
    })();
    done.catch(() => plain?.stop());
    return { stdout, done, kill: () => (stdout.destroy(), plain?.stop()) };
  });
  return shapes;
}

/** `COPY "s"."t" (a, "b c") FROM stdin;` → its parts; anything else → undefined. */
export function parseCopyStatement(
  text: string,
): { schema: string; name: string; columns: string[] } | undefined {
  const head = /^COPY /.exec(text);
  if (!head) return undefined;
  const name = parseQualifiedName(text, 5);
  if (!name || text.slice(name.end, name.end + 2) !== ' (') return undefined;
  const columns: string[] = [];
  let at = name.end + 2;
  for (;;) {
    const column = parseIdentifier(text, at);
    if (!column) return undefined;
    columns.push(column.value);
    at = column.end;
    if (text.startsWith(', ', at)) at += 2;
    else if (text.startsWith(') FROM stdin;', at)) {
      at += ') FROM stdin;'.length;
      break;
    } else return undefined;
  }
  return /^\n*$/.test(text.slice(at)) ? { schema: name.schema, name: name.name, columns } : undefined;
}

/** The live table's column types, schema-qualified; empty when the table is gone. */
async function liveTypes(client: pg.ClientBase, schema: string, name: string): Promise<Map<string, string>> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query('SET LOCAL search_path = pg_catalog');
    const { rows } = await client.query(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [tableRef(schema, name)],
    );
    return new Map((rows as { name: string; type: string }[]).map((r) => [r.name, r.type]));
  } finally {
    await client.query('COMMIT').catch(() => undefined);
  }
}
