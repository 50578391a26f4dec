export type { IngestResult, UsageEventInput, VerifyResult } from '@keyfence/contracts';
export { type GatewayMiddlewareOptions, keyfenceGateway, type VerifiedKey } from './gateway-middleware.ts';
export { KeyfenceError, type TransportOptions } from './http.ts';
export { postUsageEvents, UsageEmitter, type UsageEmitterOptions } from './usage-emitter.ts';
export { Verifier, type VerifierOptions } from './verifier.ts';
