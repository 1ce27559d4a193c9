import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HELP } from '../../src/cli/args.js';
import { Inputs, type Mode } from '../../src/settings/constants.js';
import { CLI_DEFAULT_STORE, Defaults, defaultOf } from '../../src/settings/defaults.js';

// One source of defaults: src/settings/defaults.ts. Everything else that states a default
// (action.yml, the CLI help, the reusable workflows) must state the same one.
const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
type InputSpec = { default?: unknown };
const action = parse(read('action.yml')) as { inputs: Record<string, InputSpec> };
const inputNames = new Set<string>(Object.values(Inputs));

/** A reusable workflow's deliberate departures from the action's defaults, each with its reason. */
const WORKFLOW_CHOICES: Record<string, Record<string, { value: string; why: string }>> = {
  'lifeboat-pr.yml': {
    'max-age': { value: '1h', why: 'the pull-request workflow backs up first, then gates that fresh backup' },
    require: { value: 'stored', why: 'its backup job holds only the public key, so it proves level stored' },
  },
  'lifeboat-restore.yml': {
    'dry-run': { value: 'true', why: 'a restore started by hand shows its plan unless told otherwise' },
  },
};

describe('input defaults', () => {
  it('action.yml declares exactly the defaults of the settings table', () => {
    const declared = Object.fromEntries(
      Object.entries(action.inputs)
        .filter(([, spec]) => spec.default !== undefined)
        // The workflow's own token is the runner's to give; no table can hold it.
        .filter(([name]) => name !== Inputs.GithubToken)
        .map(([name, spec]) => [name, String(spec.default)]),
    );
    expect(declared).toEqual({ ...Defaults });
  });

  it('the CLI help shows each default it mentions as the table has it', () => {
    // `[--name production]` states a default; `[--dump-jobs N]` only names a placeholder.
    // A default that differs by mode is read for the command of its line.
    const shown = HELP.split('\n').flatMap((line) => {
      const mode = /^\s*lifeboat (\w+)/.exec(line)?.[1] as Mode | undefined;
      return [...line.matchAll(/\[--([a-z-]+) ([^\]\s|]+)\]/g)]
        .filter(([, name, value]) => defaultOf(name!, mode) && !/^[A-Z]+$/.test(value!))
        .map(([, name, value]) => ({ name: name!, value: value!, mode }));
    });
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.some((s) => s.name === 'max-age' && s.mode === 'watch')).toBe(true);
    for (const { name, value, mode } of shown)
      expect({ name, value }).toEqual({ name, value: defaultOf(name, mode) });
    expect(HELP).toContain(`The store defaults to ${CLI_DEFAULT_STORE}.`);
  });

  it('the reusable workflows default every action input as the table does, or say why not', () => {
    const dir = path.join(root, '.github', 'workflows');
    const workflows = readdirSync(dir).filter((f) => f.startsWith('lifeboat-') && f.endsWith('.yml'));
    expect(workflows.length).toBeGreaterThan(0);
    const differ: string[] = [];
    for (const file of workflows) {
      const doc = parse(readFileSync(path.join(dir, file), 'utf8')) as {
        on?: { workflow_call?: { inputs?: Record<string, InputSpec> } };
      };
      for (const [name, spec] of Object.entries(doc.on?.workflow_call?.inputs ?? {})) {
        if (!inputNames.has(name) || spec.default === undefined) continue;
        const given = String(spec.default);
        // lifeboat-<mode>.yml runs that mode: a default that differs by mode is that mode's.
        const mode = /^lifeboat-(\w+)\.yml$/.exec(file)?.[1] as Mode | undefined;
        const expected = WORKFLOW_CHOICES[file]?.[name]?.value ?? defaultOf(name, mode);
        if (given !== expected)
          differ.push(`${file}: ${name} = ${given}, expected ${expected || '(no default)'}`);
      }
    }
    expect(differ).toEqual([]);
  });
});
