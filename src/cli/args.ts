import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Inputs } from '../constants.js';
import { LifeboatError } from '../errors.js';
import type { InputReader } from '../config.js';

export const COMMANDS = ['backup', 'list', 'prune', 'gate', 'drill', 'restore', 'keygen', 'help'] as const;
export type Command = (typeof COMMANDS)[number];

/** Every action input is also a flag of the same name; a few short aliases and env fallbacks. */
const ALIASES: Record<string, string> = {
  recipient: Inputs.EncryptionRecipient,
  identity: Inputs.EncryptionIdentity,
  passphrase: Inputs.EncryptionPassphrase,
};

const ENV_FALLBACKS: Record<string, string[]> = {
  [Inputs.DatabaseUrl]: ['DATABASE_URL'],
  [Inputs.TargetUrl]: ['LIFEBOAT_TARGET_URL'],
  [Inputs.Store]: ['LIFEBOAT_STORE'],
  [Inputs.Name]: ['LIFEBOAT_NAME'],
  [Inputs.EncryptionRecipient]: ['LIFEBOAT_RECIPIENT'],
  [Inputs.EncryptionIdentity]: ['LIFEBOAT_IDENTITY'],
  [Inputs.EncryptionPassphrase]: ['LIFEBOAT_PASSPHRASE'],
  [Inputs.GithubToken]: ['GITHUB_TOKEN'],
  [Inputs.PgBinDir]: ['LIFEBOAT_PG_BIN_DIR'],
};

export interface ParsedCli {
  command: Command;
  read: InputReader;
  flags: { json: boolean; verbose: boolean; dryRun: boolean; yes: boolean; help: boolean };
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedCli {
  const [first, ...rest] = argv;
  const command = (first && !first.startsWith('-') ? first : 'help') as Command;
  if (!COMMANDS.includes(command)) {
    throw new LifeboatError('input', `Unknown command "${first}"; commands: ${COMMANDS.join(', ')}.`, {
      hint: 'Run `lifeboat help` for usage.',
    });
  }
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
    yes: { type: 'boolean' },
    help: { type: 'boolean' },
    'identity-file': { type: 'string' },
    'passphrase-file': { type: 'string' },
  };
  for (const name of Object.values(Inputs))
    options[name] = { type: name === Inputs.DryRun ? 'boolean' : 'string' };
  for (const alias of Object.keys(ALIASES)) options[alias] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: first && !first.startsWith('-') ? rest : argv,
      options,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new LifeboatError('input', (error as Error).message, {
      hint: `Run \`lifeboat ${command} --help\` for the flags.`,
    });
  }
  const fileInputs: Record<string, string | undefined> = {
    [Inputs.EncryptionIdentity]: readKeyFile(values['identity-file'] as string | undefined, 'identity-file'),
    [Inputs.EncryptionPassphrase]: readKeyFile(
      values['passphrase-file'] as string | undefined,
      'passphrase-file',
    )?.trim(),
  };
  const read: InputReader = (name) => {
    if (name === Inputs.Mode) return command;
    if (name === Inputs.DryRun) return values[Inputs.DryRun] ? 'true' : '';
    const alias = Object.entries(ALIASES).find(([, input]) => input === name)?.[0];
    const flag = (values[name] ?? (alias ? values[alias] : undefined) ?? fileInputs[name]) as
      string | undefined;
    if (flag !== undefined) return flag;
    for (const variable of ENV_FALLBACKS[name] ?? []) {
      const value = env[variable];
      if (value) return name === Inputs.EncryptionIdentity ? identityFromEnv(value) : value;
    }
    if (name === Inputs.Store) return './backups';
    return '';
  };
  return {
    command,
    read,
    flags: {
      json: Boolean(values.json),
      verbose: Boolean(values.verbose),
      dryRun: Boolean(values[Inputs.DryRun]),
      yes: Boolean(values.yes),
      help: Boolean(values.help) || command === 'help',
    },
  };
}

function readKeyFile(file: string | undefined, flag: string): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new LifeboatError(
      'input',
      `Cannot read --${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      {
        hint: 'Pass the path of the key file written by age-keygen.',
      },
    );
  }
}

/** LIFEBOAT_IDENTITY may hold the key itself or the path of a key file. */
function identityFromEnv(value: string): string {
  if (value.trim().startsWith('AGE-SECRET-KEY-') || value.includes('\n')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch {
    return value;
  }
}

export const HELP = `lifeboat — keep PostgreSQL recoverable

Usage:
  lifeboat backup  --database-url URL --store DIR|s3://…|actions-cache --recipient age1… [--identity-file key.txt] [--name production] [--keep 14] [--dump-jobs 4]
  lifeboat list    --store DIR [--name production]
  lifeboat prune   --store DIR --keep 14|30d [--dry-run]
  lifeboat gate    --store DIR [--max-age 24h] [--require readable] [--database-url URL]
  lifeboat drill   --store DIR --target-url URL --identity-file key.txt [--rto-target 30m] [--rpo-target 24h]
  lifeboat restore --store DIR --target-url URL --identity-file key.txt [--backup-id ID] [--dry-run] [--tables a.b,c.d]
  lifeboat keygen  (prints a new age identity and its recipient)

Every action input is also a flag of the same name (--encryption-recipient, --pg-bin-dir, …).
Environment fallbacks: DATABASE_URL, LIFEBOAT_TARGET_URL, LIFEBOAT_STORE, LIFEBOAT_NAME,
LIFEBOAT_RECIPIENT, LIFEBOAT_IDENTITY (a key or a key file path), LIFEBOAT_PASSPHRASE.
The store defaults to ./backups.

Outputs are printed to stdout as name=value lines (--json for one JSON object);
progress and the summary go to stderr. Exit status 0 on success, 1 on failure, 2 on bad usage.`;
