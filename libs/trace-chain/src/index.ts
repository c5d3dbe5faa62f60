export * from './canonical';
export * from './hash-chain';
