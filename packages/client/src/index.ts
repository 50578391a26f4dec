export { type Admission, type AdmitRequest, readApiKey } from './admission.ts';
export { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
export type { CallUsage, GatewayCall, UnverifiedCall, VerifiedCall } from './gateway-call.ts';
export {
  type FailureKind,
  KeyfenceError,
  postJson,
  type RequestOptions,
  type TransportOptions,
} from './http.ts';
export { Keyfence, type KeyfenceOptions } from './keyfence.ts';
export { consoleLogger, type KeyfenceLogger } from './logger.ts';
export { roundUsd } from './money.ts';
export {
  invalidRequestRefusal,
  missingKeyRefusal,
  type OpenAIErrorBody,
  type Refusal,
  type RefusalReason,
  refusalFor,
  unavailableRefusal,
} from './refusals.ts';
export { postUsageEvents, UsageEmitter, type UsageEmitterOptions } from './usage-emitter.ts';
export { isNearLimit, Verifier, type VerifierOptions, type VerifyAnswer } from './verifier.ts';
export type * from './wire.ts';
