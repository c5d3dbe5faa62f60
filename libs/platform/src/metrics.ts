import { Public } from './auth';
import { Controller, Get, Header, Headers, Inject, UnauthorizedException } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from './config';
import { carriesMetricsToken } from './security-headers';
import { ApiExcludeController } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per process, shared by every service module in it. */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter<string>>();
  private readonly gauges = new Map<string, Gauge<string>>();
  private readonly histograms = new Map<string, Histogram<string>>();
  private readonly collectors = new Map<string, ((gauge: Gauge<string>) => Promise<void>)[]>();
  readonly httpDuration: Histogram<string>;

  constructor(defaults = true) {
    // The event-loop lag histogram samples with a timer: prom-client's default, every 10 ms, alone cost an
    // idle process 3 ms of CPU a second (issue 14: idle ≤ 5 ms/s); every 100 ms still shows a stalled loop.
    if (defaults) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
  }

  counter(name: string, help: string, labelNames: string[]): Counter<string> {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter({ name, help, labelNames, registers: [this.registry] });
      this.counters.set(name, c);
    }
    return c;
  }

  histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
      this.histograms.set(name, h);
    }
    return h;
  }

  gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge({ name, help, labelNames, registers: [this.registry] });
      this.gauges.set(name, g);
    }
    return g;
  }

  /**
   * A gauge whose value is read when Prometheus scrapes (e.g. a row count),
   * not kept up to date in between. Several owners may feed one gauge (the
   * eight services of the embedded host), each setting its own labels; a
   * failing collector leaves its samples out of that scrape.
   */
  scrapedGauge(name: string, help: string, labelNames: string[], collect: (gauge: Gauge<string>) => Promise<void>): void {
    let list = this.collectors.get(name);
    if (!list) {
      const fns: ((gauge: Gauge<string>) => Promise<void>)[] = [];
      list = fns;
      this.collectors.set(name, fns);
      const gauge = new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          this.reset();
          await Promise.all(fns.map((f) => f(this).catch(() => undefined)));
        },
      });
      this.gauges.set(name, gauge);
    }
    list.push(collect);
  }

  httpMiddleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const end = this.httpDuration.startTimer();
      res.on('finish', () => {
        // Route patterns, not raw URLs, so ids do not explode label cardinality.
        const route = req.route?.path ? `${req.baseUrl ?? ''}${req.route.path}` : 'unmatched';
        end({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    };
  }
}

@Public()
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  /** Open unless METRICS_TOKEN is set; then only for `Authorization: Bearer <METRICS_TOKEN>` (a scraper, not a client token). */
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    if (this.config.METRICS_TOKEN && !carriesMetricsToken(authorization, this.config.METRICS_TOKEN)) {
      throw new UnauthorizedException('The metrics need the METRICS_TOKEN bearer token');
    }
    return this.metrics.registry.metrics();
  }
}
