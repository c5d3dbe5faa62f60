import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { LOGGER, PLATFORM_CONFIG, type Logger, type PlatformConfig } from '@trace/platform';
import { IdentityService } from './identity.service';

/** Where a generated admin secret is shown: stdout, as one plain line, whatever the log level. */
export const announce = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Makes sure the platform has an admin client once the schema is migrated:
 * BOOTSTRAP_ADMIN_CLIENT_ID / _SECRET when set; in embedded mode, otherwise, a
 * generated secret printed once (later starts find the admin and do nothing).
 */
@Injectable()
export class AdminBootstrap implements OnModuleInit {
  constructor(
    @Inject(IdentityService) private readonly identity: IdentityService,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit() {
    const result = await this.identity.bootstrapAdmin({
      clientId: this.config.BOOTSTRAP_ADMIN_CLIENT_ID,
      clientSecret: this.config.BOOTSTRAP_ADMIN_CLIENT_SECRET,
      generate: this.config.RUN_MODE === 'embedded',
    });
    switch (result.action) {
      case 'generated':
        announce(`bootstrap admin: clientId=${result.clientId} clientSecret=${result.clientSecret}`);
        this.logger.warn(
          { clientId: result.clientId },
          'bootstrap admin created with a generated secret, printed above once; it is not stored in clear and will not be shown again',
        );
        break;
      case 'created':
      case 'updated':
        this.logger.info({ clientId: result.clientId }, `bootstrap admin ${result.action}`);
        break;
      case 'blocked':
        this.logger.warn(
          { clientId: result.clientId },
          'no active admin client and a revoked one is named "admin": set BOOTSTRAP_ADMIN_CLIENT_ID and BOOTSTRAP_ADMIN_CLIENT_SECRET',
        );
        break;
      default:
        break;
    }
  }
}
