export * from './gateway.module';
export { AdminBootstrap } from './identity/bootstrap-admin';
