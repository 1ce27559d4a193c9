import { createInterface } from 'node:readline/promises';
import { generateIdentity } from '../archive/age/index.js';
import { decryptKeys, parseSettings, parseShowSettings } from '../settings/settings.js';
import { parseBackupId, parseName, parseStore } from '../settings/values.js';
import { Inputs } from '../settings/constants.js';
import { defaultOf } from '../settings/defaults.js';
import { describeError, LifeboatError } from '../errors.js';
import { parseRetentionInputs } from '../settings/keep.js';
import { runMode } from '../run.js';
import { openStore } from '../stores/open.js';
import { HELP, parseCli } from './args.js';
import { listBackups } from './list.js';
import { pinBackup, requireBackupId, unpinBackup } from './pin.js';
import { pruneSet } from './prune.js';
import { showBackup } from './show.js';
import { rekeyCommand } from './rekey-command.js';
import { CliLog, CliReporter } from './console-log.js';

/** The CLI: the same settings and modes as the action, with argv and env as inputs. */
export async function cli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = new CliLog({ verbose: argv.includes('--verbose') });
  // The password of a URL without one (libpq's variable, which the tools and the client read).
  if (env.PGPASSWORD) log.secret(env.PGPASSWORD);
  // Until the inputs are parsed, every failure is a bad input (exit 2), whatever its code:
  // a mistyped key says `key`, a bad store `input`, and both are the caller's to fix.
  let parsing = true;
  // Outputs set before a failure are printed as they would be without --json (a watch's verdict).
  let reporter: CliReporter | undefined;
  try {
    const parsed = parseCli(argv, env);
    const { command, read, flags } = parsed;
    if (flags.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (command === 'keygen') {
      const { identity, recipient } = generateIdentity();
      process.stdout.write(
        `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`,
      );
      return 0;
    }
    if (command === 'list' || command === 'prune' || command === 'pin' || command === 'unpin') {
      const value = (input: string) => read(input).trim() || defaultOf(input);
      const spec = parseStore(read(Inputs.Store));
      const name = parseName(value(Inputs.Name));
      const prune = command === 'prune' ? parseRetentionInputs((i) => read(i).trim(), value) : undefined;
      const backupId =
        command === 'pin' || command === 'unpin'
          ? parseBackupId(requireBackupId(command, read(Inputs.BackupId).trim()))
          : '';
      parsing = false;
      const store = await openStore(spec, { env, log, githubToken: read(Inputs.GithubToken) || undefined });
      try {
        if (command === 'list') await listBackups(store, name, log, { json: flags.json, all: flags.all });
        else if (command === 'pin') await pinBackup(store, name, backupId, flags.reason, log);
        else if (command === 'unpin') await unpinBackup(store, name, backupId, log);
        else {
          const { retention: rules, orphanGraceSeconds } = prune!;
          await pruneSet(
            store,
            name,
            { rules, orphanGraceSeconds, dryRun: flags.dryRun, json: flags.json },
            log,
          );
        }
      } finally {
        await store.close?.();
      }
      return 0;
    }
    if (command === 'rekey') {
      await rekeyCommand(parsed, env, log, () => (parsing = false));
      log.done();
      return 0;
    }
    if (command === 'show') {
      const show = parseShowSettings(read, (value) => log.secret(value));
      parsing = false;
      const store = await openStore(show.store, {
        env,
        log,
        githubToken: read(Inputs.GithubToken) || undefined,
      });
      try {
        await showBackup(store, { ...show, keys: decryptKeys(show.keys)!, json: flags.json });
      } finally {
        await store.close?.();
      }
      return 0;
    }
    const settings = parseSettings(read, (value) => log.secret(value));
    parsing = false;
    reporter = new CliReporter(log, { json: flags.json });
    await runMode(settings, {
      log,
      reporter,
      env,
      prompt: process.stdin.isTTY && !flags.yes ? ask : undefined,
    });
    log.done();
    reporter.flush();
    return 0;
  } catch (error) {
    log.done();
    if (reporter && Object.keys(reporter.outputs).length) reporter.flush();
    process.stderr.write(`error: ${log.mask(describeError(error))}\n`);
    return parsing || (error instanceof LifeboatError && error.code === 'input') ? 2 : 1;
  }
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
