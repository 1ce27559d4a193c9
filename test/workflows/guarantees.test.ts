import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The README's "What Lifeboat guarantees" table names, for each guarantee, the tests that
 * prove it: `file` › _title_. Each named file must exist and each title must be one of its
 * tests (a title's `…` stands for words left out). A guarantee whose test was renamed or
 * removed fails here rather than go on promising what nothing checks.
 */
const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? testFiles(path.join(dir, e.name))
      : e.name.endsWith('.test.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}
const files = new Map(testFiles(path.join(root, 'test')).map((f) => [path.basename(f, '.test.ts'), f]));

interface Claim {
  guarantee: string;
  file: string;
  titles: string[];
}

function claims(): Claim[] {
  const section = readme.slice(readme.indexOf('## What Lifeboat guarantees'));
  const rows = section.split('\n').filter((l) => l.startsWith('| **'));
  return rows.flatMap((row) => {
    const [, guarantee, proof] = row.split('|').map((c) => c.trim());
    const found: Claim[] = [];
    for (const m of proof!.matchAll(/`([\w.-]+)`\s*›\s*((?:_[^_]+_(?:,\s*)?|…(?:,\s*)?)+)/g)) {
      const titles = [...m[2]!.matchAll(/_([^_]+)_/g)].map((t) => t[1]!);
      found.push({ guarantee: guarantee!.slice(0, 60), file: m[1]!, titles });
    }
    return found;
  });
}

describe("the README's guarantees", () => {
  const all = claims();

  it('name tests for every guarantee', () => {
    const section = readme.slice(readme.indexOf('## What Lifeboat guarantees'));
    const rows = section.split('\n').filter((l) => l.startsWith('| **'));
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) expect(row.split('|')[2]!.trim(), row.slice(0, 80)).not.toBe('');
    expect(all.length).toBeGreaterThan(20);
  });

  it.each(all.map((c) => [`${c.file}: ${c.titles.join(' | ') || '(file)'}`, c] as const))(
    '%s exists',
    (_label, claim) => {
      const file = files.get(claim.file);
      expect(file, `${claim.guarantee}: no test file ${claim.file}.test.ts`).toBeDefined();
      const source = readFileSync(file!, 'utf8').replace(/\s+/g, ' ');
      for (const title of claim.titles) {
        for (const fragment of title
          .split('…')
          .map((f) => f.trim())
          .filter(Boolean)) {
          expect(source, `${claim.guarantee}: ${claim.file} has no test "${title}"`).toContain(fragment);
        }
      }
    },
  );
});
