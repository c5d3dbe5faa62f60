export * from './agri.module';
