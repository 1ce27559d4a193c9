// Bundles the action (dist/index.js) and the CLI (dist/cli.js) with ncc, both at once.
// Each bundle is self-contained, so the action runs without node_modules.
// Types are checked by `npm run typecheck`; ncc only transpiles (--transpile-only).
import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const entries = [
  { source: 'src/index.ts', target: 'dist/index.js' },
  { source: 'src/cli.ts', target: 'dist/cli.js', executable: true },
];

function ncc(source, out) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        'node_modules/@vercel/ncc/dist/ncc/cli.js',
        'build',
        source,
        '-o',
        out,
        '--license',
        'licenses.txt',
        '--transpile-only',
        '-q',
      ],
      { stdio: 'inherit' },
    );
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`ncc failed for ${source} (exit ${code})`)),
    );
  });
}

const builds = entries.map((entry) => ({ ...entry, out: mkdtempSync(path.join(tmpdir(), 'lifeboat-ncc-')) }));
try {
  await Promise.all(builds.map((b) => ncc(b.source, b.out)));
  rmSync('dist', { recursive: true, force: true });
  mkdirSync('dist');
  for (const build of builds) {
    for (const file of readdirSync(build.out)) {
      const from = path.join(build.out, file);
      if (file === 'index.js') renameSync(from, build.target);
      else if (file === 'licenses.txt') renameSync(from, 'dist/licenses.txt');
      else if (file !== 'package.json') renameSync(from, path.join('dist', file));
    }
    if (build.executable) {
      const code = readFileSync(build.target, 'utf8');
      if (!code.startsWith('#!')) writeFileSync(build.target, `#!/usr/bin/env node\n${code}`);
      chmodSync(build.target, 0o755);
    }
  }
  writeFileSync('dist/package.json', `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
} finally {
  for (const build of builds) rmSync(build.out, { recursive: true, force: true });
}
