import { formatUsd, limitShare, windowSpend } from '../format.ts';
import type { ApiKey } from '../types.ts';

/** The current window's spend against the limit, as a bar with the numbers beside it. */
export function SpendBar({ apiKey }: { apiKey: ApiKey }) {
  const spend = windowSpend(apiKey);
  if (apiKey.limit === null) {
    return <span className="muted">{formatUsd(spend)} spent, no limit</span>;
  }
  const share = limitShare(apiKey);
  const label = `${formatUsd(spend)} of ${formatUsd(apiKey.limit.threshold)}`;
  return (
    <div className="spend">
      <div className={`bar ${apiKey.limit_reached ? 'full' : share >= 0.8 ? 'high' : ''}`} aria-hidden="true">
        <div className="fill" style={{ width: `${(share * 100).toFixed(1)}%` }} />
      </div>
      <span className="spend-text">{label}</span>
    </div>
  );
}
