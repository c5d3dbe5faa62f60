export * from './canonical';
export * from './cbv';
export * from './custody';
export * from './domain-rules';
export * from './hash-chain';
export * from './holdings';
export * from './time';
export * from './categories';
