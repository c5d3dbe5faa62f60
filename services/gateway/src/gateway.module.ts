import { Global, Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';
import { DIRECTORY } from '@trace/platform';
import { BatchRegistryModule } from '@trace/trace-service';
import { AdminBootstrap } from './identity/bootstrap-admin';
import {
  AuthController,
  InternalDirectoryController,
  LocationsController,
  OrganisationsController,
} from './identity/identity.controllers';
import { IdentityService } from './identity/identity.service';
import { LocationService } from './identity/locations.service';
import { GATEWAY_MIGRATIONS } from './identity/migrations';
import { ScanController } from './scan/scan.controller';
import { ScanRateLimiter } from './scan/rate-limit';
import { ScanCache } from './scan/scan.cache';
import { ScanService } from './scan/scan.service';

/**
 * The public entry. It owns identity: organisations, API clients and their
 * tokens, and locations, in the gateway schema. In embedded mode every
 * service is in-process besides; in distributed mode main.ts also forwards
 * /v1/<domain>/… to the owning service.
 *
 * Global so that DIRECTORY (and only DIRECTORY: the DataSource stays private
 * to this module) reaches every service module hosted in the same process.
 * Services running without this module import DirectoryClientModule instead.
 */
@Global()
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'gateway', migrations: GATEWAY_MIGRATIONS }), BatchRegistryModule],
  controllers: [AuthController, OrganisationsController, LocationsController, InternalDirectoryController, ScanController],
  providers: [IdentityService, LocationService, AdminBootstrap, { provide: DIRECTORY, useExisting: LocationService }, ScanService, ScanCache, ScanRateLimiter],
  exports: [DIRECTORY],
})
export class GatewayModule {}
