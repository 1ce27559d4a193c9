import { LifeboatError } from './errors.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses `90s`, `90m`, `6h`, `7d`, `2w` (or a combination like `1h30m`) into seconds. */
export function parseDuration(text: string, inputName: string): number {
  const trimmed = text.trim().toLowerCase();
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([smhdw])/g)];
  const consumed = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || consumed.replace(/\s/g, '') !== trimmed.replace(/\s/g, '')) {
    throw new LifeboatError('input', `Input \`${inputName}\` is not a duration: "${text}".`, {
      hint: 'Use a number with a unit: `90m`, `6h`, `7d` (units s, m, h, d, w).',
    });
  }
  const seconds = parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2]!] ?? 0), 0);
  if (!(seconds > 0)) {
    throw new LifeboatError('input', `Input \`${inputName}\` must be longer than zero: "${text}".`, {
      hint: 'Use a positive duration such as `24h`.',
    });
  }
  return seconds;
}

/** `3725` → `1h 2m 5s`; short and readable for summaries. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, !d && sec && `${sec}s`].filter(Boolean);
  return parts.join(' ');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
