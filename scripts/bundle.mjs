// Bundles the action (dist/index.js) and the CLI (dist/cli.js) with ncc, both at once.
// Each bundle is self-contained, so the action runs without node_modules. Modules loaded
// with import() (the S3, cache and GitHub clients) become chunk files that ncc names by
// number, and the two entries number them differently: each bundle lives in a folder of
// its own (dist/action/, dist/cli/) and the entry files are one-line imports of it.
// Types are checked by `npm run typecheck`; ncc only transpiles (--transpile-only).
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const entries = [
  { source: 'src/index.ts', folder: 'action', entry: 'dist/index.js' },
  { source: 'src/cli.ts', folder: 'cli', entry: 'dist/cli.js', executable: true },
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
  writeFileSync('dist/package.json', `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
  for (const build of builds) {
    rmSync(path.join(build.out, 'package.json'), { force: true });
    cpSync(build.out, path.join('dist', build.folder), { recursive: true });
    // The temp folder was private (0700); the bundle must be readable by whoever runs it.
    chmodSync(path.join('dist', build.folder), 0o755);
    const shebang = build.executable ? '#!/usr/bin/env node\n' : '';
    writeFileSync(build.entry, `${shebang}import './${build.folder}/index.js';\n`);
    if (build.executable) chmodSync(build.entry, 0o755);
  }
} finally {
  for (const build of builds) rmSync(build.out, { recursive: true, force: true });
}
