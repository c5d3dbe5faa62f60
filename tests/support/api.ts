import { TokenService, type Role } from '@trace/platform';

/** A small HTTP client for the public API as a user sees it. */
export class Api {
  constructor(
    readonly baseUrl: string,
    /** A bearer token, or one being signed (signing is asynchronous). */
    private readonly token?: string | Promise<string>,
  ) {}

  as(secret: string, orgId: string, role: Role): Api {
    return new Api(this.baseUrl, new TokenService(secret).sign({ clientId: `${role}-client`, orgId, role }).then((t) => t.token));
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
    const r = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(await this.headers()),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        accept: 'application/json',
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep text
    }
    return { status: r.status, body: parsed, headers: r.headers };
  }

  async headers(): Promise<Record<string, string>> {
    const token = await this.token;
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  get(path: string) {
    return this.request('GET', path);
  }
  post(path: string, body: unknown) {
    return this.request('POST', path, body);
  }
}

export const aBatch = (lot: string, locationId = 'farm-1') => ({
  gtin: '09506000134352',
  lot,
  quantity: { value: 1200, unit: 'kg' },
  producedAt: '2026-11-20T08:00:00+08:00',
  locationId,
});

/** Reads one sample of a Prometheus counter from /metrics text. */
export function counter(metrics: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.split(' ').pop());
  }
  return 0;
}

/** Registers the product a batch needs (its GTIN must belong to the caller's organisation). */
export async function aProduct(api: Api, domain = 'agri', gtin = '09506000134352', category = 'vegetable') {
  const r = await api.post(`/v1/${domain}/products`, { gtin, name: `Product ${gtin}`, category });
  if (r.status !== 201 && r.status !== 409) throw new Error(`product registration failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
