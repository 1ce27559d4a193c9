import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Every file under `dir` holding plaintext of a database: a custom-format dump's head
 * (`PGDMP` at its first byte), or one of `markers` (values only the database's rows hold).
 */
export async function plaintextFiles(dir: string, markers: string[] = []): Promise<string[]> {
  const found: string[] = [];
  const needles = markers.map((m) => Buffer.from(m));
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = await readFile(file).catch(() => Buffer.alloc(0));
    if (bytes.subarray(0, 5).toString('latin1') === 'PGDMP' || needles.some((n) => bytes.includes(n)))
      found.push(file);
  }
  return found;
}
