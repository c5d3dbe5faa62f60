export * from './env';
export * from './kafka-mock';
export * from './processes';
export * from './kafka';
