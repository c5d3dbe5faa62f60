/**
 * The small HTTP client of the command-line tools (npm run demo, npm run
 * import): the public API only, as any other program would use it.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: ${status} ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
}

// The tools read answers by field and check statuses, not shapes: the API's own tests check shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class Client {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  /** A client acting with the token of `clientId` (POST /v1/auth/token). */
  async signIn(clientId: string, clientSecret: string): Promise<Client> {
    const r = await this.send('POST', '/v1/auth/token', { clientId, clientSecret });
    if (r.status !== 200) throw new ApiError(r.status, r.body, `signing in as ${clientId}`);
    return new Client(this.baseUrl, r.body.accessToken);
  }

  async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const raw = typeof body === 'string' || body instanceof Uint8Array;
    let r: Response;
    try {
      r = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : raw ? (body as string) : JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(`cannot reach ${this.baseUrl} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}): is the instance running? (npm start, or --url)`);
    }
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: r.status, body: parsed, headers: r.headers };
  }

  get(path: string) {
    return this.send('GET', path);
  }

  /** POST that must answer `expected`; anything else stops with the problem the API gave. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async post<T = any>(path: string, body: unknown, expected = 201): Promise<T> {
    const r = await this.send('POST', path, body);
    if (r.status !== expected) throw new ApiError(r.status, r.body, `POST ${path}`);
    return r.body as T;
  }
}

/** `--name value` or `--name=value` from argv, else the environment variable, else the default. */
export function option(argv: string[], name: string, env?: string, fallback?: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return (env ? process.env[env] : undefined) || fallback;
}

export const DEFAULT_URL = 'http://localhost:8080';
