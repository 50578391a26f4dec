export * from './maintenance-jobs.ts';
export * from './queues.ts';
