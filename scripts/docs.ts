/**
 * Regenerates the README's inputs and outputs tables from action.yml, so the
 * documentation cannot drift from the contract (the way actions/checkout
 * regenerates its usage block).
 *
 *   tsx scripts/docs.ts           rewrite README.md
 *   tsx scripts/docs.ts --check   exit 1 when README.md is out of date
 *
 * Only the text between `<!-- inputs:start -->`/`<!-- inputs:end -->` and
 * `<!-- outputs:start -->`/`<!-- outputs:end -->` is generated. The tables are
 * run through Prettier with the repository's settings, so `npm run format`
 * and this script agree on every byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { parse } from 'yaml';

export interface InputMetadata {
  description: string;
  required?: boolean;
  default?: string;
}

export interface ActionMetadata {
  inputs: Record<string, InputMetadata>;
  outputs: Record<string, { description: string }>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const paths = { actionYml: join(root, 'action.yml'), readme: join(root, 'README.md') };

export function parseActionMetadata(text: string): ActionMetadata {
  const doc: unknown = parse(text);
  if (typeof doc !== 'object' || doc === null) throw new Error('action.yml is not a YAML mapping');
  const { inputs = {}, outputs = {} } = doc as Partial<ActionMetadata>;
  for (const [name, input] of Object.entries(inputs)) {
    if (typeof input?.description !== 'string') throw new Error(`input ${name} has no description`);
  }
  for (const [name, output] of Object.entries(outputs)) {
    if (typeof output?.description !== 'string') throw new Error(`output ${name} has no description`);
  }
  return { inputs, outputs };
}

/** One table cell: no line breaks, no bare pipes. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

export function inputsTable(meta: ActionMetadata): string {
  const rows = Object.entries(meta.inputs).map(([name, input]) => {
    const fallback = input.default === undefined || input.default === '' ? '' : code(String(input.default));
    const required = input.required === true ? 'yes' : 'no';
    return `| ${code(name)} | ${cell(input.description)} | ${cell(fallback)} | ${required} |`;
  });
  return ['| Name | Description | Default | Required |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function outputsTable(meta: ActionMetadata): string {
  const rows = Object.entries(meta.outputs).map(
    ([name, output]) => `| ${code(name)} | ${cell(output.description)} |`,
  );
  return ['| Name | Description |', '| --- | --- |', ...rows].join('\n');
}

/** Replaces what lies between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceRegion(doc: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < 0 || to < from) {
    throw new Error(`README.md needs the markers ${start} and ${end}, in that order`);
  }
  if (doc.indexOf(start, from + 1) >= 0) throw new Error(`README.md has ${start} twice`);
  return `${doc.slice(0, from + start.length)}\n\n${content.trim()}\n\n${doc.slice(to)}`;
}

async function formatMarkdown(markdown: string): Promise<string> {
  const options = (await prettier.resolveConfig(paths.readme)) ?? {};
  return prettier.format(markdown, { ...options, parser: 'markdown' });
}

/** The README with both tables regenerated from action.yml. */
export async function renderReadme(actionYml: string, readme: string): Promise<string> {
  const meta = parseActionMetadata(actionYml);
  const withInputs = replaceRegion(readme, 'inputs', await formatMarkdown(inputsTable(meta)));
  return replaceRegion(withInputs, 'outputs', await formatMarkdown(outputsTable(meta)));
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const current = readFileSync(paths.readme, 'utf8');
  const expected = await renderReadme(readFileSync(paths.actionYml, 'utf8'), current);
  if (expected === current) {
    console.log('README.md inputs and outputs match action.yml');
    return 0;
  }
  if (check) {
    console.error('README.md is out of date with action.yml: run `npm run docs` and commit README.md');
    return 1;
  }
  writeFileSync(paths.readme, expected);
  console.log('README.md inputs and outputs regenerated from action.yml');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
