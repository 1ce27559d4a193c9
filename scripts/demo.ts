/**
 * `npm run demo`: the whole Lifeboat cycle on a throwaway local PostgreSQL (see demo-cycle.ts).
 * It first checks the machine, importing nothing heavy, so that a missing PostgreSQL or zstd
 * is reported within a second rather than after a cluster failed to start.
 */
import { checkPrerequisites } from './demo-prerequisites.js';

try {
  const ready = await checkPrerequisites();
  if (!ready.ok) {
    process.stderr.write(ready.message);
    process.exitCode = 1;
  } else {
    const { runDemo } = await import('./demo-cycle.js');
    await runDemo(ready.plan.client.binDir);
  }
} catch (error) {
  process.stderr.write(`\ndemo failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
