import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

/**
 * Contracts between the files the linter cannot see together: each caller and
 * the reusable workflow it calls, each workflow and action.yml.
 */
const root = join(import.meta.dirname, '..', '..');
const repo = 'lifeboat-dev/lifeboat';
const read = (path: string) => readFileSync(join(root, path), 'utf8');

type Level = 'none' | 'read' | 'write';
type Permissions = Record<string, Level> | 'read-all' | 'write-all';
interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: 'inherit' | Record<string, unknown>;
  permissions?: Permissions;
  steps?: Step[];
}
interface Declared {
  required?: boolean;
}
interface WorkflowCall {
  inputs?: Record<string, Declared>;
  secrets?: Record<string, Declared>;
}
interface Workflow {
  on?: string | string[] | Record<string, unknown>;
  permissions?: Permissions;
  jobs?: Record<string, Job>;
}

const yamlIn = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(dir, name))
    .sort();

const suite = yamlIn('.github/workflows');
const examples = yamlIn('examples/workflows');
const load = (path: string) => parse(read(path)) as Workflow;

function triggers(workflow: Workflow): Record<string, unknown> {
  const on = workflow.on;
  if (typeof on === 'string') return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((name) => [name, null]));
  return on ?? {};
}

const workflowCall = (workflow: Workflow) =>
  triggers(workflow).workflow_call as WorkflowCall | null | undefined;

/** `owner/lifeboat/.github/workflows/x.yml@ref` or `./.github/workflows/x.yml` → the file in this repository. */
function reusablePath(uses: string): string | undefined {
  const match = new RegExp(`^(?:${repo}/|\\./)(\\.github/workflows/[^@]+\\.ya?ml)(?:@.+)?$`).exec(uses);
  return match?.[1];
}

const rank: Record<Level, number> = { none: 0, read: 1, write: 2 };

function granted(permissions: Permissions | undefined, scope: string): Level | undefined {
  if (permissions === undefined) return undefined;
  if (permissions === 'read-all') return 'read';
  if (permissions === 'write-all') return 'write';
  return permissions[scope] ?? 'none';
}

/** Everything wrong between a caller and the reusable workflows it calls. */
function callerProblems(path: string): string[] {
  const caller = load(path);
  const problems: string[] = [];
  for (const [id, job] of Object.entries(caller.jobs ?? {})) {
    if (!job.uses) continue;
    const target = reusablePath(job.uses);
    if (!target || !existsSync(join(root, target))) {
      problems.push(`${id}: ${job.uses} is not a workflow in .github/workflows/`);
      continue;
    }
    const called = load(target);
    const call = workflowCall(called);
    if (call === undefined) {
      problems.push(`${id}: ${target} has no on.workflow_call`);
      continue;
    }
    const inputs = call?.inputs ?? {};
    const secrets = call?.secrets ?? {};
    for (const name of Object.keys(job.with ?? {})) {
      if (!(name in inputs)) problems.push(`${id}: input ${name} is not declared by ${target}`);
    }
    for (const [name, input] of Object.entries(inputs)) {
      if (input.required && !(name in (job.with ?? {})))
        problems.push(`${id}: required input ${name} not passed`);
    }
    if (job.secrets === 'inherit') {
      problems.push(`${id}: secrets: inherit hands every secret to ${target}; pass them by name`);
    } else {
      for (const name of Object.keys(job.secrets ?? {})) {
        if (!(name in secrets)) problems.push(`${id}: secret ${name} is not declared by ${target}`);
      }
      for (const [name, secret] of Object.entries(secrets)) {
        if (secret.required && !(name in (job.secrets ?? {}))) {
          problems.push(`${id}: required secret ${name} not passed`);
        }
      }
    }
    const callerPermissions = job.permissions ?? caller.permissions;
    for (const calledJob of Object.values(called.jobs ?? {})) {
      const asked = calledJob.permissions ?? called.permissions;
      if (asked === undefined || typeof asked === 'string') continue;
      for (const [scope, level] of Object.entries(asked)) {
        const has = granted(callerPermissions, scope);
        if (has === undefined || rank[has] < rank[level]) {
          problems.push(
            `${id}: ${target} asks for ${scope}: ${level}, the caller grants ${has ?? 'the default'}`,
          );
        }
      }
    }
  }
  return problems;
}

const actionInputs = (parse(read('action.yml')) as { inputs: Record<string, Declared> }).inputs;
const isThisAction = (uses: string) => uses === './' || uses.startsWith(`${repo}@`);

/** Every step that runs this action, and the inputs it passes that action.yml does not declare. */
function actionStepProblems(path: string): string[] {
  const problems: string[] = [];
  for (const [id, job] of Object.entries(load(path).jobs ?? {})) {
    for (const step of job.steps ?? []) {
      if (!step.uses || !isThisAction(step.uses)) continue;
      for (const name of Object.keys(step.with ?? {})) {
        if (!(name in actionInputs)) problems.push(`${id}: action input ${name} is not in action.yml`);
      }
      for (const [name, input] of Object.entries(actionInputs)) {
        if (input.required && !(name in (step.with ?? {})))
          problems.push(`${id}: required ${name} not passed`);
      }
    }
  }
  const call = workflowCall(load(path));
  if (call !== undefined) {
    const declared = new Set(['GITHUB_TOKEN', ...Object.keys(call?.secrets ?? {})]);
    for (const [, name] of read(path).matchAll(/\bsecrets\.([A-Za-z0-9_-]+)/g)) {
      if (name && !declared.has(name))
        problems.push(`secret ${name} is used but not declared in on.workflow_call`);
    }
  }
  return problems;
}

const reusable = suite.filter((path) => workflowCall(load(path)) !== undefined);
const published = reusable.filter((path) => /\/lifeboat-[^/]+\.yml$/.test(path));

describe('callers in examples/workflows/ and the reusable workflows they call', () => {
  it.each(examples)('%s calls existing reusable workflows with declared inputs and secrets', (path) => {
    expect(callerProblems(path)).toEqual([]);
  });

  it('every example calls the published suite, never a local path', () => {
    const calls = examples.flatMap((path) =>
      Object.values(load(path).jobs ?? {}).flatMap((job) => job.uses ?? []),
    );
    expect(calls.length).toBeGreaterThanOrEqual(examples.length);
    for (const uses of calls)
      expect(uses).toMatch(new RegExp(`^${repo}/\\.github/workflows/lifeboat-[a-z-]+\\.yml@v1$`));
  });

  it('e2e.yml calls its suite with declared inputs', () => {
    expect(callerProblems('.github/workflows/e2e.yml')).toEqual([]);
  });

  it('reports every mistake in a deliberately broken caller', () => {
    expect(callerProblems('test/fixtures/workflows/broken-caller.yml')).toEqual([
      'backup: input retention is not declared by .github/workflows/lifeboat-backup.yml',
      'backup: secret DATABASE_PASSWORD is not declared by .github/workflows/lifeboat-backup.yml',
      'backup: required secret LIFEBOAT_RECIPIENT not passed',
      'gate: .github/workflows/lifeboat-gate.yml asks for pull-requests: write, the caller grants none',
      'nightly: lifeboat-dev/lifeboat/.github/workflows/lifeboat-nightly-backup.yml@v1 is not a workflow in .github/workflows/',
    ]);
  });
});

describe('workflows that run the action', () => {
  it.each([...suite, ...examples])(
    '%s passes only inputs action.yml declares, and declares its secrets',
    (path) => {
      expect(actionStepProblems(path)).toEqual([]);
    },
  );

  it('reports the undeclared inputs and secret of a deliberately broken reusable workflow', () => {
    expect(actionStepProblems('test/fixtures/workflows/broken-reusable.yml')).toEqual([
      'backup: action input database_url is not in action.yml',
      'backup: action input recipient is not in action.yml',
      'backup: action input retention is not in action.yml',
      'secret LIFEBOAT_RECIPIENT is used but not declared in on.workflow_call',
    ]);
  });

  it('the published suite runs the released action, since `./` would be the caller’s checkout', () => {
    expect(published.map((path) => path.replace('.github/workflows/', '')).sort()).toEqual([
      'lifeboat-backup.yml',
      'lifeboat-copy.yml',
      'lifeboat-drill.yml',
      'lifeboat-gate.yml',
      'lifeboat-pr.yml',
      'lifeboat-refresh.yml',
      'lifeboat-restore.yml',
      'lifeboat-watch.yml',
    ]);
    for (const path of published) {
      const uses = Object.values(load(path).jobs ?? {}).flatMap((job) =>
        (job.steps ?? []).map((s) => s.uses ?? ''),
      );
      expect(uses.filter((u) => u.startsWith(repo) || u.startsWith('./'))).not.toHaveLength(0);
      for (const u of uses) if (u.startsWith('./') || u.startsWith(`${repo}@`)) expect(u).toBe(`${repo}@v1`);
    }
  });

  it('e2e runs the action from this commit', () => {
    expect(read('.github/workflows/e2e-suite.yml')).toMatch(/uses: \.\/\n/);
  });
});

describe('workflow hygiene', () => {
  const all = [...suite, ...examples];

  it('pins every third-party action to a full commit SHA with its version, the same one everywhere', () => {
    const pins = new Map<string, Set<string>>();
    for (const path of all) {
      for (const [, action, ref, comment] of read(path).matchAll(/uses:\s*([^\s@]+)@(\S+)(.*)$/gm)) {
        if (!action || !ref || action.startsWith('./') || action.startsWith(repo)) continue;
        expect(ref, `${path}: ${action}`).toMatch(/^[0-9a-f]{40}$/);
        expect(comment, `${path}: ${action}`).toMatch(/^ # v\d+\.\d+\.\d+$/);
        pins.set(action, (pins.get(action) ?? new Set()).add(`${ref}${comment}`));
      }
    }
    expect(pins.size).toBeGreaterThan(0);
    for (const [action, refs] of pins) expect([...refs], action).toHaveLength(1);
  });

  it.each(all)('%s never runs on pull_request_target', (path) => {
    expect(Object.keys(triggers(load(path)))).not.toContain('pull_request_target');
  });

  it.each(all)('%s grants no default permissions: none at the top, explicit per job', (path) => {
    const workflow = load(path);
    expect(workflow.permissions).toEqual({});
    for (const [id, job] of Object.entries(workflow.jobs ?? {})) expect(job.permissions, id).toBeDefined();
  });
});
