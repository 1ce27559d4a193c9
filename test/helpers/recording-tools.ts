/**
 * Stand-ins for the tools Lifeboat starts (pg_dump, pg_restore, psql in a `pg-bin-dir`,
 * zstd first on PATH) that write down how they were started, then become the real tool.
 * Each start leaves its argv, its parent's argv and its whole environment, read from
 * /proc as any other user of the machine could read them. The record directory is written
 * into the scripts: the environment they get may carry nothing of the test's.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ToolStart {
  tool: string;
  argv: string[];
  /** The argv of the process that started the tool: Lifeboat itself. */
  parentArgv: string[];
  env: Record<string, string>;
}

export interface RecordingTools {
  /** Pass as `pg-bin-dir`. */
  pgBinDir: string;
  /** Put first on PATH: holds the stand-ins of the commands found there (zstd by default). */
  pathDir: string;
  starts(): Promise<ToolStart[]>;
  remove(): Promise<void>;
}

/** Stand-ins for the PostgreSQL tools of `pgBinDir` (when given) and for the commands `onPath`. */
export async function recordingTools(
  options: { pgBinDir?: string; onPath?: string[] } = {},
): Promise<RecordingTools> {
  const { pgBinDir, onPath: commands = ['zstd'] } = options;
  const root = await mkdtemp(path.join(tmpdir(), 'lifeboat-recording-'));
  const records = path.join(root, 'records');
  const bin = path.join(root, 'pg-bin');
  const onPath = path.join(root, 'path');
  await Promise.all([records, bin, onPath].map((d) => mkdir(d)));
  const real = (command: string) =>
    execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
  const script = (tool: string, real: string) => `#!/bin/sh
d='${records}'/$$
mkdir -p "$d"
echo '${tool}' > "$d/tool"
cat /proc/$$/cmdline > "$d/argv"
cat /proc/$PPID/cmdline > "$d/parent"
cat /proc/$$/environ > "$d/env"
exec '${real}' "$@"
`;
  const install = async (file: string, text: string) => {
    await writeFile(file, text);
    await chmod(file, 0o755);
  };
  await Promise.all([
    ...(pgBinDir ? ['pg_dump', 'pg_restore', 'psql'] : []).map((tool) =>
      install(path.join(bin, tool), script(tool, path.join(pgBinDir!, tool))),
    ),
    ...commands.map((command) => install(path.join(onPath, command), script(command, real(command)))),
  ]);
  return {
    pgBinDir: bin,
    pathDir: onPath,
    async starts() {
      const dirs = await readdir(records).catch(() => [] as string[]);
      const split = (text: string) => text.split('\0').filter(Boolean);
      return Promise.all(
        dirs.map(async (d) => {
          const read = (f: string) => readFile(path.join(records, d, f), 'utf8').catch(() => '');
          const env = Object.fromEntries(
            split(await read('env')).map((line) => {
              const at = line.indexOf('=');
              return [line.slice(0, at), line.slice(at + 1)];
            }),
          );
          return {
            tool: (await read('tool')).trim(),
            // The shell running the script stands where the tool will: drop `sh` and the script's path.
            argv: split(await read('argv')).slice(2),
            parentArgv: split(await read('parent')),
            env,
          };
        }),
      );
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
