export * from './event-hash';
export * from './identifiers';
export * from './mapping';
export * from './schema';
export * from './types';
export * from './xml-binding';
export * from './query-schedule';
export * from './rest-headers';
