import { decryptBytes, type DecryptKeys } from './age/index.js';
import type { Manifest } from './manifest.js';
import { LifeboatError } from '../errors.js';
import type { CatalogSnapshot } from '../postgres/catalog.js';

/*
 * Archives are read as streams (plain-stream.ts): a drill or a restore never writes the
 * plaintext dump to disk. What is fetched here is the manifest's own encrypted part.
 */

/** The catalog snapshot the backup recorded, decrypted from the manifest. */
export async function readExpectedCatalog(manifest: Manifest, keys: DecryptKeys): Promise<CatalogSnapshot> {
  const plain = await decryptBytes(Buffer.from(manifest.catalog, 'base64'), keys);
  try {
    return JSON.parse(plain.toString('utf8')) as CatalogSnapshot;
  } catch (error) {
    throw new LifeboatError(
      'integrity',
      `The catalog snapshot in the manifest of ${manifest.backupId} is not JSON.`,
      {
        hint: 'The manifest was written by another tool or damaged; use another backup.',
        cause: error,
      },
    );
  }
}
