// The write API (`/api/…`): create nodes, spin threads, open proposals, vote — for participants with a session
// token and partner sites with signed requests acting for the roles they registered — plus `GET /api/me` and the
// public `GET /api/nodes/{id}`. Every write is rate-limited, validated strictly, idempotent (Idempotency-Key)
// and committed to the event store before it is acknowledged (concurrent writes share one transaction: the
// CommandBatcher), then the outbox publisher is nudged.
import type { IncomingMessage } from 'node:http';
import type { Request, Response, Router } from 'express';
import { Counter } from 'prom-client';
import type { z } from 'zod';
import type { Command } from '../../core/domain/commands.js';
import { RejectedError } from '../../core/domain/decide.js';
import { CommandBatcher } from '../../core/domain/batcher.js';
import type { CommandResult } from '../../core/domain/execute.js';
import { ID_PATTERN } from '../../core/domain/ids.js';
import { provide, redisKeyPrefix, type ServeContext, type ServeModule } from '../context.js';
import { HttpError, sendJson } from '../http.js';
import { clientIp, networkOf } from '../net.js';
import {
  TOKEN_CACHE_MS,
  TokenCache,
  authenticateBearer,
  authenticatePartner,
  isPartnerRequest,
  type Principal,
} from './auth.js';
import { announcesBody, checkJsonContentType, parseJson, readRawBody } from './body.js';
import { partnerOwnsRole } from './credentials.js';
import { RateLimiter, type Bucket } from './limiter.js';
import { createOriginPolicy } from './origins.js';
import { nodeView } from './reads.js';
import { ReplayCache } from './replay.js';
import {
  bodies,
  bodySchema,
  castVoteCommand,
  createNodeCommand,
  engageThreadCommand,
  openProposalCommand,
  parseBody,
  registerRoleCommand,
} from './schemas.js';
import { SIGNATURE_WINDOW_S } from './signature.js';

export interface ApiOptions {
  /** Prefix of the Redis keys for rate limits and seen signatures (default 'weft:'). */
  redisPrefix?: string;
  /** The clock (ms) for signature windows and rate-limit windows (tests). */
  now?: () => number;
  /** How long a verified session token is kept in process (default TOKEN_CACHE_MS; 0: looked up every time). */
  tokenCacheMs?: number;
}

/** The presence service the live module may provide: how many clients look at a node now. */
export interface PresenceCounter {
  count(nodeId: string): number | Promise<number>;
}

const SCOPE_NAMES: Record<string, string> = { ip: 'address', network: 'network', partner: 'partner' };

/** Idempotency-Key: 1–100 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,100}$/;

/** What one write route does with its body. */
interface WriteSpec<S extends z.ZodRawShape> {
  body: z.ZodObject<S>;
  /** the body names the role a partner acts for (`roleId`); false: partner-only, acts for nobody */
  acts: boolean;
  /** only partner sites may call it */
  partnerOnly?: boolean;
  command: (body: z.output<z.ZodObject<S>>, roleId: string, params: Record<string, string>) => Command;
  /** the addressed aggregate, for a 404 when a refusal is because it does not exist */
  target?: (params: Record<string, string>) => { table: 'proj_nodes' | 'proj_proposals'; id: string };
}

function idParam(req: Request, name: string): string {
  const id = req.params[name];
  if (typeof id !== 'string' || !ID_PATTERN.test(id))
    throw new HttpError(404, 'not_found', `no such ${name.replace(/Id$/, '')}: '${String(id)}'`);
  return id;
}

function idempotencyKey(req: IncomingMessage): string | undefined {
  const v = req.headers['idempotency-key'];
  if (v === undefined) return undefined;
  const key = Array.isArray(v) ? v[0]! : v;
  if (!IDEMPOTENCY_KEY.test(key))
    throw new HttpError(400, 'bad_idempotency_key', 'Idempotency-Key must be 1–100 visible ASCII characters');
  return key;
}

export function createApiModule(ctx: ServeContext, options: ApiOptions = {}): ServeModule {
  const { db, config, logger } = ctx;
  const now = options.now ?? Date.now;
  const prefix = options.redisPrefix ?? redisKeyPrefix(config.namespace);
  const limiter = new RateLimiter({
    windowMs: config.rateLimit.windowMs,
    redis: ctx.redis,
    prefix,
    logger,
    now,
  });
  const replay = new ReplayCache({
    ttlMs: (2 * SIGNATURE_WINDOW_S + 10) * 1000,
    redis: ctx.redis,
    prefix,
    logger,
    now,
  });
  const tokens = new TokenCache(options.tokenCacheMs ?? TOKEN_CACHE_MS);
  provide(ctx, 'origins', createOriginPolicy(db, logger));
  // group commit: writes that arrive while one transaction is in flight commit together in the next
  const commands = new CommandBatcher(db);
  const limited = new Counter({
    name: 'weft_api_rate_limited_total',
    help: 'Writes refused with 429, by the bucket that was full',
    labelNames: ['scope'] as const,
    registers: [ctx.metrics.registry],
  });

  const addressBuckets = (req: IncomingMessage): Bucket[] => {
    const ip = clientIp(req, config.trustProxy);
    return [
      { scope: 'ip', id: ip, limit: config.rateLimit.perIp },
      { scope: 'network', id: networkOf(ip), limit: config.rateLimit.perNetwork },
    ];
  };

  const enforce = async (buckets: Bucket[]): Promise<void> => {
    const d = await limiter.hit(buckets);
    if (d.allowed) return;
    limited.inc({ scope: d.scope });
    throw new HttpError(
      429,
      'rate_limited',
      `too many writes from this ${SCOPE_NAMES[d.scope] ?? d.scope}; retry in ${d.retryAfterS} s`,
      { 'Retry-After': String(d.retryAfterS) },
    );
  };

  /**
   * Counts, authenticates and reads a write. Participants: the address limits first (before any database
   * work), then the token, then the body. Partners: the body (the signature covers it), the signature, then
   * the partner's own limit — a partner's server sends for many people from one address; a failed signature
   * counts against the address.
   */
  const admit = async (req: Request): Promise<{ who: Principal; body: unknown }> => {
    if (isPartnerRequest(req)) {
      let who: Principal;
      let raw: Buffer;
      try {
        checkJsonContentType(req);
        raw = await readRawBody(req, config.maxBodyBytes);
        who = await authenticatePartner(req, req.originalUrl, raw, { db, replay, nowMs: now() });
      } catch (err) {
        if (err instanceof HttpError) await enforce(addressBuckets(req));
        throw err;
      }
      if (who.kind === 'partner')
        await enforce([{ scope: 'partner', id: who.partner.name, limit: config.rateLimit.perNetwork }]);
      return { who, body: parseJson(raw) };
    }
    await enforce(addressBuckets(req));
    const who = await authenticateBearer(db, req, tokens);
    checkJsonContentType(req);
    const raw = await readRawBody(req, config.maxBodyBytes);
    return { who, body: parseJson(raw) };
  };

  /** Whether a refused command's target is simply missing (then 404, not 422). */
  const missing = async (t: { table: string; id: string }): Promise<boolean> => {
    const key = t.table === 'proj_nodes' ? 'node_id' : 'proposal_id';
    const { rows } = await db.query(`SELECT 1 FROM ${t.table} WHERE ${key} = $1`, [t.id]);
    return rows.length === 0;
  };

  const write =
    <S extends z.ZodRawShape>(spec: WriteSpec<S>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        const { who, body } = await admit(req);
        const params: Record<string, string> = {};
        for (const name of Object.keys(req.params)) params[name] = idParam(req, name);
        if (spec.partnerOnly && who.kind !== 'partner')
          throw new HttpError(403, 'forbidden', 'only partner sites (signed requests) may call this');
        const schema = bodySchema(spec.body, spec.acts && who.kind === 'partner');
        const { roleId: actingFor, ...fields } = parseBody(schema, body);
        let roleId = '';
        if (who.kind === 'role') roleId = who.roleId;
        else if (spec.acts) {
          roleId = actingFor as string;
          if (!(await partnerOwnsRole(db, who.partner.name, roleId)))
            throw new HttpError(
              403,
              'forbidden',
              `partner '${who.partner.name}' may act only for roles it registered (POST /api/roles); not for ${roleId}`,
            );
        }
        const command = spec.command(fields as z.output<z.ZodObject<S>>, roleId, params);
        const key = idempotencyKey(req);
        let result: CommandResult;
        try {
          result = await commands.submit({
            command,
            actor: who.actor,
            // keys are the caller's own: two callers choosing the same key never meet
            idempotencyKey: key === undefined ? undefined : `${who.actor}/${key}`,
          });
        } catch (err) {
          if (err instanceof RejectedError && spec.target) {
            const t = spec.target(params);
            if (await missing(t))
              throw new HttpError(
                404,
                'not_found',
                `no such ${t.table === 'proj_nodes' ? 'node' : 'proposal'}: ${t.id}`,
              );
          }
          throw err;
        }
        const position = result.events.at(-1)?.position ?? null;
        const out: Record<string, unknown> = {
          ok: true,
          ids: result.ids,
          position,
          replayed: result.replayed,
        };
        if (result.note) out.note = result.note;
        if (result.replayed) sendJson(res, 200, out, { 'Idempotency-Replayed': 'true' });
        else sendJson(res, position === null ? 200 : 201, out);
        if (!result.replayed && position !== null)
          (ctx.services.get('outbox') as { nudge(): void } | undefined)?.nudge();
      } catch (err) {
        // never read the rest of a body we did not want: answer, then close the connection
        if (!req.complete && announcesBody(req)) res.setHeader('Connection', 'close');
        throw err;
      }
    };

  const me = async (req: Request, res: Response): Promise<void> => {
    let who: Principal;
    if (isPartnerRequest(req)) {
      const raw = await readRawBody(req, config.maxBodyBytes);
      who = await authenticatePartner(req, req.originalUrl, raw, { db, replay, nowMs: now() });
    } else who = await authenticateBearer(db, req, tokens);
    if (who.kind === 'partner')
      sendJson(res, 200, { partner: who.partner.name, origins: who.partner.origins });
    else sendJson(res, 200, { roleId: who.roleId, regionId: who.regionId ?? null, name: who.name ?? null });
  };

  const node = async (req: Request, res: Response): Promise<void> => {
    const nodeId = idParam(req, 'nodeId');
    const view = await nodeView(db, nodeId, new Date(now()));
    if (!view) throw new HttpError(404, 'not_found', `no such node: ${nodeId}`);
    const presence = ctx.services.get('presence') as PresenceCounter | undefined;
    let count = 0;
    if (presence) {
      try {
        count = await presence.count(nodeId);
      } catch {
        count = 0; // presence is a comfort: a failure shows nobody, never an error
      }
    }
    sendJson(res, 200, { ...view, presence: count });
  };

  return {
    name: 'api',
    async close() {
      await commands.close();
    },
    routes(router: Router) {
      router.get('/api/me', me);
      router.get('/api/nodes/:nodeId', node);
      router.post(
        '/api/roles',
        write({
          body: bodies.registerRole,
          acts: false,
          partnerOnly: true,
          command: (b) => registerRoleCommand(b),
        }),
      );
      router.post(
        '/api/nodes',
        write({
          body: bodies.createNode,
          acts: true,
          command: (b, roleId) => createNodeCommand(b, { roleId }),
        }),
      );
      router.post(
        '/api/nodes/:nodeId/threads',
        write({
          body: bodies.engageThread,
          acts: true,
          command: (_b, roleId, p) => engageThreadCommand(p.nodeId!, { roleId }),
          target: (p) => ({ table: 'proj_nodes', id: p.nodeId! }),
        }),
      );
      router.post(
        '/api/nodes/:nodeId/proposals',
        write({
          body: bodies.openProposal,
          acts: true,
          command: (b, roleId, p) => openProposalCommand(p.nodeId!, b, { roleId }),
          target: (p) => ({ table: 'proj_nodes', id: p.nodeId! }),
        }),
      );
      router.post(
        '/api/proposals/:proposalId/votes',
        write({
          body: bodies.castVote,
          acts: true,
          command: (b, roleId, p) => castVoteCommand(p.proposalId!, b, { roleId }),
          target: (p) => ({ table: 'proj_proposals', id: p.proposalId! }),
        }),
      );
    },
  };
}
