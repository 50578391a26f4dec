/** The endpoint permissions an API key may be restricted to, one per model family. */
export const SCOPES = [
  'model:chat',
  'model:responses',
  'model:image',
  'model:audio',
  'model:video',
  'model:embeddings',
  'model:speech',
  'model:ocr',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * How people read each scope: a short label and the calls it opens, in words. The dashboard shows these;
 * `SCOPE_ENDPOINTS` below is the rule they describe.
 */
export const SCOPE_LABELS: Readonly<Record<Scope, { readonly label: string; readonly description: string }>> =
  {
    'model:chat': { label: 'Chat', description: 'chat completions, completions, messages' },
    'model:responses': { label: 'Responses', description: 'the responses API' },
    'model:image': { label: 'Images', description: 'image generation and edits' },
    'model:audio': { label: 'Audio', description: 'music and sound generation' },
    'model:video': { label: 'Video', description: 'video generation' },
    'model:embeddings': { label: 'Embeddings', description: 'embeddings' },
    'model:speech': { label: 'Speech', description: 'text to speech, transcription (speech to text)' },
    'model:ocr': { label: 'OCR', description: 'document text recognition' },
  };

/** A scope's label ("Chat"), or the id itself for a value that is not a known scope. */
export function scopeLabel(scope: string): string {
  return isScope(scope) ? SCOPE_LABELS[scope].label : scope;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One gateway endpoint: a method and a path whose `:name` segments match any one segment. */
export interface EndpointPattern {
  readonly method: HttpMethod;
  readonly path: string;
}

/**
 * Which gateway endpoints each scope opens. This table is the whole rule; `docs/scopes.md` prints it.
 * Paths are the AI/ML API gateway's; a model service that serves the same endpoint without the `/v1`
 * prefix should verify with the `/v1` path.
 */
export const SCOPE_ENDPOINTS: Readonly<Record<Scope, readonly EndpointPattern[]>> = {
  'model:chat': [
    { method: 'POST', path: '/v1/chat/completions' },
    { method: 'POST', path: '/v1/completions' },
    { method: 'POST', path: '/v1/messages' },
  ],
  'model:responses': [
    { method: 'POST', path: '/v1/responses' },
    { method: 'GET', path: '/v1/responses/:id' },
    { method: 'DELETE', path: '/v1/responses/:id' },
    { method: 'POST', path: '/v1/responses/:id/cancel' },
  ],
  'model:image': [
    { method: 'POST', path: '/v1/images/generations' },
    { method: 'POST', path: '/v1/images/edits' },
  ],
  'model:audio': [
    { method: 'POST', path: '/v2/generate/audio' },
    { method: 'GET', path: '/v2/generate/audio' },
  ],
  'model:video': [
    { method: 'POST', path: '/v2/video/generations' },
    { method: 'GET', path: '/v2/video/generations' },
  ],
  'model:embeddings': [{ method: 'POST', path: '/v1/embeddings' }],
  'model:speech': [
    { method: 'POST', path: '/v1/tts' },
    { method: 'POST', path: '/v1/stt' },
    { method: 'GET', path: '/v1/stt/:id' },
    { method: 'POST', path: '/v1/audio/speech' },
    { method: 'POST', path: '/v1/audio/transcriptions' },
  ],
  'model:ocr': [{ method: 'POST', path: '/v1/ocr' }],
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

function pathSegments(path: string): string[] {
  const withoutQuery = path.split(/[?#]/, 1)[0] ?? '';
  return withoutQuery.split('/').filter((segment) => segment !== '');
}

function matchesPattern(pattern: EndpointPattern, method: string, segments: readonly string[]): boolean {
  if (pattern.method !== method) return false;
  const expected = pathSegments(pattern.path);
  if (expected.length !== segments.length) return false;
  return expected.every((part, index) => part.startsWith(':') || part === segments[index]);
}

/** The scope whose endpoints include `METHOD path`, or null when no scope names that endpoint. */
export function scopeOfEndpoint(method: string, path: string): Scope | null {
  const upper = method.toUpperCase();
  const segments = pathSegments(path);
  for (const scope of SCOPES) {
    if (SCOPE_ENDPOINTS[scope].some((pattern) => matchesPattern(pattern, upper, segments))) return scope;
  }
  return null;
}

/**
 * Whether a key with these scopes may call `METHOD path`. `null` scopes mean unrestricted: every
 * endpoint. A restricted key may call only the endpoints of its scopes; an endpoint in no scope is refused.
 */
export function canCallEndpoint(scopes: readonly Scope[] | null, method: string, path: string): boolean {
  if (scopes === null) return true;
  const scope = scopeOfEndpoint(method, path);
  return scope !== null && scopes.includes(scope);
}
