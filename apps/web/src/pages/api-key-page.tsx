import { useState } from 'react';
import { api } from '../api.ts';
import { actorLabel, describeEntry } from '../audit.ts';
import { DailyChart } from '../components/daily-chart.tsx';
import { ErrorMessage } from '../components/dialog.tsx';
import { KeyActions } from '../components/key-actions.tsx';
import { ModelUsage } from '../components/model-usage.tsx';
import { SpendBar } from '../components/spend-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Time } from '../components/time.tsx';
import { formatUsd, limitLabel, rateLimitLabel, timeLeft } from '../format.ts';
import { linkProps, navigate } from '../router.ts';
import { useSignedInUser } from '../session-context.ts';
import { type ApiKey, type AuditEntry, type DailySpend, scopeLabel } from '../types.ts';
import { useLoad } from '../use-load.ts';

interface KeyDetails {
  key: ApiKey;
  days: DailySpend[];
  audit: AuditEntry[];
}

async function loadDetails(prefix: string): Promise<KeyDetails> {
  const [key, days, audit] = await Promise.all([
    api<ApiKey>('GET', `/v1/keys/${prefix}`),
    api<DailySpend[]>('GET', `/v1/keys/${prefix}/daily-spend?days=30`),
    api<AuditEntry[]>('GET', `/v1/audit-log?key_prefix=${prefix}&limit=100`),
  ]);
  return { key, days, audit };
}

/** One API key: its state, its spend per day and per model for 30 days, and every change to it. */
export function ApiKeyPage({ prefix }: { prefix: string }) {
  const [details, reload] = useLoad(() => loadDetails(prefix), 5_000);
  const [notice, setNotice] = useState<string | null>(null);
  const self = useSignedInUser();
  const [showAll, setShowAll] = useState(false);
  if (details.state === 'loading') return <p role="status">Loading key…</p>;
  if (details.state === 'error') {
    return (
      <section>
        <p>
          <a {...linkProps('/keys')}>← API keys</a>
        </p>
        <ErrorMessage message={details.message} />
      </section>
    );
  }
  const { key, days, audit } = details.value;
  const entries = showAll ? audit : audit.slice(0, 20);
  return (
    <section aria-labelledby="key-heading" className="key-page">
      <p>
        <a {...linkProps('/keys')}>← API keys</a>
      </p>
      <h1 id="key-heading">
        {key.name || 'Unnamed key'} <StatusBadge apiKey={key} />
      </h1>
      <div className="key-actions">
        <KeyActions
          apiKey={key}
          reload={reload}
          onNotice={setNotice}
          onDeleted={() => navigate('/keys', { replace: true })}
        />
      </div>
      <p role="status" className="notice-line">
        {notice}
      </p>
      <dl className="facts">
        <div>
          <dt>Prefix</dt>
          <dd>
            <code>{key.prefix}…</code>
          </dd>
        </div>
        <div>
          <dt>Limit</dt>
          <dd>{limitLabel(key.limit)}</dd>
        </div>
        <div>
          <dt>This period</dt>
          <dd>
            <SpendBar apiKey={key} />
          </dd>
        </div>
        <div>
          <dt>Remaining</dt>
          <dd>{key.limit_remaining === null ? '—' : formatUsd(key.limit_remaining)}</dd>
        </div>
        <div>
          <dt>Resets</dt>
          <dd>
            <Time iso={key.resets_at} fallback={key.limit?.retention === 'no_reset' ? 'Never' : '—'} />
          </dd>
        </div>
        <div>
          <dt>Endpoints</dt>
          <dd>
            {key.scopes === null
              ? 'All endpoints'
              : key.scopes.length === 0
                ? 'None'
                : key.scopes.map(scopeLabel).join(', ')}
          </dd>
        </div>
        <div>
          <dt>Spent</dt>
          <dd>
            today {formatUsd(key.usage.day)} · this week {formatUsd(key.usage.week)} · this month{' '}
            {formatUsd(key.usage.month)} · ever {formatUsd(key.usage.lifetime)}
          </dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            {key.expires_at === null ? (
              'Never'
            ) : (
              <>
                <Time iso={key.expires_at} />{' '}
                <span className="muted">({timeLeft(key.expires_at, Date.now())})</span>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Rate limit</dt>
          <dd>{rateLimitLabel(key.rate_limit)}</dd>
        </div>
        <div>
          <dt>Alerts</dt>
          <dd>
            {key.limit === null || key.alert_thresholds.length === 0
              ? 'None'
              : `At ${key.alert_thresholds.map((percent) => `${percent} %`).join(', ')} of the limit`}
          </dd>
        </div>
        <div>
          <dt>Rotated</dt>
          <dd>
            <Time iso={key.rotated_at} fallback="Never" />
            {key.previous_key_expires_at !== null && Date.parse(key.previous_key_expires_at) > Date.now() && (
              <span className="muted">
                {' '}
                (old secret works until <Time iso={key.previous_key_expires_at} />)
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time iso={key.created_at} />
          </dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>
            <Time iso={key.last_used_at} fallback="Never" />
          </dd>
        </div>
      </dl>

      <div className="usage-panels">
        <section aria-labelledby="daily-heading">
          <h2 id="daily-heading">Spend per day</h2>
          <DailyChart days={days} />
        </section>
        <section aria-labelledby="models-heading">
          <h2 id="models-heading">Spend per model</h2>
          <ModelUsage prefix={key.prefix} days={30} />
        </section>
      </div>

      <h2>History</h2>
      {audit.length === 0 ? (
        <p className="muted">No changes recorded.</p>
      ) : (
        <ol className="history">
          {entries.map((entry) => {
            const { action, changes } = describeEntry(entry);
            return (
              <li key={entry.id}>
                <Time iso={entry.created_at} /> <strong>{action}</strong> by{' '}
                {actorLabel(entry.actor, self?.id)}
                {changes.length > 0 && <span className="muted">: {changes.join('; ')}</span>}
              </li>
            );
          })}
        </ol>
      )}
      {audit.length > 20 && !showAll && (
        <button type="button" className="secondary" onClick={() => setShowAll(true)}>
          Show all {audit.length} changes
        </button>
      )}
    </section>
  );
}
