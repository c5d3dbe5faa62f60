export * from './gateway.module';
export { AdminBootstrap } from './identity/bootstrap-admin';
export { GatewayAuditController, auditUpstreams } from './audit-fanout';
