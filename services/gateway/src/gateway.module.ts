import { Module } from '@nestjs/common';

/**
 * The public entry. In embedded mode every service is in-process and the
 * gateway adds only its own public endpoints (token, scan: later issues); in
 * distributed mode main.ts also forwards /v1/<domain>/… to the owning service.
 */
@Module({})
export class GatewayModule {}
