import { Global, Module } from '@nestjs/common';
import { IDENTITY_CLAIMS } from '@trace/contracts';
import { ServiceRuntimeModule } from '@trace/messaging';
import { DIRECTORY } from '@trace/platform';
import { BatchRegistryModule } from '@trace/trace-service';
import { AdminBootstrap } from './identity/bootstrap-admin';
import { BatchPartiesProjector } from './identity/batch-parties';
import { CredentialThrottle, SecretCheckQueue } from './identity/credential-throttle';
import { InternalIdentityClaimsController } from './identity/claims.controller';
import { IdentityClaimsService } from './identity/claims.service';
import {
  AuthController,
  InternalDirectoryController,
  LocationsController,
  OrganisationsController,
} from './identity/identity.controllers';
import { IdentityService } from './identity/identity.service';
import { LocationListController, OrganisationListController } from './identity/lists.controller';
import { LocationService } from './identity/locations.service';
import { GATEWAY_MIGRATIONS } from './identity/migrations';
import { ScanController } from './scan/scan.controller';
import { ScanRateLimiter } from './scan/rate-limit';
import { ScanCache } from './scan/scan.cache';
import { ScanFastPath } from './scan/scan.fast';
import { ScanService } from './scan/scan.service';

/**
 * The public entry. It owns identity: organisations, API clients and their
 * tokens, and locations, in the gateway schema. In embedded mode every
 * service is in-process besides; in distributed mode main.ts also forwards
 * /v1/<domain>/… to the owning service.
 *
 * Global so that DIRECTORY and IDENTITY_CLAIMS (and only those: the DataSource
 * stays private to this module) reach every service module hosted in the same
 * process. Services running without this module import DirectoryClientModule
 * and IdentityClaimsClientModule instead.
 */
@Global()
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'gateway', migrations: GATEWAY_MIGRATIONS }), BatchRegistryModule],
  controllers: [AuthController, OrganisationsController, OrganisationListController, LocationsController, LocationListController, InternalDirectoryController, InternalIdentityClaimsController, ScanController],
  providers: [
    IdentityService,
    CredentialThrottle,
    SecretCheckQueue,
    BatchPartiesProjector,
    LocationService,
    AdminBootstrap,
    { provide: DIRECTORY, useExisting: LocationService },
    IdentityClaimsService,
    { provide: IDENTITY_CLAIMS, useExisting: IdentityClaimsService },
    ScanService,
    ScanCache,
    ScanRateLimiter,
    ScanFastPath,
  ],
  exports: [DIRECTORY, IDENTITY_CLAIMS],
})
export class GatewayModule {}
