/**
 * Machine-readable data hidden in an issue or comment body: an HTML comment
 * holding JSON, invisible when GitHub renders the markdown, read back by later
 * runs (the drill history lives in previous drill issues).
 */

/** Accepts the bare name (`lifeboat:drill-data`) or a whole marker comment (`<!-- lifeboat:gate -->`). */
function markerName(marker: string): string {
  return marker
    .replace(/^\s*<!--/, '')
    .replace(/-->\s*$/, '')
    .trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `<!-- name {json} -->`. Inside JSON `<` and `>` only occur in strings, where the
 * `\u003c`/`\u003e` escapes mean the same; without a `>` nothing can end the
 * comment early (`-->`, `--!>`), whatever the values hold.
 */
export function embedData(marker: string, data: unknown): string {
  const json = JSON.stringify(data ?? null)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e');
  return `<!-- ${markerName(marker)} ${json} -->`;
}

/** The data embedded under `marker`, or undefined when the body has none or it does not parse. */
export function extractData<T>(marker: string, body: string | null | undefined): T | undefined {
  if (!body) return undefined;
  const pattern = new RegExp(`<!--\\s*${escapeRegExp(markerName(marker))}\\s+([\\s\\S]*?)\\s*-->`);
  const match = pattern.exec(body);
  if (!match?.[1]) return undefined;
  try {
    // The shape is the caller's to check: bodies can be edited by hand.
    return JSON.parse(match[1]) as T;
  } catch {
    return undefined;
  }
}
