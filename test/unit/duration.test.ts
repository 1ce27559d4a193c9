import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, parseDuration } from '../../src/duration.js';

describe('durations', () => {
  it.each([
    ['90m', 5400],
    ['6h', 21600],
    ['7d', 604800],
    ['1h30m', 5400],
    ['45s', 45],
  ])('parses %s', (text, seconds) => expect(parseDuration(text, 'max-age')).toBe(seconds));

  it.each(['', '10', 'h', '5 years', '-1h', '0m'])('rejects %j naming the input', (text) => {
    expect(() => parseDuration(text, 'max-age')).toThrow(/max-age/);
  });

  it('formats durations and sizes for people', () => {
    expect(formatDuration(3725)).toBe('1h 2m 5s');
    expect(formatDuration(42)).toBe('42s');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    // A rate under 1 KiB/s is a fraction of bytes: rounded, never 36.74855202716198 B.
    expect(formatBytes(36.74855202716198)).toBe('37 B');
  });
});
