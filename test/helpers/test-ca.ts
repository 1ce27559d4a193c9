/**
 * Certificate authorities of a test's own, made with the `openssl` command line: a CA, and
 * server certificates it signs for the names and addresses a test connects by. Short-lived
 * (two days) and thrown away with the test.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './cluster-binaries.js';

export interface TestCa {
  /** The CA certificate, PEM: what `database-ca` is given. */
  cert: string;
  /** A server certificate and key signed by this CA, valid for the given names and IP addresses. */
  issue(subject: { dns?: string[]; ips?: string[] }): Promise<{ cert: string; key: string }>;
  remove(): Promise<void>;
}

// P-256 keys: generated in milliseconds, unlike RSA.
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function createTestCa(name: string): Promise<TestCa> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-ca-test-'));
  const file = (f: string) => path.join(dir, f);
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  await openssl([
    'req',
    '-x509',
    ...KEY,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    `/CN=Lifeboat test CA ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 0;
  return {
    cert: await readFile(file('ca.crt'), 'utf8'),
    async issue({ dns = [], ips = [] }) {
      const n = ++serial;
      const names = [...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',');
      await writeFile(
        file(`server-${n}.ext`),
        `subjectAltName=${names}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
      );
      const subject = `/CN=${dns[0] ?? ips[0] ?? 'server'}`;
      await openssl([
        'req',
        ...KEY,
        '-keyout',
        file(`server-${n}.key`),
        '-out',
        file(`server-${n}.csr`),
        '-subj',
        subject,
      ]);
      await openssl([
        'x509',
        '-req',
        '-in',
        file(`server-${n}.csr`),
        '-CA',
        file('ca.crt'),
        '-CAkey',
        file('ca.key'),
        '-set_serial',
        String(1000 + n),
        '-days',
        '2',
        '-extfile',
        file(`server-${n}.ext`),
        '-out',
        file(`server-${n}.crt`),
      ]);
      return {
        cert: await readFile(file(`server-${n}.crt`), 'utf8'),
        key: await readFile(file(`server-${n}.key`), 'utf8'),
      };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
