export * from './agri.module';
export * from './agri.rules';
