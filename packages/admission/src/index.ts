export * from './admission-store.ts';
