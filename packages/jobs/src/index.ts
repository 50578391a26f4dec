export * from './key-events.ts';
export * from './limit-jobs.ts';
export * from './maintenance-jobs.ts';
export * from './queues.ts';
export * from './redis-connection.ts';
export * from './replication.ts';
export * from './usage-jobs.ts';
export * from './webhook-jobs.ts';
