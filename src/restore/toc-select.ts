import type { TocEntry } from '../postgres/toc.js';

/**
 * A full restore over a live database keeps the schemas and extensions the target already
 * has: `DROP SCHEMA` fails while the target holds objects the backup does not know, and
 * dropping an extension would take every column of its types with it.
 */
export function keepExisting(
  toc: TocEntry[],
  existing: { schemas: Set<string>; extensions: Set<string> },
): { ids: Set<number>; kept: string[] } {
  const ids = new Set<number>();
  const kept: string[] = [];
  for (const e of toc) {
    const schema = e.desc === 'SCHEMA' && e.namespace === null && existing.schemas.has(e.tag);
    const extension = e.desc === 'EXTENSION' && existing.extensions.has(e.tag);
    if (!schema && !extension) continue;
    ids.add(e.id);
    kept.push(`${e.desc.toLowerCase()} ${e.tag}`);
  }
  return { ids, kept };
}
