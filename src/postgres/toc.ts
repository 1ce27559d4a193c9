/**
 * The table of contents `pg_restore --list` prints, parsed, and written back with some
 * entries commented out for `pg_restore --use-list`. Pure text handling.
 *
 *   323; 1255 16545 FUNCTION auth uid() postgres
 *   3630; 0 0 ACL - SCHEMA auth postgres
 *   2209; 826 16730 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES postgres
 *
 * Fields: dump id; catalog table oid, object oid, kind, schema (`-` for none), tag, owner.
 * Kinds and tags both contain spaces, so the kind is matched against the known list.
 */
export interface TocEntry {
  id: number;
  /** pg_dump's object kind: `TABLE DATA`, `POLICY`, `EXTENSION`, … */
  desc: string;
  namespace: string | null;
  tag: string;
  owner: string;
  line: string;
}

// Longest first, so `TABLE DATA` wins over `TABLE`.
const KINDS = [
  'ACCESS METHOD|ACL|AGGREGATE|BLOB|BLOB METADATA|BLOBS|CAST|CHECK CONSTRAINT|COLLATION|COMMENT',
  'CONSTRAINT|CONVERSION|DATABASE|DATABASE PROPERTIES|DEFAULT|DEFAULT ACL|DOMAIN|ENCODING|EVENT TRIGGER',
  'EXTENSION|FK CONSTRAINT|FOREIGN DATA WRAPPER|FOREIGN SERVER|FOREIGN TABLE|FUNCTION|INDEX|INDEX ATTACH',
  'LARGE OBJECT|MATERIALIZED VIEW|MATERIALIZED VIEW DATA|OPERATOR|OPERATOR CLASS|OPERATOR FAMILY|POLICY',
  'PROCEDURAL LANGUAGE|PROCEDURE|PUBLICATION|PUBLICATION TABLE|PUBLICATION TABLES IN SCHEMA|ROW SECURITY',
  'RULE|SCHEMA|SEARCHPATH|SECURITY LABEL|SEQUENCE|SEQUENCE OWNED BY|SEQUENCE SET|SERVER|SHELL TYPE',
  'STATISTICS|STATISTICS DATA|STDSTRINGS|SUBSCRIPTION|SUBSCRIPTION TABLE|TABLE|TABLE ATTACH|TABLE DATA',
  'TEXT SEARCH CONFIGURATION|TEXT SEARCH DICTIONARY|TEXT SEARCH PARSER|TEXT SEARCH TEMPLATE|TRANSFORM',
  'TRIGGER|TYPE|USER MAPPING|VIEW',
]
  .join('|')
  .split('|')
  .sort((a, b) => b.length - a.length);

const ENTRY = /^(\d+);\s+\d+\s+\d+\s+(.*)$/;

export function parseToc(listing: string): TocEntry[] {
  const entries: TocEntry[] = [];
  for (const line of listing.split('\n')) {
    const match = ENTRY.exec(line);
    if (!match) continue;
    const entry = parseEntry(Number(match[1]), match[2]!, line);
    if (entry) entries.push(entry);
  }
  return entries;
}

/**
 * The entry pg_restore names in an error (`from TOC entry 3608; 3256 16726 POLICY clips members
 * read clips postgres`), which it prints without the schema.
 */
export function parseErrorEntry(text: string): TocEntry | undefined {
  const match = ENTRY.exec(text.trim());
  return match ? parseEntry(Number(match[1]), match[2]!, text, false) : undefined;
}

function parseEntry(id: number, rest: string, line: string, hasNamespace = true): TocEntry | undefined {
  const desc = KINDS.find((k) => rest.startsWith(`${k} `));
  if (!desc) return undefined;
  const afterDesc = rest.slice(desc.length + 1);
  const space = hasNamespace ? afterDesc.indexOf(' ') : -1;
  if (hasNamespace && space < 0) return undefined;
  const namespace = hasNamespace ? afterDesc.slice(0, space) : '-';
  const tagAndOwner = afterDesc.slice(space + 1);
  // The owner is the last word, empty for objects without one (extensions): the line then ends in a space.
  const last = tagAndOwner.lastIndexOf(' ');
  const tag = last < 0 ? tagAndOwner : tagAndOwner.slice(0, last);
  const owner = last < 0 ? '' : tagAndOwner.slice(last + 1);
  return { id, desc, namespace: namespace === '-' ? null : namespace, tag, owner, line };
}

/** `POLICY public.clips members read clips`, `EXTENSION pg_graphql`, `ACL SCHEMA auth`. */
export function describeEntry(entry: Pick<TocEntry, 'desc' | 'namespace' | 'tag'>): string {
  if (!entry.namespace) return `${entry.desc} ${entry.tag}`;
  // Tags of table-level objects start with the table name: `POLICY public clips members read clips`.
  const tableLevel = ['POLICY', 'CONSTRAINT', 'FK CONSTRAINT', 'TRIGGER', 'RULE', 'ROW SECURITY'];
  if (tableLevel.includes(entry.desc)) {
    const space = entry.tag.indexOf(' ');
    if (space > 0) {
      return `${entry.desc} ${entry.tag.slice(space + 1)} on ${entry.namespace}.${entry.tag.slice(0, space)}`;
    }
  }
  return `${entry.desc} ${entry.namespace}.${entry.tag}`;
}

/** The listing with the given entries commented out, for `pg_restore --use-list`. */
export function commentOut(listing: string, skip: Set<number>): string {
  return listing
    .split('\n')
    .map((line) => {
      const match = ENTRY.exec(line);
      return match && skip.has(Number(match[1])) ? `;${line}` : line;
    })
    .join('\n');
}
