import { Module } from '@nestjs/common';
import { DomainServiceModule } from '@trace/trace-service';
import { agriRulesFromEnv } from './agri.rules';
import { agriHooks, AgriCertificateController, CertificateService } from './certificates';
import { CertificateVerificationController } from './certificate-verification';
import { AGRI_MIGRATIONS } from './migrations';

/**
 * The agri domain: the shared trace-chain core plus the commitment-to-compliance
 * certificate (issuance, public verification, required before shipping for
 * the categories in AGRI_CERTIFICATE_CATEGORIES).
 */
@Module({
  imports: [
    DomainServiceModule.forDomain('agri', {
      rules: agriRulesFromEnv(),
      hooks: agriHooks,
      migrations: AGRI_MIGRATIONS,
      controllers: [AgriCertificateController, CertificateVerificationController],
      providers: [CertificateService],
    }),
  ],
})
export class AgriModule {}
