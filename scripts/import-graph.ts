// Measures the shape of src/: which floor each module stands on, imports that run up a
// floor or into another feature's internals, import loops, long files and file names that
// repeat across folders. `npx tsx scripts/import-graph.ts` prints it; test/layout.test.ts
// fails on any finding, so the layout in DESIGN.md stays true.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Floors, top to bottom: an import may run sideways or down, never up. */
export const ENTRY_FILES = ['index.ts', 'cli.ts', 'run.ts'];
export const ENTRY_FOLDERS = ['action', 'cli'];
export const FEATURE_FOLDERS = [
  'backup',
  'gate',
  'drill',
  'restore',
  'watch',
  'copy',
  'rekey',
  'refresh',
  'modes',
];
export const MAX_LINES = 300;

export type Floor = 'entry' | 'feature' | 'capability';

export interface ImportEdge {
  from: string;
  to: string;
}

export interface GraphReport {
  files: number;
  edges: number;
  floors: Record<Floor, number>;
  upward: ImportEdge[];
  /** An import reaching past a feature's index.ts from outside the feature. */
  crossFeature: ImportEdge[];
  loops: string[][];
  long: { file: string; lines: number }[];
  duplicateNames: { name: string; files: string[] }[];
  /** Reads of GITHUB_*, RUNNER_* or LIFEBOAT_* outside the one module that reads them. */
  envReads: { file: string; variable: string }[];
}

/** The one module that reads the runner's and Lifeboat's own environment variables. */
export const ENVIRONMENT_MODULE = 'settings/environment.ts';
const ENV_READ = /\benv\w*\s*(?:\.|\[\s*['"])((?:GITHUB|RUNNER|LIFEBOAT)_[A-Z_]+)/gi;

export function floorOf(file: string): Floor {
  const parts = file.split('/');
  if (parts.length === 1) return ENTRY_FILES.includes(parts[0]!) ? 'entry' : 'capability';
  if (ENTRY_FOLDERS.includes(parts[0]!)) return 'entry';
  if (FEATURE_FOLDERS.includes(parts[0]!)) return 'feature';
  return 'capability';
}

const RANK: Record<Floor, number> = { capability: 0, feature: 1, entry: 2 };

function listSources(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return listSources(path.join(dir, entry.name), rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Every relative import of a module (static, type-only, re-exports and import()). */
function importsOf(srcDir: string, file: string, known: Set<string>): string[] {
  const text = readFileSync(path.join(srcDir, file), 'utf8');
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) =>
      path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts'),
    )
    .map((target) =>
      known.has(target) ? target : known.has(`${target}/index.ts`) ? `${target}/index.ts` : target,
    )
    .filter((target) => known.has(target));
}

function findLoops(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components: every component of two or more modules is a loop.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const loops: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) loops.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return loops;
}

export function measure(srcDir: string): GraphReport {
  const files = listSources(srcDir).sort();
  const known = new Set(files);
  const graph = new Map(files.map((file) => [file, [...new Set(importsOf(srcDir, file, known))]]));
  const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));
  const floors: Record<Floor, number> = { entry: 0, feature: 0, capability: 0 };
  for (const file of files) floors[floorOf(file)] += 1;
  const upward = edges.filter((e) => RANK[floorOf(e.to)] > RANK[floorOf(e.from)]);
  // A feature is entered through its index.ts only, from an entry or from another feature.
  const crossFeature = edges.filter((e) => {
    if (floorOf(e.to) !== 'feature') return false;
    const [fromFolder] = e.from.split('/');
    const [toFolder, ...rest] = e.to.split('/');
    return fromFolder !== toFolder && rest.join('/') !== 'index.ts';
  });
  const long = files
    .map((file) => ({ file, lines: readFileSync(path.join(srcDir, file), 'utf8').split('\n').length - 1 }))
    .filter((f) => f.lines > MAX_LINES);
  const byName = new Map<string, string[]>();
  for (const file of files) {
    const name = path.posix.basename(file);
    if (name === 'index.ts') continue;
    byName.set(name, [...(byName.get(name) ?? []), file]);
  }
  const duplicateNames = [...byName]
    .filter(([, list]) => list.length > 1)
    .map(([name, list]) => ({ name, files: list }));
  const envReads = files
    .filter((file) => file !== ENVIRONMENT_MODULE)
    .flatMap((file) =>
      [...readFileSync(path.join(srcDir, file), 'utf8').matchAll(ENV_READ)].map((m) => ({
        file,
        variable: m[1]!,
      })),
    );
  return {
    envReads,
    files: files.length,
    edges: edges.length,
    floors,
    upward,
    crossFeature,
    loops: findLoops(graph),
    long,
    duplicateNames,
  };
}

function print(report: GraphReport): void {
  const line = (s: string) => process.stdout.write(`${s}\n`);
  line(`modules ${report.files}, imports ${report.edges}`);
  line(
    `floors: entry ${report.floors.entry}, feature ${report.floors.feature}, capability ${report.floors.capability}`,
  );
  line(`upward imports: ${report.upward.length}`);
  for (const e of report.upward) line(`  ${e.from} -> ${e.to}`);
  line(`imports into a feature's internals: ${report.crossFeature.length}`);
  for (const e of report.crossFeature) line(`  ${e.from} -> ${e.to}`);
  line(`loops: ${report.loops.length}`);
  for (const loop of report.loops) line(`  ${loop.join(' <-> ')}`);
  line(`files over ${MAX_LINES} lines: ${report.long.length}`);
  for (const f of report.long) line(`  ${f.file} (${f.lines})`);
  line(`file names in more than one folder: ${report.duplicateNames.length}`);
  for (const d of report.duplicateNames) line(`  ${d.name}: ${d.files.join(', ')}`);
  line(`environment reads outside ${ENVIRONMENT_MODULE}: ${report.envReads.length}`);
  for (const r of report.envReads) line(`  ${r.file}: ${r.variable}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  print(measure(path.join(root, 'src')));
}
