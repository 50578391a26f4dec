import { ApiProblem, describeProblem } from '../api.ts';
import { formatUsd } from '../format.ts';
import { useLoad } from '../use-load.ts';
import { ErrorMessage } from './dialog.tsx';

/** One model's group of `GET /v2/usage/detail?group_by=model` (see docs/api.md). */
interface ModelGroup {
  model: string;
  spend: number;
  tokens: { input: number; output: number; total: number };
  requests: { total: number; charged: number; succeeded: number; failed: number };
}

interface UsageDetail {
  start: string;
  end: string;
  spend: number;
  requests: number;
  groups: ModelGroup[];
}

/**
 * `/v2/usage` answers its fields at the top level, as AI/ML API does, not inside `{"data": …}` as the
 * dashboard's `api()` expects; refusals have the usual error body.
 */
async function loadModelUsage(prefix: string, days: number): Promise<UsageDetail> {
  const response = await fetch(`/v2/usage/detail?key_prefix=${prefix}&period=${days}d&group_by=model`, {
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
  });
  const body = await response.json().catch(() => undefined);
  if (!response.ok)
    throw new ApiProblem(describeProblem(response.status, body), body?.code ?? 'UNKNOWN', response.status);
  return body as UsageDetail;
}

const count = (value: number) => value.toLocaleString('en');

/** A key's spend, calls and tokens per model over the last `days` days, highest spend first. */
export function ModelUsage({ prefix, days }: { prefix: string; days: number }) {
  const [usage] = useLoad(() => loadModelUsage(prefix, days), 5_000);
  if (usage.state === 'loading') return <p role="status">Loading usage per model…</p>;
  if (usage.state === 'error') return <ErrorMessage message={usage.message} />;
  const { groups, spend } = usage.value;
  const tokens = groups.reduce((sum, group) => sum + group.tokens.total, 0);
  return (
    <figure className="chart model-usage">
      {groups.length === 0 ? (
        <p className="muted">No usage in the last {days} days.</p>
      ) : (
        <table className="keys">
          <caption className="visually-hidden">Spend and tokens per model, last {days} days</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Spend</th>
              <th scope="col">Requests</th>
              <th scope="col">Tokens in / out</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((group) => (
              <tr key={group.model}>
                <th scope="row">
                  <code>{group.model}</code>
                </th>
                <td>{formatUsd(group.spend)}</td>
                <td>
                  {count(group.requests.charged)}
                  {group.requests.failed > 0 && (
                    <span className="muted"> (+{count(group.requests.failed)} failed, not billed)</span>
                  )}
                </td>
                <td>
                  {count(group.tokens.input)} / {count(group.tokens.output)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <figcaption>
        Last {days} days: {formatUsd(spend)} over {groups.length} model{groups.length === 1 ? '' : 's'},{' '}
        {count(tokens)} tokens.
      </figcaption>
    </figure>
  );
}
