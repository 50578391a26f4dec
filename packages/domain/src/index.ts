export * from './api-key.ts';
export * from './audit.ts';
export * from './key-material.ts';
export * from './limit-decision.ts';
export * from './money.ts';
export * from './periods.ts';
export * from './scopes.ts';
