import type { Type } from '@nestjs/common';
import { runService } from '@trace/messaging';
import { DirectoryClientModule } from '@trace/platform';
import type { DomainName } from './domains';
import { IdentityClaimsClientModule } from './identity';

/**
 * Entry point of a domain service in distributed mode: it looks up
 * organisations and locations, and claims GTINs, lots and serials, at the
 * gateway (IDENTITY_URL).
 */
export function runDomainService(domain: DomainName, module: Type<unknown>) {
  return runService(domain, [module, DirectoryClientModule.forService(domain), IdentityClaimsClientModule.forService(domain)], { require: ['IDENTITY_URL'] });
}
