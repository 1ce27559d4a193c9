/**
 * Cleanup that must finish before the process dies of SIGINT or SIGTERM, such as dropping
 * a drill database on a server that outlives the job. A cancelled GitHub Actions job gets
 * SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that; cleanups get
 * CLEANUP_LIMIT_MS of that time, then the process dies by the signal it got, as it would
 * have without them. A second signal during cleanup ends the process at once.
 */
const CLEANUP_LIMIT_MS = 5_000;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

const cleanups = new Set<() => Promise<unknown>>();
let interrupted: NodeJS.Signals | undefined;

/** Runs `cleanup` if a signal arrives before the returned function is called. */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  if (cleanups.size === 0) for (const signal of SIGNALS) process.on(signal, handle);
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0 && !interrupted) unhook();
  };
}

function unhook(): void {
  for (const signal of SIGNALS) process.off(signal, handle);
}

function handle(signal: NodeJS.Signals): void {
  if (interrupted) return die(signal);
  interrupted = signal;
  process.stderr.write(`Lifeboat got ${signal}: cleaning up before it stops.\n`);
  const limit = new Promise((resolve) => setTimeout(resolve, CLEANUP_LIMIT_MS).unref());
  const all = Promise.allSettled([...cleanups].map((cleanup) => cleanup()));
  void Promise.race([all, limit]).then(() => die(signal));
}

function die(signal: NodeJS.Signals): void {
  unhook();
  cleanups.clear();
  // Die by the signal (exit status 128 + n), unless someone else took charge of it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
