import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newSigningSecret, signatureHeaders } from './webhook-signature.ts';

describe('signatureHeaders', () => {
  const body =
    '{"type":"key.created","timestamp":"2026-12-02T10:00:00.000Z","data":{"key":{"prefix":"Ab3dE9xQ"}}}';
  const now = Math.floor(Date.now() / 1000);

  it('signs as the standardwebhooks package verifies', () => {
    const secret = newSigningSecret();
    const headers = signatureHeaders(secret, 'evt-1', now, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('evt-1', new Date(now * 1000), body));
  });

  it('carries one signature per secret, each verifying on its own', () => {
    const current = newSigningSecret();
    const previous = newSigningSecret();
    const headers = signatureHeaders([current, previous], 'evt-2', now, body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
  });

  it('fails verification when the body, the id or the time is changed', () => {
    const secret = newSigningSecret();
    const headers = signatureHeaders(secret, 'evt-3', now, body);
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'evt-4' })).toThrow();
    expect(() =>
      new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': String(now + 1) }),
    ).toThrow();
  });

  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(secret);
  });
});
