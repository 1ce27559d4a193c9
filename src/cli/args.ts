import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Inputs } from '../settings/constants.js';
import { CLI_DEFAULT_STORE } from '../settings/defaults.js';
import { cliEnvFallback } from '../settings/environment.js';
import { LifeboatError } from '../errors.js';
import type { InputReader } from '../settings/settings.js';

export const COMMANDS = [
  'backup',
  'list',
  'show',
  'prune',
  'pin',
  'unpin',
  'gate',
  'drill',
  'restore',
  'refresh',
  'watch',
  'keygen',
  'copy',
  'rekey',
  'help',
] as const;
export type Command = (typeof COMMANDS)[number];

/** Every action input is also a flag of the same name, and a few short aliases (env fallbacks: settings/environment.ts). */
const ALIASES: Record<string, string> = {
  recipient: Inputs.EncryptionRecipient,
  identity: Inputs.EncryptionIdentity,
  passphrase: Inputs.EncryptionPassphrase,
  to: Inputs.CopyTo,
};

export interface ParsedCli {
  command: Command;
  read: InputReader;
  flags: {
    json: boolean;
    verbose: boolean;
    dryRun: boolean;
    yes: boolean;
    help: boolean;
    /** `list --all`: incomplete objects too. */
    all: boolean;
    /** `pin --reason TEXT`. */
    reason: string;
  };
  /** What only `rekey` reads: the new recipients as given on the command line, and the new identity's file. */
  rekey: { recipients: string[]; newIdentity?: string };
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedCli {
  const [first, ...rest] = argv;
  const command = (first && !first.startsWith('-') ? first : 'help') as Command;
  if (!COMMANDS.includes(command)) {
    throw new LifeboatError('input', `Unknown command "${first}"; commands: ${COMMANDS.join(', ')}.`, {
      hint: 'Run `lifeboat help` for usage.',
    });
  }
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
    yes: { type: 'boolean' },
    help: { type: 'boolean' },
    all: { type: 'boolean' },
    reason: { type: 'string' },
    'identity-file': { type: 'string' },
    'passphrase-file': { type: 'string' },
    'database-ca-file': { type: 'string' },
    'new-identity-file': { type: 'string' },
    // Defined only to be refused with a way that keeps the key off the command line.
    'new-identity': { type: 'string' },
  };
  const switches: string[] = [
    Inputs.DryRun,
    Inputs.RestoreRoleLogins,
    Inputs.Pin,
    Inputs.RestoreStorage,
    Inputs.StorageDeleteExtra,
  ];
  for (const name of Object.values(Inputs))
    options[name] = { type: switches.includes(name) ? 'boolean' : 'string' };
  for (const alias of Object.keys(ALIASES)) options[alias] = { type: 'string' };
  // `rekey --recipient A --recipient B`: several new recipients.
  options.recipient = { type: 'string', multiple: true };
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: first && !first.startsWith('-') ? rest : argv,
      options,
      strict: true,
      // `lifeboat show <backup-id>` (and pin, unpin): commands that name their object without a flag.
      allowPositionals: ['show', 'pin', 'unpin'].includes(command),
    });
    values = parsed.values as typeof values;
    positionals = parsed.positionals;
    if (positionals.length > 1) throw new Error(`${command} takes one backup id, not ${positionals.length}.`);
  } catch (error) {
    throw new LifeboatError('input', (error as Error).message, {
      hint: `Run \`lifeboat ${command} --help\` for the flags.`,
    });
  }
  refuseSecretsOnArgv(values);
  if (values.all && values[Inputs.BackupId]) {
    throw new LifeboatError('input', '--all and --backup-id cannot be combined.', {
      hint: 'Give one backup id, or --all for every backup of the set.',
    });
  }
  const recipientFlags = [values.recipient ?? []].flat() as string[];
  if (values['identity-file'] === '-' && values['passphrase-file'] === '-') {
    throw new LifeboatError(
      'input',
      'Only one of --identity-file and --passphrase-file can read standard input.',
      {
        hint: 'Give the other one as a file path or through its environment variable.',
      },
    );
  }
  const fileInputs: Record<string, string | undefined> = {
    [Inputs.EncryptionIdentity]: readKeyFile(values['identity-file'] as string | undefined, 'identity-file'),
    [Inputs.EncryptionPassphrase]: readKeyFile(
      values['passphrase-file'] as string | undefined,
      'passphrase-file',
    )?.trim(),
    [Inputs.DatabaseCa]: readKeyFile(values['database-ca-file'] as string | undefined, 'database-ca-file'),
  };
  const read: InputReader = (name) => {
    if (name === Inputs.Mode) return command;
    if (switches.includes(name)) return values[name] ? 'true' : '';
    if (name === Inputs.BackupId && positionals[0]) return positionals[0];
    if (name === Inputs.BackupId && values.all) return 'all';
    if (name === Inputs.EncryptionRecipient && recipientFlags.length && !values[name])
      return recipientFlags.join('\n');
    const alias = Object.entries(ALIASES).find(([, input]) => input === name)?.[0];
    const flag = (values[name] ?? (alias ? values[alias] : undefined) ?? fileInputs[name]) as
      string | undefined;
    if (flag !== undefined) return flag;
    const value = cliEnvFallback(name, env);
    if (value) return name === Inputs.EncryptionIdentity ? identityFromEnv(value) : value;
    if (name === Inputs.Store) return CLI_DEFAULT_STORE;
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
      all: Boolean(values.all),
      reason: typeof values.reason === 'string' ? values.reason : '',
    },
    rekey: {
      recipients: [values[Inputs.EncryptionRecipient] ?? [], recipientFlags].flat() as string[],
      newIdentity: readKeyFile(values['new-identity-file'] as string | undefined, 'new-identity-file'),
    },
  };
}

/**
 * Any user of the machine can read a process's command line (`ps`, /proc/<pid>/cmdline) for
 * as long as it runs, so a secret given as a flag is refused before anything starts, with
 * the environment variable or file flag that keeps it off the command line.
 */
function refuseSecretsOnArgv(values: Record<string, string | boolean | string[] | undefined>): void {
  const refuse = (flag: string, instead: string) =>
    new LifeboatError(
      'input',
      `--${flag} would put a secret on the command line, where any user of this machine can read it (ps).`,
      {
        hint: `Use ${instead} instead.`,
      },
    );
  const urls: [string, string][] = [
    [Inputs.DatabaseUrl, 'DATABASE_URL'],
    [Inputs.TargetUrl, 'LIFEBOAT_TARGET_URL'],
  ];
  for (const [flag, variable] of urls) {
    const value = values[flag];
    if (typeof value === 'string' && urlHasPassword(value)) {
      throw refuse(
        flag,
        `the environment variable ${variable} for a URL with a password (or keep the password out of the URL: PGPASSWORD, ~/.pgpass)`,
      );
    }
  }
  for (const flag of [Inputs.EncryptionIdentity, 'identity']) {
    if (values[flag] !== undefined)
      throw refuse(flag, '--identity-file FILE (- for standard input) or LIFEBOAT_IDENTITY');
  }
  if (values['new-identity'] !== undefined)
    throw refuse('new-identity', '--new-identity-file FILE or LIFEBOAT_NEW_IDENTITY');
  for (const flag of [Inputs.EncryptionPassphrase, 'passphrase']) {
    if (values[flag] !== undefined)
      throw refuse(flag, '--passphrase-file FILE (- for standard input) or LIFEBOAT_PASSPHRASE');
  }
  // The mask key decides every masked value: with it, a masked email can be matched to its original.
  if (values[Inputs.MaskKey] !== undefined)
    throw refuse(Inputs.MaskKey, 'the environment variable LIFEBOAT_MASK_KEY');
  if (values[Inputs.GithubToken]) throw refuse(Inputs.GithubToken, 'the environment variable GITHUB_TOKEN');
  // Whoever holds a webhook or heartbeat URL can post to the channel or silence the alarm.
  if (values[Inputs.NotifyUrl])
    throw refuse(Inputs.NotifyUrl, 'the environment variable LIFEBOAT_NOTIFY_URL');
  if (values[Inputs.HeartbeatUrl])
    throw refuse(Inputs.HeartbeatUrl, 'the environment variable LIFEBOAT_HEARTBEAT_URL');
}

/** A password in the user part of a URL, or as a `password` parameter of its query or of a key=value string. */
export function urlHasPassword(value: string): boolean {
  const text = value.trim();
  try {
    const url = new URL(text);
    return url.password !== '' || url.searchParams.has('password');
  } catch {
    // Not a URL the settings would accept either (user:p@ss@host, libpq's key=value form): look all the same.
    return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(text) || /(^|[\s?&])password\s*=/i.test(text);
  }
}

function readKeyFile(file: string | undefined, flag: string): string | undefined {
  if (!file) return undefined;
  try {
    // `-`: standard input, so a key can come from a password manager's pipe and touch no disk.
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new LifeboatError(
      'input',
      `Cannot read --${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      {
        hint:
          flag === 'database-ca-file'
            ? 'Pass the path of the CA certificate (PEM).'
            : 'Pass the path of the key file written by age-keygen, or - to read it from standard input.',
      },
    );
  }
}

/** LIFEBOAT_IDENTITY may hold the key itself or the path of a key file. */
export function identityFromEnv(value: string): string {
  if (value.trim().startsWith('AGE-SECRET-KEY-') || value.includes('\n')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch {
    return value;
  }
}

export const HELP = `lifeboat — keep PostgreSQL recoverable

Usage:
  lifeboat backup  --store DIR|s3://…|actions-cache --recipient age1… [--identity-file key.txt] [--name production] [--keep 14] [--dump-jobs N] [--pin] [--storage-url URL]
  lifeboat list    --store DIR [--name production] [--all]  (--all: incomplete objects too, with age and size)
  lifeboat show    BACKUP-ID --store DIR --identity-file key.txt [--json]  (what a backup holds, roles included)
  lifeboat prune   --store DIR [--keep 14|30d] [--keep-daily 7] [--keep-weekly 4] [--keep-monthly 12]
                   [--keep-yearly 3] [--orphan-grace 24h] [--dry-run]  (prints every backup and what keeps it)
  lifeboat pin     BACKUP-ID|latest --store DIR [--reason TEXT]  (no retention rule deletes it)
  lifeboat unpin   BACKUP-ID|latest --store DIR
  lifeboat gate    --store DIR [--max-age 24h] [--require readable]
  lifeboat drill   --store DIR --identity-file key.txt [--rto-target 30m] [--rpo-target 24h] [--restore-role-logins]
  lifeboat restore --store DIR --identity-file key.txt [--backup-id ID] [--dry-run] [--tables a.b,c.d] [--restore-role-logins]
  lifeboat restore --restore-storage --storage-url URL [--storage-buckets a,b] [--storage-prefix P] [--storage-delete-extra] …
  lifeboat refresh --store DIR --identity-file key.txt [--mask-config .github/lifeboat-mask.yml] [--confirm TARGET] [--dry-run]
  lifeboat watch   --store DIR [--names production,staging] [--max-age 26h] [--require readable] [--drill-max-age 35d]
  lifeboat copy    --store DIR --to DIR|s3://…|actions-cache [--backup-id ID | --all] [--keep 14]  (no key needed)
  lifeboat rekey   --store DIR --identity-file old.txt --recipient age1… [--recipient age1…] [--backup-id ID | --all]
                   (LIFEBOAT_NEW_IDENTITY or --new-identity-file proves each new archive readable)
  lifeboat keygen  (prints a new age identity and its recipient)
backup (and gate, to check migrations) read the database URL from DATABASE_URL;
drill, restore and refresh read the target's from LIFEBOAT_TARGET_URL.

Every action input is also a flag of the same name (--encryption-recipient, --pg-bin-dir, …),
except secrets: a database URL with a password, an identity, a passphrase, a GitHub token,
a webhook or heartbeat URL on the command line is refused (any user of the machine can read
it there). Give them as:
  DATABASE_URL, LIFEBOAT_TARGET_URL    database URLs (one without a password may be a flag)
  LIFEBOAT_IDENTITY, --identity-file   the age identity: the key or a key file; - reads standard input
  LIFEBOAT_PASSPHRASE, --passphrase-file
  GITHUB_TOKEN
  LIFEBOAT_MASK_KEY                    refresh's HMAC key for masked values
  LIFEBOAT_NOTIFY_URL, LIFEBOAT_HEARTBEAT_URL
  LIFEBOAT_STORAGE_ACCESS_KEY_ID, LIFEBOAT_STORAGE_SECRET_ACCESS_KEY   Storage's S3 access keys
Other environment fallbacks: LIFEBOAT_STORE, LIFEBOAT_NAME, LIFEBOAT_RECIPIENT, LIFEBOAT_PG_BIN_DIR,
LIFEBOAT_DATABASE_CA (the CA certificate as text or a file path; or --database-ca-file).
The store defaults to ${CLI_DEFAULT_STORE}.

Outputs are printed to stdout as name=value lines (--json for one JSON object);
progress and the summary go to stderr. Exit status 0 on success, 1 on failure, 2 on bad usage.`;
