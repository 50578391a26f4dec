import { formatUsd } from './format.ts';
import { type AuditEntry, type AuditedSettings, RETENTION_LABELS, scopeLabel } from './types.ts';

const ACTIONS: Record<string, string> = {
  'key.created': 'Created',
  'key.updated': 'Changed',
  'key.disabled': 'Disabled',
  'key.enabled': 'Enabled',
  'key.deleted': 'Deleted',
  'key.rotated': 'Secret rotated',
  'key.blocked': 'Limit reached: calls blocked',
  'key.unblocked': 'Limit period reset: calls allowed again',
  'management_key.created': 'Created',
  'management_key.revoked': 'Revoked',
};

/** Who made a change, in words. */
export function actorLabel(actor: AuditEntry['actor'], selfId: string | undefined): string {
  switch (actor.type) {
    case 'user':
      return actor.id === selfId ? 'you' : 'a dashboard user';
    case 'management_key':
      return 'a management key';
    case 'operator':
      return 'an operator';
    default:
      return 'keyfence';
  }
}

const limitText = (limit: AuditedSettings['limit']) =>
  limit === null ? 'no limit' : `${RETENTION_LABELS[limit.retention]} ${formatUsd(Number(limit.threshold))}`;
const scopesText = (scopes: AuditedSettings['scopes']) =>
  scopes === null ? 'all endpoints' : scopes.length === 0 ? 'no endpoint' : scopes.map(scopeLabel).join(', ');

/** What an audit record says happened, in words: the action, then each field that changed. */
export function describeEntry(entry: AuditEntry): { action: string; changes: string[] } {
  const action = ACTIONS[entry.action] ?? entry.action;
  const changes: string[] = [];
  const { before, after } = entry;
  const managementKey = entry.details?.management_key as { prefix: string; name: string } | undefined;
  if (managementKey !== undefined) {
    changes.push(`${managementKey.name || 'unnamed key'} (kfm_${managementKey.prefix}…)`);
  }
  if (entry.action === 'key.blocked' && entry.details !== null) {
    const spend = entry.details.spend;
    const threshold = entry.details.threshold;
    if (spend !== undefined && threshold !== undefined) {
      changes.push(`spend ${formatUsd(Number(spend))} of ${formatUsd(Number(threshold))}`);
    }
  }
  if (entry.action === 'key.rotated' && entry.details !== null) {
    const grace = Number(entry.details.grace_seconds ?? 0);
    changes.push(grace === 0 ? 'old secret refused at once' : `old secret works for ${grace} s more`);
  }
  if (before !== null && after !== null) {
    const expiry = (s: AuditedSettings) => s.expires_at ?? null;
    if (expiry(before) !== expiry(after)) {
      changes.push(`expires ${expiry(before) ?? 'never'} → ${expiry(after) ?? 'never'}`);
    }
    const rate = (s: AuditedSettings) => JSON.stringify(s.rate_limit ?? null);
    if (rate(before) !== rate(after)) changes.push('rate limit changed');
    if (before.name !== after.name) changes.push(`name “${before.name}” → “${after.name}”`);
    if (limitText(before.limit) !== limitText(after.limit)) {
      changes.push(`limit ${limitText(before.limit)} → ${limitText(after.limit)}`);
    }
    if (scopesText(before.scopes) !== scopesText(after.scopes)) {
      changes.push(`endpoints ${scopesText(before.scopes)} → ${scopesText(after.scopes)}`);
    }
  } else if (after !== null && entry.action === 'key.created') {
    changes.push(`limit ${limitText(after.limit)}`, `endpoints ${scopesText(after.scopes)}`);
  }
  return { action, changes };
}
