import { Public } from './auth';
import { ApiJsonResponse } from './openapi-docs';
import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

export interface CheckResult {
  ok: boolean;
  detail?: string;
}
export type HealthCheck = () => Promise<CheckResult>;

/** Readiness checks contributed by whatever the process hosts (databases, broker, cache). */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async run(timeoutMs = 3000): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<CheckResult>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` }), timeoutMs);
        });
        const result = await Promise.race([
          check().catch((err: Error) => ({ ok: false, detail: err.message })),
          timeout,
        ]);
        clearTimeout(timer);
        return [name, result] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ok: entries.every(([, r]) => r.ok), checks };
  }
}

@Public()
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(@Inject(HealthRegistry) private readonly registry: HealthRegistry) {}

  @Get('live')
  @HttpCode(200)
  @ApiJsonResponse(200, 'The process is up', { status: 'ok' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiJsonResponse(200, 'Database, broker and cache answer (each check with its detail)', {
    status: 'ok',
    checks: { database: { ok: true }, broker: { ok: true, detail: 'in-process' }, cache: { ok: true, detail: 'memory' } },
  })
  @ApiServiceUnavailableResponse({ description: 'A dependency does not answer' })
  async ready(@Res({ passthrough: true }) res: Response) {
    const { ok, checks } = await this.registry.run();
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'error', checks };
  }
}
