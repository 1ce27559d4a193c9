/**
 * Cleanup that must finish before the process dies of SIGINT or SIGTERM, such as dropping
 * a drill database on a server that outlives the job. A cancelled GitHub Actions job gets
 * SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that; cleanups get
 * CLEANUP_LIMIT_MS of that time, then the process dies by the signal it got, as it would
 * have without them. A second signal during cleanup ends the process at once.
 */
const CLEANUP_LIMIT_MS = 5_000;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

type Cleanup = () => Promise<unknown>;

const cleanups = new Set<Cleanup>();
const running: Promise<unknown>[] = [];
let hooked = false;
let interrupted: NodeJS.Signals | undefined;

/** Runs `cleanup` if a signal arrives before the returned function is called. */
export function onInterrupt(cleanup: Cleanup): () => void {
  if (interrupted) {
    // Registered while the process is already stopping: clean up now, within the same limit.
    running.push(start(cleanup));
    return () => undefined;
  }
  if (!hooked) for (const signal of SIGNALS) process.on(signal, handle);
  hooked = true;
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0 && !interrupted) unhook();
  };
}

function unhook(): void {
  for (const signal of SIGNALS) process.off(signal, handle);
  hooked = false;
}

/** A cleanup that throws at once fails like one that rejects: it never stops the others. */
function start(cleanup: Cleanup): Promise<unknown> {
  return Promise.resolve().then(cleanup);
}

function handle(signal: NodeJS.Signals): void {
  if (interrupted) return die(signal);
  interrupted = signal;
  process.stderr.write(`Lifeboat got ${signal}: cleaning up before it stops.\n`);
  running.push(...[...cleanups].map(start));
  cleanups.clear();
  const limit = new Promise((resolve) => setTimeout(resolve, CLEANUP_LIMIT_MS).unref());
  // Cleanups registered by the ones running are awaited too.
  const all = (async () => {
    let seen = 0;
    while (seen < running.length) {
      const batch = running.slice(seen);
      seen = running.length;
      await Promise.allSettled(batch);
    }
  })();
  void Promise.race([all, limit]).then(() => die(signal));
}

function die(signal: NodeJS.Signals): void {
  unhook();
  // Die by the signal (exit status 128 + n), unless another handler took charge of it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
