import { describe, expect, it } from 'vitest';
import {
  canCallEndpoint,
  SCOPE_ENDPOINTS,
  SCOPE_LABELS,
  SCOPES,
  type Scope,
  scopeLabel,
  scopeOfEndpoint,
} from './scopes.ts';

describe('scopeOfEndpoint', () => {
  it.each<[string, string, Scope | null]>([
    ['POST', '/v1/chat/completions', 'model:chat'],
    ['post', '/v1/chat/completions', 'model:chat'],
    ['POST', '/v1/chat/completions/', 'model:chat'],
    ['POST', '/v1/chat/completions?stream=true', 'model:chat'],
    ['GET', '/v1/chat/completions', null],
    ['POST', '/v1/embeddings', 'model:embeddings'],
    ['POST', '/v1/responses', 'model:responses'],
    ['GET', '/v1/responses/resp_123', 'model:responses'],
    ['GET', '/v1/responses/resp_123/extra', null],
    ['POST', '/v1/images/generations', 'model:image'],
    ['POST', '/v2/generate/audio', 'model:audio'],
    ['POST', '/v2/video/generations', 'model:video'],
    ['POST', '/v1/tts', 'model:speech'],
    ['POST', '/v1/ocr', 'model:ocr'],
    ['POST', '/v1/unknown', null],
    ['POST', '/', null],
  ])('%s %s belongs to %s', (method, path, scope) => {
    expect(scopeOfEndpoint(method, path)).toBe(scope);
  });

  it('maps every scope to at least one endpoint, and no endpoint to two scopes', () => {
    const seen = new Map<string, Scope>();
    for (const scope of SCOPES) {
      expect(SCOPE_ENDPOINTS[scope].length).toBeGreaterThan(0);
      for (const endpoint of SCOPE_ENDPOINTS[scope]) {
        const id = `${endpoint.method} ${endpoint.path}`;
        expect(seen.get(id)).toBeUndefined();
        seen.set(id, scope);
        expect(scopeOfEndpoint(endpoint.method, endpoint.path.replace(/:\w+/g, 'x1'))).toBe(scope);
      }
    }
  });
});

describe('canCallEndpoint', () => {
  it.each<[Scope[] | null, string, string, boolean]>([
    [null, 'POST', '/v1/chat/completions', true],
    [null, 'POST', '/v1/something-new', true],
    [['model:chat'], 'POST', '/v1/chat/completions', true],
    [['model:chat'], 'POST', '/v1/embeddings', false],
    [['model:chat', 'model:embeddings'], 'POST', '/v1/embeddings', true],
    [['model:chat'], 'POST', '/v1/something-new', false],
    [[], 'POST', '/v1/chat/completions', false],
  ])('scopes %j may call %s %s: %s', (scopes, method, path, allowed) => {
    expect(canCallEndpoint(scopes, method, path)).toBe(allowed);
  });
});

describe('SCOPE_LABELS', () => {
  it('gives every scope a label and a description, and no two scopes the same label', () => {
    for (const scope of SCOPES) {
      expect(SCOPE_LABELS[scope]?.label, scope).toMatch(/\S/);
      expect(SCOPE_LABELS[scope]?.description, scope).toMatch(/\S/);
    }
    expect(Object.keys(SCOPE_LABELS).sort()).toEqual([...SCOPES].sort());
    expect(new Set(SCOPES.map((scope) => SCOPE_LABELS[scope].label)).size).toBe(SCOPES.length);
  });

  it('describes speech as covering transcription, and audio as not', () => {
    // Transcription is POST /v1/stt and /v1/audio/transcriptions: model:speech's endpoints.
    expect(canCallEndpoint(['model:speech'], 'POST', '/v1/audio/transcriptions')).toBe(true);
    expect(SCOPE_LABELS['model:speech'].description).toContain('transcription');
    expect(SCOPE_LABELS['model:audio'].description).not.toMatch(/transcri|translat/);
  });

  it('reads a known scope as its label and anything else as itself', () => {
    expect(scopeLabel('model:chat')).toBe('Chat');
    expect(scopeLabel('model:unknown')).toBe('model:unknown');
  });
});
