import { type ReactNode, useState } from 'react';
import { api } from '../api.ts';
import { actorLabel, describeEntry } from '../audit.ts';
import { DailyChart } from '../components/daily-chart.tsx';
import { ErrorMessage } from '../components/dialog.tsx';
import { KeyActions } from '../components/key-actions.tsx';
import { ModelUsage } from '../components/model-usage.tsx';
import { SpendBar } from '../components/spend-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { ResetTime, Time } from '../components/time.tsx';
import { formatUsd, keyName, limitLabel, rateLimitLabel, remainingLabel, timeLeft } from '../format.ts';
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
  return (
    <section aria-labelledby="key-heading" className="key-page">
      <p>
        <a {...linkProps('/keys')}>← API keys</a>
      </p>
      <h1 id="key-heading">
        {keyName(key)} <StatusBadge apiKey={key} />
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
      <KeyFacts apiKey={key} />

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
      <KeyHistory audit={audit} />
    </section>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** A key's settings and state as a list of terms. */
function KeyFacts({ apiKey: key }: { apiKey: ApiKey }) {
  return (
    <dl className="facts">
      <Fact term="Prefix">
        <code>{key.prefix}…</code>
      </Fact>
      <Fact term="Limit">{limitLabel(key.limit)}</Fact>
      <Fact term="This period">
        <SpendBar apiKey={key} />
      </Fact>
      <Fact term="Remaining">{remainingLabel(key)}</Fact>
      <Fact term="Resets">
        <ResetTime apiKey={key} />
      </Fact>
      <Fact term="Endpoints">
        {key.scopes === null
          ? 'All endpoints'
          : key.scopes.length === 0
            ? 'None'
            : key.scopes.map(scopeLabel).join(', ')}
      </Fact>
      <Fact term="Spent">
        today {formatUsd(key.usage.day)} · this week {formatUsd(key.usage.week)} · this month{' '}
        {formatUsd(key.usage.month)} · ever {formatUsd(key.usage.lifetime)}
      </Fact>
      <Fact term="Expires">
        {key.expires_at === null ? (
          'Never'
        ) : (
          <>
            <Time iso={key.expires_at} />{' '}
            <span className="muted">({timeLeft(key.expires_at, Date.now())})</span>
          </>
        )}
      </Fact>
      <Fact term="Rate limit">{rateLimitLabel(key.rate_limit)}</Fact>
      <Fact term="Alerts">
        {key.limit === null || key.alert_thresholds.length === 0
          ? 'None'
          : `At ${key.alert_thresholds.map((percent) => `${percent} %`).join(', ')} of the limit`}
      </Fact>
      <Fact term="Rotated">
        <Time iso={key.rotated_at} fallback="Never" />
        {key.previous_key_expires_at !== null && Date.parse(key.previous_key_expires_at) > Date.now() && (
          <span className="muted">
            {' '}
            (old secret works until <Time iso={key.previous_key_expires_at} />)
          </span>
        )}
      </Fact>
      <Fact term="Created">
        <Time iso={key.created_at} />
      </Fact>
      <Fact term="Last used">
        <Time iso={key.last_used_at} fallback="Never" />
      </Fact>
    </dl>
  );
}

/** Every change to the key, newest first: the last 20, and all of them on request. */
function KeyHistory({ audit }: { audit: AuditEntry[] }) {
  const self = useSignedInUser();
  const [showAll, setShowAll] = useState(false);
  const entries = showAll ? audit : audit.slice(0, 20);
  return (
    <>
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
    </>
  );
}
