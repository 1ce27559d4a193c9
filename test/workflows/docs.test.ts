import { readFileSync } from 'node:fs';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { inputsTable, parseActionMetadata, paths, renderReadme, replaceRegion } from '../../scripts/docs.js';

const actionYml = readFileSync(paths.actionYml, 'utf8');
const readme = readFileSync(paths.readme, 'utf8');

describe('scripts/docs.ts', () => {
  it('finds README.md up to date with action.yml (run `npm run docs` when this fails)', async () => {
    expect(await renderReadme(actionYml, readme)).toBe(readme);
  });

  it('writes tables that `npm run format` leaves alone', async () => {
    const options = (await prettier.resolveConfig(paths.readme)) ?? {};
    const rendered = await renderReadme(actionYml, readme);
    expect(await prettier.format(rendered, { ...options, parser: 'markdown' })).toBe(rendered);
  });

  it('notices a README that has fallen behind action.yml', async () => {
    const changed = actionYml.replace(
      "description: 'Name of the backup set, so several databases can share a store.'",
      "description: 'Name of the backup set.'",
    );
    expect(changed).not.toBe(actionYml);
    expect(await renderReadme(changed, readme)).not.toBe(readme);
  });

  it('lists name, description, default and required, with pipes escaped', () => {
    const table = inputsTable(
      parseActionMetadata(
        "inputs:\n  store:\n    description: 'a | b'\n    required: true\n    default: 'actions-cache'\n",
      ),
    );
    expect(table.split('\n')).toEqual([
      '| Name | Description | Default | Required |',
      '| --- | --- | --- | --- |',
      '| `store` | a \\| b | `actions-cache` | yes |',
    ]);
  });

  it('touches only the text between the markers', () => {
    const doc = 'before\n<!-- inputs:start -->\nold\n<!-- inputs:end -->\nafter\n';
    expect(replaceRegion(doc, 'inputs', 'new')).toBe(
      'before\n<!-- inputs:start -->\n\nnew\n\n<!-- inputs:end -->\nafter\n',
    );
  });

  it('refuses a README without the markers', () => {
    expect(() => replaceRegion('# Lifeboat\n', 'inputs', 'x')).toThrow(/<!-- inputs:start -->/);
  });
});
