export * from './errors';
export * from './check-digit';
export * from './date';
export * from './ai';
export * from './digital-link';
export * from './element-string';
export * from './drug-code';
export * from './link-type';
