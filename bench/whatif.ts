/**
 * What-if backups for the profile: the same Lifeboat CLI with content fingerprints on
 * (`--verify-content true`) and with other zstd levels and thread counts, so each option
 * and each proposed change is measured on the same database in the same run as the default.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ZSTD_LEVEL } from '../src/archive/zstd.js';
import { BACKUP_MARKS, newestBackup, type Keys, type LifeboatCli } from './lifeboat.js';
import { measureCommand, waitForQuiet, type Measurement } from './measure.js';

export interface WhatIf extends Measurement {
  marks: Record<string, number>;
}

interface Variant {
  label: string;
  args?: string[];
  zstd?: { level?: number; threads?: number };
}

/** Against the default (zstd -${ZSTD_LEVEL} -T1, no fingerprints): the option, and the levels around it. */
const VARIANTS: Variant[] = [
  { label: 'with content fingerprints (--verify-content true)', args: ['--verify-content', 'true'] },
  ...[1, 2, 3]
    .filter((level) => level !== ZSTD_LEVEL)
    .map((level) => ({ label: `zstd -${level} instead of -${ZSTD_LEVEL}`, zstd: { level } })),
  {
    label: `zstd -${ZSTD_LEVEL} -T0 (a thread per core) instead of -T1`,
    zstd: { level: ZSTD_LEVEL, threads: 0 },
  },
];

/**
 * A `zstd` earlier on PATH that swaps the level and thread count Lifeboat passes for
 * BENCH_ZSTD_LEVEL and BENCH_ZSTD_THREADS, then runs the real zstd.
 */
async function zstdShim(dir: string): Promise<string> {
  const real = execFileSync('bash', ['-c', 'command -v zstd'], { encoding: 'utf8' }).trim();
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'zstd');
  await writeFile(
    file,
    `#!/usr/bin/env bash
args=()
for a in "$@"; do
  case "$a" in
    -[0-9] | -1[0-9]) [ -n "$BENCH_ZSTD_LEVEL" ] && a="-$BENCH_ZSTD_LEVEL" ;;
    -T*) [ -n "$BENCH_ZSTD_THREADS" ] && a="-T$BENCH_ZSTD_THREADS" ;;
  esac
  args+=("$a")
done
exec ${JSON.stringify(real)} "\${args[@]}"
`,
  );
  await chmod(file, 0o755);
  return dir;
}

export async function runWhatIfs(options: {
  cli: LifeboatCli;
  env: NodeJS.ProcessEnv;
  url: string;
  keys: Keys;
  workDir: string;
  serverPid?: number;
  log: (line: string) => void;
}): Promise<WhatIf[]> {
  const { log } = options;
  const shim = await zstdShim(path.join(options.workDir, 'zstd-shim'));
  const storeDir = path.join(options.workDir, 'whatif-store');
  const results: WhatIf[] = [];
  for (const variant of VARIANTS) {
    log(`  what if: ${variant.label}…`);
    await waitForQuiet();
    const env: NodeJS.ProcessEnv = {
      ...options.env,
      DATABASE_URL: options.url,
    };
    if (variant.zstd) {
      env.PATH = `${shim}${path.delimiter}${env.PATH ?? ''}`;
      if (variant.zstd.level) env.BENCH_ZSTD_LEVEL = String(variant.zstd.level);
      if (variant.zstd.threads !== undefined) env.BENCH_ZSTD_THREADS = String(variant.zstd.threads);
    }
    const m = await measureCommand(
      variant.label,
      process.execPath,
      [
        options.cli.file,
        'backup',
        '--store',
        storeDir,
        '--name',
        'whatif',
        '--recipient',
        options.keys.recipient,
        '--identity-file',
        options.keys.identityFile,
        ...(variant.args ?? []),
      ],
      { env, marks: BACKUP_MARKS, serverPid: options.serverPid },
    );
    const { manifest } = newestBackup(storeDir, 'whatif');
    const { stdout: _o, stderr: _e, ...rest } = m;
    results.push({ ...rest, outputBytes: manifest.archive.sizeBytes });
    log(`    ${m.seconds.toFixed(1)} s`);
    await rm(storeDir, { recursive: true, force: true });
  }
  return results;
}
