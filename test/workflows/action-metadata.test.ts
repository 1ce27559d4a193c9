import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Inputs, Outputs } from '../../src/settings/constants.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const action = parse(read('action.yml')) as ActionYml;
const inputNames = Object.keys(action.inputs);
const outputNames = Object.keys(action.outputs);

function validator() {
  const schema = JSON.parse(read('test/fixtures/schemas/github-action.schema.json')) as object;
  return new Ajv({ allErrors: true, strict: true }).compile(schema);
}

describe('action.yml against the action metadata schema', () => {
  it('is valid', () => {
    const validate = validator();
    const valid = validate(parse(read('action.yml')));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('rejects deliberately broken metadata', () => {
    const validate = validator();
    expect(validate(parse(read('test/fixtures/schemas/broken-action.yml')))).toBe(false);
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`).join('\n');
    expect(problems).toMatch(/must NOT have additional properties/); // `input:` instead of `inputs:`
    expect(problems).toMatch(/\/inputs\/mode must have required property 'description'/);
    expect(problems).toMatch(/\/runs\/using must be equal to one of the allowed values/); // node16
  });
});

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

function tableNames(readme: string, region: string): string[] {
  const start = readme.indexOf(`<!-- ${region}:start -->`);
  const end = readme.indexOf(`<!-- ${region}:end -->`);
  if (start < 0 || end < start) return [];
  return [...readme.slice(start, end).matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((match) => match[1] ?? '');
}

describe('names in one place: action.yml, src/settings/constants.ts and the README agree', () => {
  it('declares every action.yml input as an Inputs constant, and no other', () => {
    expect([...Object.values(Inputs)].sort()).toEqual([...inputNames].sort());
  });

  it('declares every action.yml output as an Outputs constant, and no other', () => {
    expect([...Object.values(Outputs)].sort()).toEqual([...outputNames].sort());
  });

  it('reads every input somewhere in src/ through its Inputs constant', () => {
    const sources = tsFiles('src')
      .filter((path) => path !== join('src', 'settings', 'constants.ts'))
      .map(read)
      .join('\n');
    const unread = Object.keys(Inputs).filter((key) => !new RegExp(`\\bInputs\\.${key}\\b`).test(sources));
    expect(unread, 'Inputs constants no code in src/ reads').toEqual([]);
  });

  it('documents every input in the README inputs table', () => {
    expect(tableNames(read('README.md'), 'inputs')).toEqual(inputNames);
  });

  it('documents every output in the README outputs table', () => {
    expect(tableNames(read('README.md'), 'outputs')).toEqual(outputNames);
  });
});
