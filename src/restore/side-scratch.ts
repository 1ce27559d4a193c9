import type pg from 'pg';
import { LifeboatError } from '../errors.js';
import { preDataClosure } from '../postgres/archive-toc.js';
import { useList } from '../postgres/restore-shares.js';
import { tableRef } from '../postgres/catalog.js';
import { connectClient } from '../postgres/client.js';
import { runPgRestore } from '../postgres/pg-restore.js';
import { archiveFeed } from '../archive/plain-stream.js';
import type { PgTool } from '../postgres/tools.js';
import { writePrivateFile } from '../tempfiles.js';
import type { TableShape } from './copy-back.js';
import { key } from './plan.js';
import { pieceOf, startCopyOut } from '../postgres/psql.js';
import type { ScratchDatabase } from './scratch.js';
import { scratchSelect, type SideColumn, type SideCopyTable } from './side-copy.js';
import { copyToSide, rowsEntries, sideCopyOf, typeExists, type SideLoad } from './side-load.js';
import { readTableShape } from './table-shapes.js';

/**
 * The scratch database gets the chosen tables with what their definitions need (schemas,
 * types, parent tables) and their rows; then the rows go to the side schema. Returns each
 * table's shape as the backup had it.
 */
export async function loadViaScratch(
  o: SideLoad & { pgRestore: PgTool; scratch: ScratchDatabase },
): Promise<Map<string, TableShape>> {
  const { input, scratch } = o;
  const mask = (text: string) => input.log.mask(text);
  const definitions = preDataClosure(
    o.archives[0]!.contents.entries,
    o.chosen.map((c) => c.definition.id),
  ).filter((e) => !(e.desc === 'SCHEMA' && e.tag === 'public'));
  for (const [i, archive] of o.archives.entries()) {
    const entries = [...(i === 0 ? definitions : []), ...rowsEntries(archive, o.chosen)];
    if (!entries.length) continue;
    const listFile = o.temp.file(`scratch-${i}.list`);
    await writePrivateFile(
      listFile,
      useList(entries, () => true),
    );
    await runPgRestore({
      tool: o.pgRestore,
      target: scratch.target,
      // Read to its end: the rows come from it, and its SHA-256 is checked.
      file: archiveFeed(() => archive.open(), true),
      jobs: 1,
      listFile,
      definitionsOnly: true,
      profile: 'postgres',
      mask,
    });
  }
  const copies: SideCopyTable[] = [];
  const shapes = new Map<string, TableShape>();
  const scratchClient = await connectClient(scratch.target);
  try {
    for (const { table } of o.chosen) {
      const shape = await readTableShape(scratchClient, table.schema, table.name);
      if (!shape)
        throw new LifeboatError(
          'internal',
          `Table ${table.schema}.${table.name} is missing from the scratch database after its restore.`,
        );
      shapes.set(key(table), shape);
      const columns = await sideColumns(scratchClient, input.client, table);
      copies.push(sideCopyOf(table, columns));
    }
  } finally {
    await scratchClient.end().catch(() => undefined);
  }
  await copyToSide(o, copies, (t) => pieceOf(startCopyOut(o.psql, scratch.target, scratchSelect(t), mask)));
  return shapes;
}

/**
 * The columns of a restored table with their types, schema-qualified; a type the target
 * lacks (an enum dropped since the backup) becomes text, which holds any value as printed.
 */
async function sideColumns(
  scratch: pg.ClientBase,
  target: pg.ClientBase,
  table: { schema: string; name: string },
): Promise<SideColumn[]> {
  await scratch.query('SET search_path = pg_catalog');
  const { rows } = await scratch.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, tn.nspname <> 'pg_catalog' AS custom
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [tableRef(table.schema, table.name)],
  );
  const columns: SideColumn[] = [];
  for (const r of rows as { name: string; type: string; custom: boolean }[]) {
    if (!r.custom) {
      columns.push({ name: r.name, type: r.type });
      continue;
    }
    columns.push(
      (await typeExists(target, r.type))
        ? { name: r.name, type: r.type }
        : { name: r.name, type: 'text', fallback: `type ${r.type} does not exist in the target` },
    );
  }
  return columns;
}
