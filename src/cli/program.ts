import { createInterface } from 'node:readline/promises';
import { generateIdentity } from '../archive/age/index.js';
import { decryptKeys, parseSettings, parseShowSettings } from '../settings/settings.js';
import { parseStore } from '../settings/values.js';
import { Inputs } from '../settings/constants.js';
import { defaultOf } from '../settings/defaults.js';
import { describeError, LifeboatError } from '../errors.js';
import { parseRetention } from '../settings/keep.js';
import { applyRetention } from '../backup/index.js';
import { runMode } from '../run.js';
import { openStore } from '../stores/open.js';
import { listBackupIds } from '../stores/store.js';
import { HELP, parseCli } from './args.js';
import { listBackups } from './list.js';
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
    if (command === 'list' || command === 'prune') {
      const keep = command === 'prune' ? read(Inputs.Keep) : '';
      if (command === 'prune' && !keep)
        throw new LifeboatError('input', 'prune needs --keep (a count like 14 or an age like 30d).');
      const retention = keep ? parseRetention(keep) : undefined;
      const spec = parseStore(read(Inputs.Store));
      parsing = false;
      const store = await openStore(spec, {
        env,
        log,
        githubToken: read(Inputs.GithubToken) || undefined,
      });
      const name = read(Inputs.Name) || defaultOf(Inputs.Name);
      try {
        if (command === 'list') {
          await listBackups(store, name, log, flags.json);
        } else {
          const newest = (await listBackupIds(store, name))[0];
          if (newest) await applyRetention(store, name, retention!, newest, log, { dryRun: flags.dryRun });
          else log.info(`No backups of "${name}" in ${store.location}.`);
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
