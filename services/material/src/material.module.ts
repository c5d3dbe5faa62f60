import { Module } from '@nestjs/common';
import { DomainServiceModule } from '@trace/trace-service';
import { InstallationService, materialHooks, MaterialInstallationController } from './installations';
import { materialRules } from './material.rules';
import { MATERIAL_MIGRATIONS } from './migrations';

/**
 * The material domain: the shared trace-chain core; batches state their
 * standard and grade; shipping to a construction site records an installation.
 */
@Module({
  imports: [
    DomainServiceModule.forDomain('material', {
      rules: materialRules(),
      hooks: materialHooks,
      migrations: MATERIAL_MIGRATIONS,
      controllers: [MaterialInstallationController],
      providers: [InstallationService],
    }),
  ],
})
export class MaterialModule {}
