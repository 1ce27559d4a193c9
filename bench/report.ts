import type { StorageBench } from './storage.js';
/**
 * Ratios, targets and the markdown report of a benchmark run: pure functions of the
 * results, so the JSON written to bench/results can be re-rendered later.
 */
import type { CryptoThroughput } from './age-throughput.js';
import type { MaskingResult } from './masking.js';
import type { Measurement } from './measure.js';
import type { Step, SuiteResult } from './suite.js';

export interface BenchResults {
  startedAt: string;
  seconds: number;
  machine: { cpus: number; model: string; memoryBytes: number; node: string; tools: Record<string, string> };
  cli: string;
  options: { sizes: number[]; rounds: number; profile: boolean; dumpJobs?: number };
  /** 1-minute load average when the run started and ended, and its range over the steps. */
  load: { start: number; end: number; min: number; max: number };
  suites: SuiteResult[];
  crypto: CryptoThroughput;
  /** Storage objects archived per second (bench/storage.ts); absent with --storage-objects 0. */
  storage?: StorageBench;
  /** A refresh's masking of one table against pg_restore of it (bench/masking.ts). */
  masking?: MaskingResult;
}

export interface Ratios {
  sizeGb: number;
  lifeboatVsFloor: number;
  customZ9VsLifeboat: number;
  gzipVsLifeboat: number;
  archiveVsCustomZ9: number;
  /** Drill wall time / (pg_restore -j + the verification queries). */
  drillVsRestore: number | null;
  lifeboatNodeRssBytes: number;
  lifeboatTreeRssBytes: number;
  floorBytesPerSecond: number;
  /** Lifeboat backup seconds per GB of database on disk. */
  backupSecondsPerGb: number;
  drillSecondsPerGb: number | null;
  /** The drill's temporary directory at its fullest. */
  drillPeakTempBytes: number | null;
  /** One decrypt + decompress pass / pg_restore -j: what each extra drill stream costs. */
  streamVsRestore: number | null;
  restoreJobs: string;
}

export interface Target {
  name: string;
  want: string;
  got: string;
  met: boolean;
}

const MB = 2 ** 20;
const mbps = (bytesPerSecond: number) => `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;
const GB = 2 ** 30;

export function ratios(suite: SuiteResult): Ratios {
  const s = suite.steps;
  const restoreAndVerify = s.restore.seconds + s.restoreVerify.seconds;
  const gb = suite.database.databaseBytes / GB;
  return {
    sizeGb: suite.sizeGb,
    lifeboatVsFloor: s.lifeboat.seconds / s.floor.seconds,
    customZ9VsLifeboat: s.customZ9.seconds / s.lifeboat.seconds,
    gzipVsLifeboat: s.gzip.seconds / s.lifeboat.seconds,
    archiveVsCustomZ9: (s.lifeboat.outputBytes ?? 0) / (s.customZ9.outputBytes ?? 1),
    drillVsRestore: s.drill ? s.drill.seconds / restoreAndVerify : null,
    lifeboatNodeRssBytes: s.lifeboat.peakRssByName.node ?? 0,
    lifeboatTreeRssBytes: s.lifeboat.peakRssBytes,
    floorBytesPerSecond: suite.dumpBytes / s.floor.seconds,
    backupSecondsPerGb: s.lifeboat.seconds / gb,
    drillSecondsPerGb: s.drill ? s.drill.seconds / gb : null,
    drillPeakTempBytes: s.drill?.peakTempBytes ?? null,
    streamVsRestore: s.streamOnce ? s.streamOnce.seconds / s.restore.seconds : null,
    restoreJobs: /-j (\d+)/.exec(s.restore.label)?.[1] ?? '',
  };
}

export function targets(results: BenchResults): Target[] {
  const all = results.suites.map(ratios);
  const list: Target[] = [];
  const st = results.storage;
  if (st)
    list.push({
      name: `Storage: ${st.objects} objects of ${st.objectBytes / 1024} KiB archived`,
      want: `≥ ${st.targetObjectsPerSecond} objects/s`,
      got: `${st.objectsPerSecond.toFixed(0)} objects/s`,
      met: st.objectsPerSecond >= st.targetObjectsPerSecond,
    });
  const x = (n: number) => `${n.toFixed(2)}×`;
  const m = results.masking;
  if (m) {
    list.push({
      name: `Refresh masking ${m.rows} rows × 3 columns vs pg_restore of the table`,
      want: '≤ 3×',
      got: `${x(m.ratio)} (${m.maskSeconds.toFixed(1)} s vs ${m.restoreSeconds.toFixed(1)} s)`,
      met: m.ratio <= 3,
    });
  }
  for (const r of all) {
    const at = `at ${r.sizeGb} GB`;
    list.push(
      {
        name: `Backup wall time vs the floor ${at}`,
        want: '≤ 2× (aim 1.5×)',
        got: x(r.lifeboatVsFloor),
        met: r.lifeboatVsFloor <= 2,
      },
      {
        name: `Faster than pg_dump -Fc --compress=9 ${at}`,
        want: '≥ 3×',
        got: x(r.customZ9VsLifeboat),
        met: r.customZ9VsLifeboat >= 3,
      },
      {
        name: `Archive size vs pg_dump -Fc --compress=9 ${at}`,
        want: '≤ 1.10×',
        got: x(r.archiveVsCustomZ9),
        met: r.archiveVsCustomZ9 <= 1.1,
      },
      {
        name: `Peak RSS of the Lifeboat process ${at}`,
        want: '≤ 150 MB',
        got: `${(r.lifeboatNodeRssBytes / MB).toFixed(0)} MB (whole tree with pg_dump, zstd: ${(r.lifeboatTreeRssBytes / MB).toFixed(0)} MB)`,
        met: r.lifeboatNodeRssBytes <= 150 * MB,
      },
    );
    list.push(
      r.drillVsRestore === null
        ? {
            name: `Drill vs pg_restore -j ${r.restoreJobs} from a plain file + verification ${at}`,
            want: '≤ 1.3×',
            got: 'not measured',
            met: false,
          }
        : {
            name: `Drill vs pg_restore -j ${r.restoreJobs} from a plain file + verification ${at}`,
            want: '≤ 1.3×',
            got: x(r.drillVsRestore),
            met: r.drillVsRestore <= 1.3,
          },
      {
        name: `Peak temporary disk of the drill ${at}`,
        want: '≤ 64 MiB',
        got: r.drillPeakTempBytes === null ? 'not measured' : `${(r.drillPeakTempBytes / MB).toFixed(2)} MiB`,
        met: r.drillPeakTempBytes !== null && r.drillPeakTempBytes <= 64 * MB,
      },
    );
  }
  if (all.length > 1) {
    const rss = all.map((r) => r.lifeboatNodeRssBytes);
    const spread = Math.max(...rss) / Math.min(...rss);
    list.push({
      name: `Memory flat across ${all.map((r) => `${r.sizeGb} GB`).join(' and ')}`,
      want: 'within 20%',
      got: `${rss.map((b) => `${(b / MB).toFixed(0)} MB`).join(' vs ')} (${((spread - 1) * 100).toFixed(0)}%)`,
      met: spread <= 1.2,
    });
  }
  const floorRate = Math.max(...all.map((r) => r.floorBytesPerSecond));
  const c = results.crypto;
  for (const [name, rate] of [
    ['encrypt + SHA-256 (backup)', c.encryptAndHash],
    ['SHA-256 + decrypt (read-back, drill)', c.hashAndDecrypt],
  ] as const) {
    list.push({
      name: `${name} throughput per core vs the floor's rate`,
      want: '≥ 3×',
      got: `${mbps(rate.perCpuSecond)} vs ${mbps(floorRate)} = ${x(rate.perCpuSecond / floorRate)} (wall: ${mbps(rate.wall)})`,
      met: rate.perCpuSecond >= 3 * floorRate,
    });
  }
  return list;
}

function phases(marks: Record<string, number> | undefined): string {
  if (marks?.stored === undefined || marks.verified === undefined) return '';
  return `${(marks.stored - (marks.connected ?? 0)).toFixed(1)} s, ${(marks.verified - marks.stored).toFixed(1)} s`;
}

function cpu(m: Measurement): string {
  return `${m.cpuSeconds.toFixed(1)} + ${(m.serverCpuSeconds ?? 0).toFixed(1)}`;
}

function row(step: Step | Measurement | undefined, label: string, floor: number, dumpBytes: number): string {
  if (!step) return `| ${label} | – | | | | | | | | |`;
  const out = step.outputBytes;
  const rounds = 'rounds' in step && step.rounds ? ` (best of ${step.rounds.length})` : '';
  return [
    '',
    `${label}${rounds}`,
    step.seconds.toFixed(1),
    `${(step.seconds / floor).toFixed(2)}×`,
    (dumpBytes / step.seconds / 1e6).toFixed(0),
    (step.peakRssBytes / MB).toFixed(0),
    step.peakTempBytes === undefined ? '–' : (step.peakTempBytes / MB).toFixed(1),
    out === undefined ? '–' : (out / MB).toFixed(0),
    out === undefined ? '–' : `${(dumpBytes / out).toFixed(2)}`,
    cpu(step),
    step.foreignCores.toFixed(2),
    '',
  ]
    .join(' | ')
    .trim();
}

export function renderSuite(suite: SuiteResult): string {
  const s = suite.steps;
  const floor = s.floor.seconds;
  const d = suite.dumpBytes;
  const r = ratios(suite);
  const lines = [
    `### ${suite.sizeGb} GB: ${(suite.database.databaseBytes / GB).toFixed(2)} GB on disk, ${(d / MB).toFixed(0)} MB as an uncompressed custom dump`,
    '',
    '| Step | Wall s | × floor | Dump MB/s | Peak RSS MB | Peak temp MB | Output MB | Dump ÷ output | CPU s (client + server) | Other load (cores) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row(s.floor, '1. floor: `pg_dump -Fc -Z0 > /dev/null`', floor, d),
    row(s.dumpToFile, '`pg_dump -Fc -Z0 > file` (input of the plain restore)', floor, d),
    row(s.gzip, '2. `pg_dump | gzip > file`', floor, d),
    row(s.customZ9, '2. `pg_dump -Fc --compress=9 > file`', floor, d),
    row(
      s.lifeboat,
      `3. Lifeboat backup (zstd, age, SHA-256, read-back${suite.fingerprints ? ', content fingerprints' : ''})`,
      floor,
      d,
    ),
    row(
      s.restore,
      `4. \`pg_restore -j ${suite.steps.restore.label.match(/-j (\d+)/)?.[1] ?? ''}\` into a fresh database`,
      floor,
      d,
    ),
    row(
      s.restoreVerify,
      `4. verification queries on the restored database (exact counts${suite.fingerprints ? ', content fingerprints' : ''})`,
      floor,
      d,
    ),
    s.drill
      ? row(s.drill, '4. Lifeboat drill (streamed: SHA-256, decrypt, decompress, restore; verify)', floor, d)
      : `| 4. Lifeboat drill | not measured: ${suite.drillSkipped ?? 'unavailable'} | | | | | | | | |`,
    row(
      s.streamOnce,
      '4. one decrypt + decompress pass of the archive (`age -d | zstd -d`), as each drill stream does',
      floor,
      d,
    ),
    ...parallelRows(suite, floor, d),
    '',
    `Lifeboat backup: peak RSS of the node process ${(r.lifeboatNodeRssBytes / MB).toFixed(0)} MB; by process: ${Object.entries(
      s.lifeboat.peakRssByName,
    )
      .map(([name, bytes]) => `${name} ${(bytes / MB).toFixed(0)} MB`)
      .join(', ')}.`,
  ];
  const marks = s.lifeboat.marks;
  if (marks?.stored !== undefined && marks.verified !== undefined) {
    lines.push(
      `Phases of the fastest backup: connect and checks ${(marks.connected ?? 0).toFixed(1)} s, dump + compress + encrypt + store ${(marks.stored - (marks.connected ?? 0)).toFixed(1)} s, read-back ${(marks.verified - marks.stored).toFixed(1)} s, manifest and exit ${(s.lifeboat.seconds - marks.verified).toFixed(1)} s.`,
    );
  }
  if (s.drill?.phases && Object.keys(s.drill.phases).length) {
    lines.push(
      `Drill steps: ${Object.entries(s.drill.phases)
        .map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`)
        .join('; ')}.`,
    );
  }
  lines.push(
    '',
    `Ratios: backup ${r.lifeboatVsFloor.toFixed(2)}× the floor; ${r.customZ9VsLifeboat.toFixed(2)}× faster than \`-Fc --compress=9\` and ${r.gzipVsLifeboat.toFixed(2)}× faster than \`| gzip\`; archive ${r.archiveVsCustomZ9.toFixed(3)}× the size of \`-Fc --compress=9\`'s; drill ${r.drillVsRestore === null ? 'not measured' : `${r.drillVsRestore.toFixed(2)}× (pg_restore -j ${r.restoreJobs} from a plain file + verification)`}${r.streamVsRestore === null ? '' : `; one decrypt + decompress pass takes ${(r.streamVsRestore * 100).toFixed(0)}% of pg_restore -j ${r.restoreJobs}'s time`}. Backup ${r.backupSecondsPerGb.toFixed(1)} s per GB on disk${r.drillSecondsPerGb === null ? '' : `, drill ${r.drillSecondsPerGb.toFixed(1)} s per GB`}.`,
  );
  if (suite.profile) lines.push('', renderProfile(suite));
  return lines.join('\n');
}

/** The parallel dump's rows, ratios against the single-stream backup and drill of the same run. */
function parallelRows(suite: SuiteResult, floor: number, d: number): string[] {
  const s = suite.steps;
  if (!suite.dumpJobs || !s.lifeboatParallel) return [];
  const n = suite.dumpJobs;
  const vs = (a: Step | undefined, b: Step | undefined) =>
    a && b ? ` (${(a.seconds / b.seconds).toFixed(2)}× the single-stream one)` : '';
  const node = s.lifeboatParallel.peakRssByName.node ?? 0;
  return [
    row(
      s.parallelFloor,
      `5. \`pg_dump -Fd -j ${n} -Z0\` to a directory (plaintext on disk; reference)`,
      floor,
      d,
    ),
    row(
      s.lifeboatParallel,
      `5. Lifeboat backup, \`dump-jobs: ${n}\`${vs(s.lifeboatParallel, s.lifeboat)}`,
      floor,
      d,
    ),
    row(s.drillParallel, `5. Lifeboat drill of that backup${vs(s.drillParallel, s.drill)}`, floor, d),
    `| | peak RSS of the parallel backup's node process: ${(node / MB).toFixed(0)} MB | | | | | | | | |`,
  ];
}

function renderProfile(suite: SuiteResult): string {
  const p = suite.profile!;
  const floor = suite.steps.floor.seconds;
  const lines = [
    '<details><summary>Profile</summary>',
    '',
    '| Pipeline | Wall s | × floor | CPU s (client + server) |',
    '| --- | ---: | ---: | ---: |',
    ...p.pipelines.map(
      (m) => `| \`${m.label}\` | ${m.seconds.toFixed(1)} | ${(m.seconds / floor).toFixed(2)}× | ${cpu(m)} |`,
    ),
    '',
    '| zstd alone on the dump file | Wall s | CPU s | MB/s per CPU s | Output MB | × `-Fc -Z9` size |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...p.zstdOnFile.map(
      (z) =>
        `| -${z.level} -T${z.threads} | ${z.seconds.toFixed(1)} | ${z.cpuSeconds.toFixed(1)} | ${(suite.dumpBytes / Math.max(z.cpuSeconds, 0.01) / 1e6).toFixed(0)} | ${(z.outputBytes / MB).toFixed(0)} | ${(z.outputBytes / (suite.steps.customZ9.outputBytes ?? 1)).toFixed(3)} |`,
    ),
    '',
    '| Catalog snapshot alone, on the source | Wall s | Server CPU s |',
    '| --- | ---: | ---: |',
    ...Object.entries(p.catalog).map(
      ([variant, m]) => `| ${variant} | ${m.seconds.toFixed(2)} | ${(m.serverCpuSeconds ?? 0).toFixed(1)} |`,
    ),
    '',
    `Read-back alone (in process): ${p.readBack.seconds.toFixed(1)} s, ${p.readBack.cpuSeconds.toFixed(1)} s CPU in node.`,
    '',
    '| What-if backup (same CLI) | Wall s | × floor | CPU s (client + server) | Archive × `-Fc -Z9` | Peak RSS MB | Phases: dump, read-back |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...p.whatIf.map(
      (w) =>
        `| ${w.label} | ${w.seconds.toFixed(1)} | ${(w.seconds / floor).toFixed(2)}× | ${cpu(w)} | ${((w.outputBytes ?? 0) / (suite.steps.customZ9.outputBytes ?? 1)).toFixed(3)} | ${(w.peakRssBytes / MB).toFixed(0)} | ${phases(w.marks)} |`,
    ),
    '',
    '</details>',
  ];
  return lines.join('\n');
}

export function renderReport(results: BenchResults): string {
  const c = results.crypto;
  const lines = [
    `## Lifeboat benchmark, ${results.startedAt}`,
    '',
    `${results.machine.cpus} cores (${results.machine.model}), ${(results.machine.memoryBytes / GB).toFixed(0)} GB RAM, Node ${results.machine.node}, ${Object.entries(
      results.machine.tools,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}. Lifeboat CLI: ${results.cli}. Load average (1 min) ${results.load.start.toFixed(2)} at the start, ${results.load.min.toFixed(2)}–${results.load.max.toFixed(2)} during the steps, ${results.load.end.toFixed(2)} at the end; "other load" is CPU used by processes outside the benchmark and its server, in cores.`,
    '',
    ...results.suites.flatMap((s) => [renderSuite(s), '']),
    `Crypto alone (${c.totalBytes / MB} MiB in memory, best of ${c.rounds}; per CPU second, wall in parentheses): ${(
      [
        ['SHA-256', c.sha256],
        ['age encrypt', c.encrypt],
        ['decrypt', c.decrypt],
        ['encrypt + SHA-256', c.encryptAndHash],
        ['SHA-256 + decrypt', c.hashAndDecrypt],
      ] as const
    )
      .map(([name, rate]) => `${name} ${mbps(rate.perCpuSecond)} (${mbps(rate.wall)})`)
      .join(', ')}.`,
    '',
    '### Targets',
    '',
    '| Target | Want | Measured | |',
    '| --- | --- | --- | --- |',
    ...targets(results).map((t) => `| ${t.name} | ${t.want} | ${t.got} | ${t.met ? 'met' : '**missed**'} |`),
    '',
  ];
  return lines.join('\n');
}
