import { parseIdentities, parseRecipients, recipientOf } from '../archive/age/index.js';
import { LifeboatError } from '../errors.js';
import type { Log } from '../log.js';
import { runRekey } from '../rekey/index.js';
import { parseCopyBackupId } from '../settings/copy-values.js';
import { Inputs } from '../settings/constants.js';
import { defaultOf } from '../settings/defaults.js';
import { decryptKeys, parseKeys, requireDecryptKey } from '../settings/encryption.js';
import { newIdentityFromEnv } from '../settings/environment.js';
import { parseName, parseStore } from '../settings/values.js';
import { openStore } from '../stores/open.js';
import { identityFromEnv, type ParsedCli } from './args.js';
import { CliReporter } from './console-log.js';

/**
 * `lifeboat rekey --recipient NEW [--recipient NEW2] [--backup-id ID | --all]`: the old
 * identity (or passphrase) from LIFEBOAT_IDENTITY / --identity-file reads the backups; the
 * new identity, from LIFEBOAT_NEW_IDENTITY / --new-identity-file, proves the new archives
 * readable. Both stay off the command line.
 */
export async function rekeyCommand(
  parsed: ParsedCli,
  env: NodeJS.ProcessEnv,
  log: Log,
  /** Called once the arguments are accepted: later failures are not bad usage. */
  accepted: () => void,
): Promise<void> {
  const { read } = parsed;
  const secret = (value: string) => log.secret(value);
  // The recipient flags name the new keys here, not the ones the backups were written for.
  const old = parseKeys((name) => (name === Inputs.EncryptionRecipient ? '' : read(name)), secret);
  requireDecryptKey(old, 'rekey');
  if (!parsed.rekey.recipients.length) {
    throw new LifeboatError(
      'input',
      'rekey needs --recipient age1…: the public key the backups are re-encrypted to.',
      {
        hint: 'Generate the new key pair with `lifeboat keygen` (or age-keygen); repeat --recipient for several.',
      },
    );
  }
  const recipients = parseRecipients(parsed.rekey.recipients.join('\n'), '--recipient');
  const newText = parsed.rekey.newIdentity ?? newIdentityFromEnv(env);
  const newIdentities = newText
    ? parseIdentities(identityFromEnv(newText), 'LIFEBOAT_NEW_IDENTITY')
    : undefined;
  newIdentities?.forEach(secret);
  for (const identity of newIdentities ?? []) {
    if (!recipients.includes(recipientOf(identity))) {
      throw new LifeboatError(
        'input',
        'The new identity (LIFEBOAT_NEW_IDENTITY) is not one of the --recipient keys.',
        {
          hint: `Its public key is ${recipientOf(identity)}; pass it as --recipient, or give the identity that matches the new recipient.`,
        },
      );
    }
  }
  const spec = parseStore(read(Inputs.Store));
  const name = parseName(read(Inputs.Name) || defaultOf(Inputs.Name));
  const backupId = parseCopyBackupId(read(Inputs.BackupId) || defaultOf(Inputs.BackupId));
  accepted();
  const store = await openStore(spec, { env, log, githubToken: read(Inputs.GithubToken) || undefined });
  try {
    const done = await runRekey({
      store,
      name,
      backupId,
      keys: { old: decryptKeys(old)!, recipients, newIdentities },
      pgBinDir: read(Inputs.PgBinDir) || undefined,
      log,
      env,
    });
    const reporter = new CliReporter(log, { json: parsed.flags.json });
    reporter.output('rekeyed', String(done.filter((d) => d.result === 'rekeyed').length));
    reporter.output('unchanged', String(done.filter((d) => d.result === 'already').length));
    reporter.flush();
  } finally {
    await store.close?.();
  }
}
