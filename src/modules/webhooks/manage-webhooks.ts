import { randomBytes } from 'node:crypto';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError, FieldError } from '../../shared/errors';
import type { RequestContext } from '../../shared/request-context';
import { secretBox } from '../../shared/secret-box';
import { checkPublicHost } from '../../shared/ssrf';
import { Actor, record } from '../audit';
import { Webhook, WEBHOOK_EVENTS, WebhookEventType } from './webhook.entity';

export const MAX_WEBHOOKS = 10;
export const SECRET_PREFIX = 'whsec_';

/** The box the signing secrets are sealed in (see webhook.entity.ts for why sealed, not hashed). */
export const secretsBox = (deps: Pick<AppDeps, 'sessionSecret'>) => secretBox(deps.sessionSecret, 'webhook-secret');

export interface RegisterWebhook {
  submitterId: string;
  actor: Actor;
  url: unknown;
  events: unknown;
  context?: RequestContext;
}

/** Checks the input (the URL's address included, by DNS now) and answers the field errors, or the clean values. */
export async function checkWebhookInput(
  deps: Pick<AppDeps, 'config'>,
  input: { url: unknown; events: unknown },
): Promise<{ errors: FieldError[]; url: string; events: WebhookEventType[] }> {
  const errors: FieldError[] = [];
  const url = typeof input.url === 'string' ? input.url.trim() : '';
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch {
    /* below */
  }
  if (!u || !['http:', 'https:'].includes(u.protocol) || url.length > 2000 || u.username || u.password) {
    errors.push({
      field: 'url',
      message: 'Give the http(s) URL of your receiver (at most 2,000 characters, no user name or password in it).',
    });
  } else {
    const refused = await checkPublicHost(u, deps.config.webhooks.allowPrivate);
    if (refused) errors.push({ field: 'url', message: `This address cannot receive webhooks: ${refused}.` });
  }
  const list = (Array.isArray(input.events) ? input.events : typeof input.events === 'string' ? [input.events] : []).map(String);
  const unknown = list.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (!list.length || unknown.length) {
    errors.push({ field: 'events', message: `Choose one or more of: ${WEBHOOK_EVENTS.join(', ')}.` });
  }
  return { errors, url, events: [...new Set(list)] as WebhookEventType[] };
}

/**
 * Registers a webhook: checks the URL (private addresses refused unless ALLOW_PRIVATE_WEBHOOKS) and
 * the events, makes a secret, stores it sealed, audits. The clear secret is returned once.
 */
export async function registerWebhook(
  deps: Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret'>,
  cmd: RegisterWebhook,
): Promise<{ webhook: Webhook; secret: string }> {
  const { errors, url, events } = await checkWebhookInput(deps, cmd);
  if (errors.length) throw AppError.validation(errors);
  return withTransaction(deps.db, async (tx) => {
    await tx.query(`SELECT id FROM submitters WHERE id = $1 FOR UPDATE`, [cmd.submitterId]);
    const repo = tx.getRepository(Webhook);
    if ((await repo.countBy({ submitterId: cmd.submitterId })) >= MAX_WEBHOOKS) {
      throw AppError.validation([{ field: 'url', message: `You have ${MAX_WEBHOOKS} webhooks already: delete one first.` }]);
    }
    const secret = SECRET_PREFIX + randomBytes(32).toString('base64url');
    const webhook = await repo.save(
      repo.create({
        submitterId: cmd.submitterId,
        url,
        events,
        secretSealed: secretsBox(deps).seal(secret),
        secretPrefix: secret.slice(0, 10),
        status: 'active',
        consecutiveFailures: 0,
        lastStatusCode: null,
        lastAttemptAt: null,
        disabledAt: null,
        disabledReason: null,
      }),
    );
    await record(tx, {
      actor: cmd.actor,
      action: 'webhook.registered',
      subject: { type: 'webhook', id: webhook.id },
      details: { submitterId: cmd.submitterId, url, events },
      context: cmd.context,
      at: deps.clock.now(),
    });
    return { webhook, secret };
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One of the submitter's own webhooks (another's is as unknown as none), or null. */
export async function webhookOf(deps: Pick<AppDeps, 'db'>, submitterId: string, id: string): Promise<Webhook | null> {
  if (!UUID.test(id)) return null;
  return deps.db.getRepository(Webhook).findOneBy({ id, submitterId });
}

/** Deletes a webhook and its undelivered and logged deliveries. Audited. */
export async function deleteWebhook(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitterId: string; id: string; actor: Actor; context?: RequestContext },
): Promise<void> {
  await withTransaction(deps.db, async (tx) => {
    if (!UUID.test(cmd.id)) throw AppError.notFound('Webhook', 'WEBHOOK.NOT_FOUND');
    const [[w]] = await tx.query(`DELETE FROM webhooks WHERE id = $1 AND submitter_id = $2 RETURNING id, url`, [cmd.id, cmd.submitterId]);
    if (!w) throw AppError.notFound('Webhook', 'WEBHOOK.NOT_FOUND');
    const [, dropped] = await tx.query(`DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending'`, [cmd.id]);
    await tx.query(`DELETE FROM webhook_deliveries WHERE webhook_id = $1`, [cmd.id]);
    await record(tx, {
      actor: cmd.actor,
      action: 'webhook.deleted',
      subject: { type: 'webhook', id: cmd.id },
      details: { submitterId: cmd.submitterId, url: w.url, undelivered: dropped },
      context: cmd.context,
      at: deps.clock.now(),
    });
  });
}

/** Enables a disabled webhook again: its pending deliveries are due at once. Audited. */
export async function enableWebhook(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitterId: string; id: string; actor: Actor; context?: RequestContext },
): Promise<void> {
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    if (!UUID.test(cmd.id)) throw AppError.notFound('Webhook', 'WEBHOOK.NOT_FOUND');
    const [, n] = await tx.query(
      `UPDATE webhooks SET status = 'active', disabled_at = NULL, disabled_reason = NULL, consecutive_failures = 0
        WHERE id = $1 AND submitter_id = $2 AND status = 'disabled'`,
      [cmd.id, cmd.submitterId],
    );
    if (n !== 1) throw AppError.notFound('Disabled webhook', 'WEBHOOK.NOT_FOUND');
    // The retry window starts again for what waited while it was disabled.
    await tx.query(`UPDATE webhook_deliveries SET next_attempt_at = $2, created_at = $2 WHERE webhook_id = $1 AND status = 'pending'`, [
      cmd.id,
      now,
    ]);
    await record(tx, {
      actor: cmd.actor,
      action: 'webhook.enabled',
      subject: { type: 'webhook', id: cmd.id },
      details: { submitterId: cmd.submitterId },
      context: cmd.context,
      at: now,
    });
  });
}
