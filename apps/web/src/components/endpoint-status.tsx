import type { WebhookEndpoint } from '../types.ts';
import { SecretDialog } from './secret-dialog.tsx';
import { Time } from './time.tsx';

/** A webhook endpoint's state as a badge: enabled, failing since when, or disabled (and why). */
export function EndpointStatus({ endpoint }: { endpoint: WebhookEndpoint }) {
  if (!endpoint.disabled) {
    return endpoint.failing_since === null ? (
      <span className="badge active">Enabled</span>
    ) : (
      <span className="badge limit_reached">
        Failing since <Time iso={endpoint.failing_since} />
      </span>
    );
  }
  return (
    <span className="badge disabled">
      {endpoint.disabled_reason === 'failing' ? 'Disabled: failed for 5 days' : 'Disabled'}
    </span>
  );
}

const SECRET_WARNING =
  'Copy this signing secret now. It will not be shown again. Your receiver verifies each delivery with it (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). Lost it? Rotate the secret.';

/** An endpoint's new signing secret, shown this once (when the endpoint is added, and after a rotation). */
export function SigningSecretDialog({
  title,
  secret,
  onClose,
}: {
  title: string;
  secret: string;
  onClose: () => void;
}) {
  return (
    <SecretDialog
      title={title}
      secret={secret}
      onClose={onClose}
      warning={SECRET_WARNING}
      label="Signing secret"
    />
  );
}
