export * from './dashboard.ts';
export * from './error-codes.ts';
export * from './gateway.ts';
export * from './keys.ts';

export * from './openapi.ts';
export * from './usage.ts';
export * from './webhooks.ts';
