/**
 * age encryption for Lifeboat archives, streaming and interoperable with the age CLI:
 * `age -d -i key.txt BACKUP` reads what these streams write, and the other way round.
 */
export type { AgeKeys, DecryptKeys, EncryptKeys } from './keys.js';
export { generateIdentity, parseIdentities, parseRecipients, recipientOf } from './keys.js';
export { createDecryptStream, createEncryptStream, decryptBytes, encryptBytes } from './stream.js';
