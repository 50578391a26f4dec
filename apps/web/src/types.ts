// The wire shapes the dashboard reads (see docs/api.md and /openapi.json).

export type Retention = 'no_reset' | 'day' | 'week' | 'month';

export interface ApiKey {
  key?: string;
  name: string;
  disabled: boolean;
  prefix: string;
  scopes: string[] | null;
  limit: { retention: Retention; threshold: number } | null;
  created_at: string;
  updated_at: string;
  monthly_usage: number;
  usage: { day: number; week: number; month: number; lifetime: number };
  limit_remaining: number | null;
  limit_reached: boolean;
  resets_at: string | null;
  last_used_at: string | null;
}

export interface ManagementKey {
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  key?: string;
}

export interface Session {
  user: { id: string; email: string; account_id: string };
  csrf_token: string;
  expires_at: string;
}

export interface DailySpend {
  date: string;
  spend: number;
  requests: number;
}

export interface AuditedSettings {
  name: string;
  disabled: boolean;
  scopes: string[] | null;
  limit: { retention: Retention; threshold: string } | null;
}

export interface AuditEntry {
  id: string;
  key_prefix: string | null;
  action: string;
  actor: { type: string; id: string | null };
  before: AuditedSettings | null;
  after: AuditedSettings | null;
  details: Record<string, unknown> | null;
  created_at: string;
}

/** The eight endpoint permissions, as in docs/scopes.md. */
export const SCOPES = [
  { id: 'model:chat', label: 'Chat', hint: 'chat completions, completions, messages' },
  { id: 'model:responses', label: 'Responses', hint: 'the responses API' },
  { id: 'model:image', label: 'Images', hint: 'image generation and edits' },
  { id: 'model:audio', label: 'Audio', hint: 'transcription and translation' },
  { id: 'model:video', label: 'Video', hint: 'video generation' },
  { id: 'model:embeddings', label: 'Embeddings', hint: 'embeddings' },
  { id: 'model:speech', label: 'Speech', hint: 'text to speech' },
  { id: 'model:ocr', label: 'OCR', hint: 'document text recognition' },
] as const;

export const RETENTION_LABELS: Record<Retention, string> = {
  day: 'Daily',
  week: 'Weekly',
  month: 'Monthly',
  no_reset: 'No reset',
};
