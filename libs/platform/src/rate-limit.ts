import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { PLATFORM_CONFIG, type PlatformConfig } from './config';
import { REQUEST_BUDGETS, type Budget, type RequestBudgets } from './request-budget';

/**
 * The address a request came from. Without trusted proxies the socket's
 * address, whatever X-Forwarded-For says (anyone can write that header);
 * behind `trustedHops` proxies, the entry that many hops before the socket
 * peer — each proxy appends the address it saw, so entries further left
 * are the client's to invent.
 */
export function clientAddress(remoteAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedHops: number): string {
  if (trustedHops <= 0 || !forwardedFor) return normaliseIp(remoteAddress ?? 'unknown');
  const list = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  if (trustedHops === 1 && !list.includes(',')) {
    // One proxy, one address before it (the usual case, on every request): the rule below, without the arrays.
    const only = list.trim();
    return normaliseIp(only || (remoteAddress ?? 'unknown'));
  }
  const remote = normaliseIp(remoteAddress ?? 'unknown');
  const chain = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const hops = [...chain, remote];
  return normaliseIp(hops[Math.max(0, hops.length - 1 - trustedHops)]);
}

/** IPv4-mapped IPv6 (::ffff:1.2.3.4) and plain IPv4 are one client. */
const normaliseIp = (ip: string) => (ip.charCodeAt(0) === 58 /* : */ ? ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1') : ip);

/**
 * Public look-ups (certificate numbers, drug trace codes): LOOKUP_RATE_LIMIT
 * per client address and minute, counted by the shared request budgets
 * (Redis when distributed, memory when embedded); over it a 429 with Retry-After.
 */
@Injectable()
export class LookupRateLimiter {
  private readonly budget: Budget;

  constructor(
    @Inject(REQUEST_BUDGETS) private readonly budgets: RequestBudgets,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.budget = { name: 'lookup', limit: config.LOOKUP_RATE_LIMIT, windowSeconds: 60, what: 'look-ups from this address' };
  }

  take(address: string): Promise<void> {
    return this.budgets.take(this.budget, address);
  }
}

const LOOKUP_KEY = 'trace:lookup';
/** A public look-up: counted against the caller's address (LookupRateLimiter). */
export const RateLimitedLookup = () => SetMetadata(LOOKUP_KEY, true);

/**
 * Applies LookupRateLimiter to @RateLimitedLookup handlers where this process
 * sees the client's own address: embedded mode. In distributed mode a service
 * sees the gateway's address, so the gateway counts before it forwards
 * (services/gateway/src/proxy.ts).
 */
@Injectable()
export class LookupRateLimitGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(LookupRateLimiter) private readonly limiter: LookupRateLimiter,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http' || this.config.RUN_MODE !== 'embedded') return true;
    if (!this.reflector.getAllAndOverride<boolean>(LOOKUP_KEY, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    await this.limiter.take(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.config.TRUST_PROXY_HOPS));
    return true;
  }
}
