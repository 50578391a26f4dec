export * from './admission-model.ts';
export * from './admission-store.ts';
