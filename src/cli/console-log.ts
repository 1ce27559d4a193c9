import { SecretMask, type Log, type Reporter } from '../log.js';

/** Log to stderr, outputs to stdout (`name=value`), so scripts can read the outputs. */
export class CliLog implements Log {
  private readonly masker = new SecretMask();
  private progressShown = false;

  constructor(private readonly options: { verbose?: boolean; stream?: NodeJS.WriteStream } = {}) {}

  private get err(): NodeJS.WriteStream {
    return this.options.stream ?? process.stderr;
  }

  private line(text: string): void {
    this.clearProgress();
    this.err.write(`${this.mask(text)}\n`);
  }

  private clearProgress(): void {
    if (this.progressShown && this.err.isTTY) this.err.write('\r\x1b[K');
    this.progressShown = false;
  }

  info(message: string): void {
    this.line(message);
  }
  warning(message: string): void {
    this.line(`warning: ${message}`);
  }
  debug(message: string): void {
    if (this.options.verbose) this.line(`debug: ${message}`);
  }
  progress(message: string): void {
    if (this.err.isTTY) {
      this.err.write(`\r\x1b[K${this.mask(message)}`);
      this.progressShown = true;
    } else {
      this.line(message);
    }
  }
  secret(value: string): void {
    this.masker.add(value);
  }
  mask(text: string): string {
    return this.masker.mask(text);
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.line(`== ${title}`);
    return fn();
  }
  done(): void {
    this.clearProgress();
  }
}

export class CliReporter implements Reporter {
  readonly outputs: Record<string, string> = {};
  constructor(
    private readonly log: Log,
    private readonly options: { json?: boolean; summary?: boolean } = {},
  ) {}
  output(name: string, value: string): void {
    const masked = this.log.mask(value);
    this.outputs[name] = masked;
    if (!this.options.json) process.stdout.write(`${name}=${masked}\n`);
  }
  async summary(markdown: string): Promise<void> {
    if (this.options.summary !== false) process.stderr.write(`\n${this.log.mask(markdown)}\n`);
  }
  flush(): void {
    if (this.options.json) process.stdout.write(`${JSON.stringify(this.outputs, null, 2)}\n`);
  }
}
