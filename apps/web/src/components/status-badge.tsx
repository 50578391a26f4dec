import { STATUS_LABELS, statusOf } from '../format.ts';
import type { ApiKey } from '../types.ts';

export function StatusBadge({ apiKey }: { apiKey: ApiKey }) {
  const status = statusOf(apiKey);
  return <span className={`badge ${status}`}>{STATUS_LABELS[status]}</span>;
}
