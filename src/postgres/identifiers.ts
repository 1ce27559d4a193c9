/**
 * Reading SQL identifiers as pg_dump prints them: double-quoted with `""` for a quote, or
 * bare when they are lower-case plain words. Pure; used where Lifeboat must read a name out
 * of archive text, and refuses anything it cannot read exactly.
 */
export function parseIdentifier(text: string, at: number): { value: string; end: number } | undefined {
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
  const bare = /^[a-z_][a-z0-9_$]*/.exec(text.slice(at))?.[0];
  return bare ? { value: bare, end: at + bare.length } : undefined;
}

/** `"Mixed Case"."weird ""quoted"" name"` → schema, name and where the name ends. */
export function parseQualifiedName(
  text: string,
  at: number,
): { schema: string; name: string; end: number } | undefined {
  const first = parseIdentifier(text, at);
  if (!first || text[first.end] !== '.') return undefined;
  const second = parseIdentifier(text, first.end + 1);
  if (!second) return undefined;
  return { schema: first.value, name: second.value, end: second.end };
}
