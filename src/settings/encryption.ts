import {
  recipientOf,
  parseIdentities,
  parseRecipients,
  type DecryptKeys,
  type EncryptKeys,
} from '../archive/age/index.js';
import { LifeboatError } from '../errors.js';
import type { StoreSpec } from '../stores/store.js';
import { Inputs } from './constants.js';

/**
 * The age keys or passphrase of a run: parsed from the inputs once, required by the modes
 * that write or read a backup, and handed to the archive layer in its own shapes.
 */
export interface Keys {
  recipients: string[];
  identities: string[];
  passphrase?: string;
}

export function parseKeys(read: (name: string) => string, secret: (value: string) => void): Keys {
  const recipients = read(Inputs.EncryptionRecipient).trim()
    ? parseRecipients(read(Inputs.EncryptionRecipient), Inputs.EncryptionRecipient)
    : [];
  const identities = read(Inputs.EncryptionIdentity).trim()
    ? parseIdentities(read(Inputs.EncryptionIdentity), Inputs.EncryptionIdentity)
    : [];
  identities.forEach(secret);
  const passphrase = read(Inputs.EncryptionPassphrase) || undefined;
  if (passphrase && (recipients.length || identities.length)) {
    throw new LifeboatError(
      'input',
      'Inputs `encryption-passphrase` and `encryption-recipient`/`encryption-identity` cannot be combined.',
      {
        hint: 'Use age keys (recommended: backups need only the public key) or a passphrase, not both.',
      },
    );
  }
  // An identity alone can encrypt too: its recipient is derived from it.
  const all = recipients.length ? recipients : identities.map(recipientOf);
  return { recipients: all, identities, passphrase };
}

export function requireEncryptKey(keys: Keys, store: StoreSpec): void {
  if (keys.recipients.length || keys.passphrase) return;
  const why =
    store.kind === 'actions-cache'
      ? ' The actions-cache store is readable by pull requests from forks, so backups there must be encrypted.'
      : ' Lifeboat never stores an unencrypted backup.';
  throw new LifeboatError(
    'input',
    `Mode \`backup\` needs \`encryption-recipient\` (an age public key) or \`encryption-passphrase\`.${why}`,
    {
      hint: 'Generate a key pair with `age-keygen -o key.txt`, keep key.txt secret, and pass its public key (age1…) as encryption-recipient.',
    },
  );
}

export function requireDecryptKey(keys: Keys, mode: string): void {
  if (keys.identities.length || keys.passphrase) return;
  throw new LifeboatError(
    'input',
    `Mode \`${mode}\` needs \`encryption-identity\` (AGE-SECRET-KEY-1…) or \`encryption-passphrase\` to read the backup.`,
    {
      hint: 'Store the identity in a protected GitHub environment and pass it as `${{ secrets.LIFEBOAT_IDENTITY }}`.',
    },
  );
}

/** The keys a backup is encrypted to. */
export function encryptKeys(keys: Keys): EncryptKeys {
  if (keys.passphrase) return { passphrase: keys.passphrase };
  if (keys.recipients.length) return { recipients: keys.recipients };
  throw new LifeboatError('input', 'No encryption key: pass encryption-recipient or encryption-passphrase.');
}

/** The keys a backup is read with, or undefined when only the public key was given. */
export function decryptKeys(keys: Keys): DecryptKeys | undefined {
  if (keys.passphrase) return { passphrase: keys.passphrase };
  if (keys.identities.length) return { identities: keys.identities };
  return undefined;
}
