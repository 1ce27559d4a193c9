/**
 * The only way code below the entry points talks to the outside world.
 * The action maps it onto @actions/core, the CLI onto stderr, tests onto arrays,
 * so every line passes through one place where secrets are masked.
 */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  /** A transient progress line (bytes, rate); the CLI redraws it, the action prints it sparsely. */
  progress(message: string): void;
  /** Register a value that must never be printed. */
  secret(value: string): void;
  /** The text with every registered secret replaced; for text that leaves by another door (errors, files). */
  mask(text: string): string;
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

export interface Reporter {
  /** Set an output (action) or print it (CLI). */
  output(name: string, value: string): void;
  /** Append markdown to the job summary (action) or print it (CLI). */
  summary(markdown: string): Promise<void>;
}

/** Replaces every registered secret in a string; used by every Log implementation. */
export class SecretMask {
  private readonly secrets = new Set<string>();

  add(value: string | undefined): void {
    if (!value || value.length < 3) return;
    this.secrets.add(value);
    // Tools quote secrets URL-encoded as often as raw.
    const encoded = encodeURIComponent(value);
    if (encoded !== value) this.secrets.add(encoded);
  }

  mask(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is masked whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(s).join('***');
    }
    return out;
  }

  values(): string[] {
    return [...this.secrets];
  }
}

/** A Log that remembers everything; for tests and for building summaries. */
export class MemoryLog implements Log {
  readonly lines: { level: string; message: string }[] = [];
  readonly masker = new SecretMask();

  info(message: string): void {
    this.lines.push({ level: 'info', message: this.masker.mask(message) });
  }
  warning(message: string): void {
    this.lines.push({ level: 'warning', message: this.masker.mask(message) });
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message: this.masker.mask(message) });
  }
  progress(message: string): void {
    this.lines.push({ level: 'progress', message: this.masker.mask(message) });
  }
  secret(value: string): void {
    this.masker.add(value);
  }
  mask(text: string): string {
    return this.masker.mask(text);
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.info(title);
    return fn();
  }
  text(): string {
    return this.lines.map((l) => `${l.level}: ${l.message}`).join('\n');
  }
}

export class MemoryReporter implements Reporter {
  readonly outputs: Record<string, string> = {};
  readonly summaries: string[] = [];
  output(name: string, value: string): void {
    this.outputs[name] = value;
  }
  async summary(markdown: string): Promise<void> {
    this.summaries.push(markdown);
  }
}
