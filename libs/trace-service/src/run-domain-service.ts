import type { Type } from '@nestjs/common';
import { runService } from '@trace/messaging';
import { DirectoryClientModule } from '@trace/platform';
import type { DomainName } from './domains';

/**
 * Entry point of a domain service in distributed mode: it looks up
 * organisations and locations at the gateway (IDENTITY_URL).
 */
export function runDomainService(domain: DomainName, module: Type<unknown>) {
  return runService(domain, [module, DirectoryClientModule.forService(domain)], { require: ['IDENTITY_URL'] });
}
