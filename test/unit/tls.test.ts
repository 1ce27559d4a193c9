import { describe, expect, it } from 'vitest';
import { LifeboatError } from '../../src/errors.js';
import { parseConnectionUrl } from '../../src/postgres/connection.js';
import { mayFallBack, sslAttempts } from '../../src/postgres/tls.js';

const CA = '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n';
const url = (params: string) => `postgresql://u:pw@db.example.com:5432/app${params ? `?${params}` : ''}`;
const target = (params: string, ca?: string) => parseConnectionUrl(url(params), 'database-url', { ca });
// No ~/.postgresql/root.crt: these are the cases without a root CA.
const noHome = { HOME: '/nonexistent' };

function refusal(fn: () => unknown): LifeboatError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LifeboatError) return error;
    throw error;
  }
  throw new Error('expected a LifeboatError');
}

describe('sslmode as libpq means it', () => {
  it('tries TLS then plain by default (prefer), plain then TLS with allow, one way otherwise', () => {
    expect(target('').params.sslmode).toBeUndefined();
    expect(sslAttempts(target(''), noHome)).toEqual([{ rejectUnauthorized: false }, false]);
    expect(sslAttempts(target('sslmode=allow'), noHome)).toEqual([false, { rejectUnauthorized: false }]);
    expect(sslAttempts(target('sslmode=disable'), noHome)).toEqual([false]);
    expect(sslAttempts(target('sslmode=require'), noHome)).toEqual([{ rejectUnauthorized: false }]);
  });

  it('checks the chain under verify-ca and the host name too under verify-full, against database-ca', () => {
    const [ca] = sslAttempts(target('sslmode=verify-ca', CA), noHome) as [Record<string, unknown>];
    expect(ca).toMatchObject({ rejectUnauthorized: true, ca: CA });
    expect(typeof ca.checkServerIdentity).toBe('function');
    const [full] = sslAttempts(target('sslmode=verify-full', CA), noHome) as [Record<string, unknown>];
    expect(full).toEqual({ rejectUnauthorized: true, ca: CA });
    // require with a root CA checks the chain, as libpq's require does when root.crt exists.
    const [require] = sslAttempts(target('sslmode=require', CA), noHome) as [Record<string, unknown>];
    expect(require).toMatchObject({ rejectUnauthorized: true, ca: CA });
  });

  it('makes verify-full the default when a CA is given or sslrootcert=system', () => {
    expect(target('', CA).params.sslmode).toBe('verify-full');
    expect(target('sslmode=require', CA).params.sslmode).toBe('require');
    expect(target('sslrootcert=system').params.sslmode).toBe('verify-full');
    const [system] = sslAttempts(target('sslrootcert=system'), noHome);
    expect(system).toEqual({ rejectUnauthorized: true }); // Node's own trusted roots
  });

  it('refuses what libpq would refuse, naming the input', () => {
    expect(refusal(() => target('sslmode=verify')).message).toMatch(
      /`database-url` has sslmode=verify, which libpq does not know/,
    );
    expect(refusal(() => target('sslmode=require&sslrootcert=system')).message).toMatch(
      /sslrootcert=system with sslmode=require/,
    );
    expect(refusal(() => target('sslrootcert=/etc/ca.pem', CA)).message).toMatch(
      /names sslrootcert, and `database-ca` gives a CA too/,
    );
    const missing = refusal(() => sslAttempts(target('sslmode=verify-full'), noHome));
    expect(missing.message).toMatch(/verify-full needs a root CA/);
    expect(missing.hint).toMatch(/database-ca.*sslrootcert=system/);
    expect(
      refusal(() => sslAttempts(target('sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem'), noHome)).message,
    ).toMatch(/sslrootcert file \/nonexistent\/ca\.pem cannot be read \(ENOENT\)/);
  });

  it('falls back after a refusal of TLS or by pg_hba.conf, never after a wrong password or an unreachable host', () => {
    expect(mayFallBack(new Error('The server does not support SSL connections'))).toBe(true);
    expect(
      mayFallBack(Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })),
    ).toBe(true);
    expect(mayFallBack(Object.assign(new Error('no pg_hba.conf entry'), { code: '28000' }))).toBe(true);
    expect(mayFallBack(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe(
      false,
    );
    expect(mayFallBack(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      false,
    );
    expect(mayFallBack(new Error('Connection terminated due to connection timeout'))).toBe(false);
  });
});
