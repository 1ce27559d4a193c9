/**
 * What the demo needs from the machine, checked before anything slow: PostgreSQL client
 * tools and a server that they can dump, and zstd. Anything missing is named in one message
 * with the commands that install it.
 */
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { findPostgres } from './postgres/find-postgres.js';
import { choosePostgres, installCommands, type PostgresPlan } from './postgres/postgres-choice.js';

export type Prerequisites = { ok: true; plan: PostgresPlan } | { ok: false; message: string };

export async function checkPrerequisites(env: NodeJS.ProcessEnv = process.env): Promise<Prerequisites> {
  const [choice, zstd] = await Promise.all([findPostgres(env).then(choosePostgres), onPath('zstd', env)]);
  if ('plan' in choice && zstd) return { ok: true, plan: choice.plan };
  const missing = 'missing' in choice ? choice.missing : {};
  const lines = [
    missing.client,
    missing.server,
    zstd ? undefined : 'zstd (Lifeboat compresses every dump with it)',
  ];
  const install = installCommands({ ...missing, zstd: !zstd });
  const message = [
    'The demo needs PostgreSQL (client tools and a server) and zstd. Missing:',
    ...lines.filter(Boolean).map((line) => `  - ${line}`),
    'Install them, then run `npm run demo` again:',
    `  Debian/Ubuntu:  ${install.debian}`,
    `  macOS:          ${install.macos}`,
    '',
  ].join('\n');
  return { ok: false, message };
}

async function onPath(command: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const found = await access(path.join(dir, command), constants.X_OK).then(
      () => true,
      () => false,
    );
    if (found) return true;
  }
  return false;
}
