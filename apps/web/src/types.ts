// The wire shapes the dashboard reads are the contract's own (packages/contracts, the zod schemas the API
// validates with), and the scopes with their labels are the domain's: imported, never copied, so they cannot
// drift. Type imports are erased from the build; `@keyfence/domain/scopes` is plain data and pure functions.
import type {
  AuditEntryObject,
  DailySpend,
  DashboardSession,
  KeyObject,
  ManagementKeyObject,
  WebhookDeliveryObject,
  WebhookEndpointObject,
} from '@keyfence/contracts';
import type { Retention } from '@keyfence/domain';

export { SCOPE_LABELS, SCOPES, type Scope, scopeLabel } from '@keyfence/domain/scopes';
export type { DailySpend, Retention };

export type ApiKey = KeyObject;
export type ManagementKey = ManagementKeyObject;
export type Session = DashboardSession;
export type WebhookEndpoint = WebhookEndpointObject;
export type WebhookDelivery = WebhookDeliveryObject;
export {
  WEBHOOK_EVENT_LABELS,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '@keyfence/domain/webhook-events';

/**
 * A key's settings as the audit log records them (`before` and `after`; the contract types them as open
 * records). The threshold is a decimal string there, every digit kept.
 */
export interface AuditedSettings {
  name: string;
  disabled: boolean;
  scopes: string[] | null;
  limit: { retention: Retention; threshold: string } | null;
  /** Absent in records written before keys could expire or be rate limited. */
  expires_at?: string | null;
  rate_limit?: { requests_per_minute: number | null; tokens_per_minute: number | null } | null;
}

export type AuditEntry = Omit<AuditEntryObject, 'before' | 'after'> & {
  before: AuditedSettings | null;
  after: AuditedSettings | null;
};

export const RETENTION_LABELS: Record<Retention, string> = {
  day: 'Daily',
  week: 'Weekly',
  month: 'Monthly',
  no_reset: 'No reset',
};
