import { expect, it } from 'vitest';
import { LIFEBOAT_VERSION } from '../../src/version.js';
import pkg from '../../package.json' with { type: 'json' };

it('reports the same version as package.json', () => {
  expect(LIFEBOAT_VERSION).toBe(pkg.version);
});
