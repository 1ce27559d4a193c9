import { describe, expect, it } from 'vitest';
import { cleanReason, MAX_PIN_REASON } from '../../src/archive/pins.js';

describe('a pin reason', () => {
  it('becomes one line of printable text: no terminal escapes, line breaks or bidi overrides', () => {
    expect(cleanReason('before\u001b[31m red\r\nnext\tline\u0007')).toBe('before [31m red next line');
    // A right-to-left override would show a file name or id reversed in a terminal.
    expect(cleanReason('keep \u202egnp.exe\u202c this')).toBe('keep gnp.exe this');
    expect(cleanReason('  spaced   out  ')).toBe('spaced out');
  });

  it(`is cut to ${MAX_PIN_REASON} characters, saying so`, () => {
    const long = cleanReason('x'.repeat(1000));
    expect(long).toHaveLength(MAX_PIN_REASON);
    expect(long.endsWith('…')).toBe(true);
  });
});
