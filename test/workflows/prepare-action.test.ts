import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The steps every reusable workflow needs (the PostgreSQL client tools, the S3 store's
// region and endpoint) live once, in .github/actions/prepare; no workflow keeps a copy.
const root = path.resolve(import.meta.dirname, '../..');
const dir = path.join(root, '.github', 'workflows');
const PREPARE = 'lifeboat-dev/lifeboat/.github/actions/prepare@v1';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
const reusable = readdirSync(dir).filter((f) => /^lifeboat-.*\.yml$/.test(f));
const jobsOf = (file: string) =>
  Object.entries(
    (parse(readFileSync(path.join(dir, file), 'utf8')) as { jobs: Record<string, { steps?: Step[] }> }).jobs,
  );

describe('the prepare action', () => {
  const action = parse(readFileSync(path.join(root, '.github/actions/prepare/action.yml'), 'utf8')) as {
    runs: { using: string };
    inputs: Record<string, unknown>;
  };

  it('is a composite action taking the inputs the workflows pass', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs).sort()).toEqual([
      'aws-endpoint-url',
      'aws-region',
      'pg-version',
      'store',
    ]);
  });

  it.each(reusable)('%s prepares every job through it and installs or configures nothing itself', (file) => {
    for (const [id, job] of jobsOf(file)) {
      const steps = job.steps ?? [];
      const copies = steps.filter((s) => /postgresql-client|AWS_ENDPOINT_URL_S3/.test(s.run ?? ''));
      expect(copies, `${file} job ${id}`).toEqual([]);
      const runsLifeboat = steps.some((s) => s.uses === 'lifeboat-dev/lifeboat@v1');
      if (runsLifeboat)
        expect(
          steps.some((s) => s.uses === PREPARE),
          `${file} job ${id}`,
        ).toBe(true);
      for (const step of steps.filter((s) => s.uses === PREPARE))
        expect(Object.keys(step.with ?? {}).every((name) => name in action.inputs)).toBe(true);
    }
  });
});
