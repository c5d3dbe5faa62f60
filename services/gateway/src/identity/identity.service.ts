import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { glnProblem } from '@trace/gs1';
import {
  badRequest,
  conflict,
  DomainError,
  generateSecret,
  hashSecret,
  notFound,
  ORG_KINDS,
  PLATFORM_ORG_ID,
  LOGGER,
  TOKEN_REVOCATIONS,
  TOKEN_SERVICE,
  TokenRevocations,
  TokenService,
  type Logger,
  unprocessable,
  verifySecret,
  type OrgKind,
  type Principal,
  type Role,
} from '@trace/platform';
import { CredentialThrottle, SecretCheckQueue } from './credential-throttle';
import type { ClientCredentialsDto, OrganisationDto, TokenResponseDto } from './dto';

type StoredKind = OrgKind | 'platform';

interface OrgRow {
  id: string;
  name: string;
  kind: StoredKind;
  gln?: string | null;
}

interface ClientRow {
  client_id: string;
  org_id: string;
  role: Role;
  secret_hash: string;
  revoked_at: Date | null;
  token_version: number;
}

/** Every kind but the agencies takes part in the supply chain. */
const SUPPLY_CHAIN_KINDS: readonly StoredKind[] = ORG_KINDS.filter((k) => k !== 'inspection_agency' && k !== 'regulator');

/** Which organisation kinds a client of each role may belong to. */
export const ROLE_ORG_KINDS: Record<Role, readonly StoredKind[]> = {
  operator: SUPPLY_CHAIN_KINDS,
  inspector: ['inspection_agency'],
  regulator: ['regulator'],
  // An admin can create organisations and clients for anyone: it belongs to the platform, never to a party.
  admin: ['platform'],
};

const invalidClient = () => new DomainError(401, 'invalid-client', 'Unknown client or wrong secret');

/** Organisations, their API clients and the tokens issued to them. */
@Injectable()
export class IdentityService implements OnApplicationBootstrap {
  /** Checked against when the client id is unknown, so that answer takes as long as a wrong secret. */
  private readonly dummyHash: Promise<string> = hashSecret(randomBytes(32).toString('hex'));

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    @Inject(TOKEN_REVOCATIONS) private readonly revocations: TokenRevocations,
    @Inject(CredentialThrottle) private readonly throttle: CredentialThrottle,
    @Inject(SecretCheckQueue) private readonly secretChecks: SecretCheckQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * A cache that lost its keys (a Redis restart) would let retired tokens
   * work again: at start-up the versions raised within a token's lifetime are
   * published once more.
   */
  async onApplicationBootstrap(): Promise<void> {
    const rows: { client_id: string; token_version: number }[] = await this.ds.query(
      `SELECT client_id, token_version FROM clients WHERE token_version > 0 AND version_changed_at > now() - make_interval(secs => $1)`,
      [this.tokens.ttl + 60],
    );
    for (const r of rows) await this.revocations.publish(r.client_id, r.token_version).catch((err: unknown) => this.logger.warn({ err }, 'token version not republished'));
  }

  /**
   * Client credentials → a token carrying the client's token version. Throttled
   * per address and client id (429 with Retry-After), and the secret check
   * waits its turn in a short queue; an unknown client costs the same scrypt
   * work as a wrong secret, so the answer's timing tells nothing.
   */
  async issueToken(clientId: string, clientSecret: string, address = 'unknown'): Promise<TokenResponseDto> {
    await this.throttle.admit(clientId, address);
    const row = await this.secretChecks.run(async () => {
      const [found]: ClientRow[] = await this.ds.query(
        'SELECT client_id, org_id, role, secret_hash, revoked_at, token_version FROM clients WHERE client_id = $1',
        [clientId],
      );
      const ok = await verifySecret(clientSecret, found?.secret_hash ?? (await this.dummyHash));
      return found && ok && !found.revoked_at ? found : undefined;
    });
    if (!row) {
      await this.throttle.failed(clientId, address);
      throw invalidClient();
    }
    await this.throttle.succeeded(clientId);
    const { token, expiresIn } = await this.tokens.sign({ clientId: row.client_id, orgId: row.org_id, role: row.role }, undefined, row.token_version);
    return { accessToken: token, tokenType: 'Bearer', expiresIn };
  }

  /** A new secret for a client of `orgId` (shown once); every token issued before stops working within seconds. */
  async rotateClient(orgId: string, clientId: string): Promise<ClientCredentialsDto> {
    const clientSecret = generateSecret();
    const [row] = updatedRows<ClientRow>(
      await this.ds.query(
        `UPDATE clients SET secret_hash = $3, token_version = token_version + 1, version_changed_at = now()
          WHERE client_id = $1 AND org_id = $2 AND revoked_at IS NULL
          RETURNING client_id, org_id, role, token_version`,
        [clientId, orgId, await hashSecret(clientSecret)],
      ),
    );
    if (!row) throw notFound('client', `No client ${clientId} in organisation ${orgId}`);
    await this.revocations.publish(row.client_id, row.token_version);
    return { clientId: row.client_id, clientSecret, orgId: row.org_id, role: row.role };
  }

  /** Deletes (revokes) a client of `orgId`: no new tokens, and the ones it has stop working within seconds. */
  async deleteClient(orgId: string, clientId: string): Promise<void> {
    const [row] = updatedRows<ClientRow>(
      await this.ds.query(
        `UPDATE clients SET revoked_at = now(), token_version = token_version + 1, version_changed_at = now()
          WHERE client_id = $1 AND org_id = $2 AND revoked_at IS NULL
          RETURNING client_id, token_version`,
        [clientId, orgId],
      ),
    );
    if (!row) throw notFound('client', `No client ${clientId} in organisation ${orgId}`);
    await this.revocations.publish(row.client_id, row.token_version);
  }

  /**
   * Two producers both called "Green Farm" would be told apart by id only: a
   * name is unique within its kind (case and surrounding spaces ignored). A
   * lock on the name rather than a unique index, which databases holding such
   * twins already could not build.
   */
  async createOrganisation(name: string, kind: OrgKind, gln?: string): Promise<OrganisationDto> {
    if (!ORG_KINDS.includes(kind)) throw unprocessable('org-kind', `Unknown organisation kind ${kind}`);
    const glnRefusal = gln === undefined ? undefined : glnProblem(gln);
    if (glnRefusal) throw badRequest('gln', glnRefusal, [{ field: 'gln', message: glnRefusal }]);
    const trimmed = name.trim();
    const row = await this.ds.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`organisation-name:${kind}:${trimmed.toLowerCase()}`]);
      if (gln !== undefined) {
        // Two creations with one GLN queue here; the unique index is the backstop.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`organisation-gln:${gln}`]);
        const [holder]: OrgRow[] = await tx.query('SELECT id FROM organisations WHERE gln = $1', [gln]);
        if (holder) throw glnTaken(gln, holder.id);
      }
      const [twin]: OrgRow[] = await tx.query(
        'SELECT id, name, kind FROM organisations WHERE kind = $1 AND lower(btrim(name)) = lower($2) LIMIT 1',
        [kind, trimmed],
      );
      if (twin) {
        throw conflict('organisation-name-taken', `A ${kind} organisation named "${twin.name}" exists already (${twin.id})`, {
          existingOrgId: twin.id,
        });
      }
      const [created]: OrgRow[] = await tx.query(
        'INSERT INTO organisations (id, name, kind, gln) VALUES ($1, $2, $3, $4) RETURNING id, name, kind, gln',
        [randomUUID(), trimmed, kind, gln ?? null],
      );
      return created;
    });
    return toOrganisation(row);
  }

  async findOrganisation(id: string): Promise<OrganisationDto | undefined> {
    if (typeof id !== 'string' || id.length > 200) return undefined;
    const [row]: OrgRow[] = await this.ds.query('SELECT id, name, kind, gln FROM organisations WHERE id = $1', [id]);
    return row ? toOrganisation(row) : undefined;
  }

  /** Admins see every organisation; anyone else only their own (others are "not found", not "forbidden"). */
  async getOrganisation(id: string, caller: Principal): Promise<OrganisationDto> {
    const org = caller.role === 'admin' || caller.orgId === id ? await this.findOrganisation(id) : undefined;
    if (!org) throw notFound('organisation', `No organisation ${id}`);
    return org;
  }

  async createClient(orgId: string, role: Role): Promise<ClientCredentialsDto> {
    const org = await this.findOrganisation(orgId);
    if (!org) throw notFound('organisation', `No organisation ${orgId}`);
    const allowed = ROLE_ORG_KINDS[role];
    if (!allowed.includes(org.kind)) {
      const fits = (Object.keys(ROLE_ORG_KINDS) as Role[]).filter((r) => ROLE_ORG_KINDS[r].includes(org.kind));
      throw unprocessable(
        'role-org-kind',
        `A ${role} client belongs to an organisation of kind ${allowed.join(', ')}; ${org.id} is a ${org.kind}` +
          (fits.length ? ` (it may have ${fits.join(', ')} clients)` : ''),
        { role, orgKind: org.kind, allowedRoles: fits },
      );
    }
    const clientId = `cli_${randomBytes(12).toString('hex')}`;
    const clientSecret = generateSecret();
    await this.ds.query('INSERT INTO clients (client_id, org_id, role, secret_hash) VALUES ($1, $2, $3, $4)', [
      clientId,
      org.id,
      role,
      await hashSecret(clientSecret),
    ]);
    return { clientId, clientSecret, orgId: org.id, role };
  }

  /**
   * The first admin, at start-up. From the environment: created, or its
   * secret updated when it changed (idempotent). Embedded without those
   * variables: generated once, when no admin client exists yet; the return
   * value is then the only copy of the secret.
   */
  async bootstrapAdmin(opts: {
    clientId?: string;
    clientSecret?: string;
    generate: boolean;
  }): Promise<{
    action: 'created' | 'updated' | 'unchanged' | 'generated' | 'none' | 'blocked';
    clientId?: string;
    clientSecret?: string;
  }> {
    const result = await this.bootstrapAdminOnce(opts);
    if (result.action === 'updated' && result.clientId) {
      // A new secret from the environment retires the tokens issued with the old one.
      const [row]: ClientRow[] = await this.ds.query('SELECT token_version FROM clients WHERE client_id = $1', [result.clientId]);
      await this.revocations.publish(result.clientId, row.token_version);
    }
    return result;
  }

  private async bootstrapAdminOnce(opts: { clientId?: string; clientSecret?: string; generate: boolean }): Promise<{
    action: 'created' | 'updated' | 'unchanged' | 'generated' | 'none' | 'blocked';
    clientId?: string;
    clientSecret?: string;
  }> {
    return this.ds.transaction(async (m) => {
      // Replicas starting together: one of them does this at a time.
      await m.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':bootstrap-admin'))`);
      if (opts.clientId && opts.clientSecret) {
        const [row]: ClientRow[] = await m.query(
          'SELECT client_id, org_id, role, secret_hash, revoked_at FROM clients WHERE client_id = $1',
          [opts.clientId],
        );
        if (!row) {
          await m.query('INSERT INTO clients (client_id, org_id, role, secret_hash) VALUES ($1, $2, $3, $4)', [
            opts.clientId,
            PLATFORM_ORG_ID,
            'admin',
            await hashSecret(opts.clientSecret),
          ]);
          return { action: 'created', clientId: opts.clientId };
        }
        if (row.org_id !== PLATFORM_ORG_ID || row.role !== 'admin') {
          throw new Error(
            `BOOTSTRAP_ADMIN_CLIENT_ID=${opts.clientId} names an existing ${row.role} client of ${row.org_id}, not a platform admin; choose another id`,
          );
        }
        if (!row.revoked_at && (await verifySecret(opts.clientSecret, row.secret_hash))) {
          return { action: 'unchanged', clientId: opts.clientId };
        }
        await m.query('UPDATE clients SET secret_hash = $2, revoked_at = NULL, token_version = token_version + 1, version_changed_at = now() WHERE client_id = $1', [
          opts.clientId,
          await hashSecret(opts.clientSecret),
        ]);
        return { action: 'updated', clientId: opts.clientId };
      }
      if (!opts.generate) return { action: 'none' };
      const [existing] = await m.query(`SELECT 1 FROM clients WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1`);
      if (existing) return { action: 'none' };
      const clientSecret = generateSecret();
      const inserted: unknown[] = await m.query(
        `INSERT INTO clients (client_id, org_id, role, secret_hash) VALUES ('admin', $1, 'admin', $2)
         ON CONFLICT (client_id) DO NOTHING RETURNING client_id`,
        [PLATFORM_ORG_ID, await hashSecret(clientSecret)],
      );
      // A revoked client already named "admin": leave it alone; the caller says so.
      if (inserted.length === 0) return { action: 'blocked', clientId: 'admin' };
      return { action: 'generated', clientId: 'admin', clientSecret };
    });
  }
}

/** TypeORM answers an UPDATE … RETURNING on PostgreSQL as [rows, affected count]. */
const updatedRows = <T>(result: unknown): T[] => (Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]));

function toOrganisation(row: OrgRow): OrganisationDto {
  return { id: row.id, name: row.name, kind: row.kind, ...(row.gln ? { gln: row.gln } : {}) };
}

const glnTaken = (gln: string, existingOrgId: string) =>
  conflict('organisation-gln-taken', `GLN ${gln} is the party GLN of another organisation (${existingOrgId})`, { existingOrgId });
