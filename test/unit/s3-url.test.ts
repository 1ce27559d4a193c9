import { describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors.js';
import { describeS3Location, parseS3Url, resolveS3Settings, s3Secrets } from '../../src/stores/s3-url.js';

function inputError(fn: () => unknown): { message: string; hint?: string } {
  try {
    fn();
  } catch (error) {
    if (isLifeboatError(error, 'input')) return error;
    throw error;
  }
  throw new Error('expected an input error');
}

describe('parseS3Url', () => {
  it('reads a bucket and a prefix without its surrounding slashes', () => {
    expect(parseS3Url('s3://my-backups/prod/db/')).toEqual({ bucket: 'my-backups', prefix: 'prod/db' });
    expect(parseS3Url('  S3://my.backups//nightly  ')).toEqual({ bucket: 'my.backups', prefix: 'nightly' });
  });

  it('accepts a bare bucket as the bucket root', () => {
    expect(parseS3Url('s3://backups')).toEqual({ bucket: 'backups', prefix: '' });
    expect(parseS3Url('s3://backups/')).toEqual({ bucket: 'backups', prefix: '' });
  });

  it('names the store input and the accepted form when the scheme is wrong', () => {
    const error = inputError(() => parseS3Url('https://backups.s3.amazonaws.com/prod'));
    expect(error.message).toContain('store input');
    expect(error.hint).toContain('s3://bucket/prefix');
  });

  it('rejects a URL without a bucket', () => {
    expect(inputError(() => parseS3Url('s3://')).message).toContain('names no bucket');
    expect(inputError(() => parseS3Url('s3:///prefix')).message).toContain('names no bucket');
  });

  it.each(['ab', 'Backups', 'my_backups', '-backups', 'backups-', 'my..backups', 'a'.repeat(64)])(
    'rejects the invalid bucket name %s and says what a valid one looks like',
    (bucket) => {
      const error = inputError(() => parseS3Url(`s3://${bucket}/prefix`));
      expect(error.message).toContain(bucket);
      expect(error.hint).toMatch(/3-63 characters/);
    },
  );

  it('rejects a bucket written as an IP address', () => {
    expect(inputError(() => parseS3Url('s3://192.168.1.10/x')).message).toContain('IP address');
  });

  it.each(['s3://backups/a//b', 's3://backups/a/../b', 's3://backups/./b'])(
    'rejects the prefix of %s, whose empty or dot segment would hide backups from other tools',
    (url) => {
      expect(inputError(() => parseS3Url(url)).message).toContain('path segment');
    },
  );

  it('rejects control characters', () => {
    expect(inputError(() => parseS3Url('s3://backups/a\nb')).message).toContain('control characters');
  });
});

describe('resolveS3Settings', () => {
  const keys = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-value' };

  it('defaults to us-east-1, AWS itself and no session token', () => {
    const settings = resolveS3Settings('s3://backups/prod', keys);
    expect(settings.region).toBe('us-east-1');
    expect(settings.endpoint).toBeUndefined();
    expect(settings.credentials).toEqual({
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'secret-value',
      sessionToken: undefined,
    });
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION', () => {
    expect(resolveS3Settings('s3://backups', { AWS_DEFAULT_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
    expect(
      resolveS3Settings('s3://backups', { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'eu-west-1' })
        .region,
    ).toBe('eu-central-1');
  });

  it('prefers AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL', () => {
    const env = { AWS_ENDPOINT_URL: 'http://general:9000', AWS_ENDPOINT_URL_S3: 'http://s3only:9000' };
    expect(resolveS3Settings('s3://backups', env).endpoint?.host).toBe('s3only:9000');
    expect(
      resolveS3Settings('s3://backups', { AWS_ENDPOINT_URL: 'http://general:9000' }).endpoint?.host,
    ).toBe('general:9000');
  });

  it('rejects an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(
      inputError(() => resolveS3Settings('s3://backups', { AWS_ENDPOINT_URL_S3: 'minio:9000' })).message,
    ).toMatch(/AWS_ENDPOINT_URL_S3/);
    expect(
      inputError(() => resolveS3Settings('s3://backups', { AWS_ENDPOINT_URL: 'not a url' })).message,
    ).toContain('AWS_ENDPOINT_URL is not a URL');
  });

  it('leaves credentials to the SDK chain when none are in the environment', () => {
    expect(resolveS3Settings('s3://backups', {}).credentials).toBeUndefined();
  });

  it('refuses half a key pair', () => {
    expect(() => resolveS3Settings('s3://backups', { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).toThrow(
      /AWS_SECRET_ACCESS_KEY is not set/,
    );
  });
});

describe('describeS3Location', () => {
  it('shows a custom endpoint host but never its credentials', () => {
    const text = describeS3Location({
      bucket: 'backups',
      prefix: 'prod',
      endpoint: new URL('https://user:pass@minio.internal:9000/'),
    });
    expect(text).toBe('s3://backups/prod at minio.internal:9000');
  });

  it('is the plain URL on AWS', () => {
    expect(describeS3Location({ bucket: 'backups', prefix: '' })).toBe('s3://backups');
  });
});

describe('s3Secrets', () => {
  it('returns the secret key and session token, not the public key id', () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    };
    expect(s3Secrets(env)).toEqual(['secret', 'token']);
    expect(s3Secrets({})).toEqual([]);
  });
});
