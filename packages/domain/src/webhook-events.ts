// Plain data, no dependency: the dashboard imports it (`@keyfence/domain/webhook-events`).

/**
 * Every event type an alert can carry. `key.expired` and `key.rotated` belong to the key lifecycle
 * (issue 15): they are listed so endpoints can subscribe to them, and enter the outbox the same way.
 */
export const WEBHOOK_EVENT_TYPES = [
  'key.threshold_crossed',
  'key.blocked',
  'key.unblocked',
  'key.created',
  'key.updated',
  'key.deleted',
  'key.expired',
  'key.rotated',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What each event type means, for people (the dashboard's choices and the docs). */
export const WEBHOOK_EVENT_LABELS: Readonly<Record<WebhookEventType, string>> = {
  'key.threshold_crossed':
    'A key reached one of its alert thresholds (50, 80, 100 % of its limit by default)',
  'key.blocked': 'A key reached its limit and is blocked until the window resets',
  'key.unblocked': 'A block was lifted (the window ended, or the limit changed)',
  'key.created': 'A key was created',
  'key.updated': 'A key was changed (name, limit, scopes, thresholds, disabled or enabled)',
  'key.deleted': 'A key was deleted',
  'key.expired': 'A key passed its expiry time',
  'key.rotated': "A key's secret was replaced",
};
