import { Request, Router } from 'express';
import type { AppDeps } from '../../deps';
import { requestContext, validateBody } from '../../shared/http';

import type { Notice } from '../notices';
import { claimNotice } from './claim-notice';
import { decide } from './decide';
import { listQueue, noticeDetail } from './queue.queries';
import { queueCountsCache } from './queue-counts-cache';
import { releaseNotice } from './release-notice';
import { DecisionDto, VersionDto } from './review.dto';
import { requireBearer, requireRole } from '../../http/guards';
import { staffActorFrom } from '../../http/actor';

const brief = (n: Notice) => ({
  reference: n.reference,
  status: n.status,
  assigneeId: n.assigneeId,
  decision: n.decision,
  decisionReason: n.decisionReason,
  decidedAt: n.decidedAt,
  dueAt: n.dueAt,
  version: n.version,
});

/** The staff review API (SPEC §7), for moderators and admins with a bearer token. */
export function reviewApi(deps: AppDeps, counts = queueCountsCache(deps)): Router {
  const r = Router();
  const guard = [requireBearer(deps.db), requireRole('admin', 'moderator')];
  const q = (req: Request, k: string) => (typeof req.query[k] === 'string' && req.query[k] ? String(req.query[k]) : undefined);

  r.get('/notices', ...guard, async (req, res) => {
    const now = deps.clock.now();
    const page = await listQueue(
      deps.db.manager,
      {
        status: q(req, 'status'),
        assignee: q(req, 'assignee'),
        source: q(req, 'source'),
        claimType: q(req, 'claimType'),
        flag: q(req, 'flag'),
        cursor: q(req, 'cursor'),
      },
      req.user!.id,
      now,
    );
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      notices: page.rows,
      nextCursor: page.nextCursor,
      counts: await counts().then((c) => ({ ...c.byStatus, overdue: c.overdue })),
    });
  });

  r.get('/notices/:reference', ...guard, async (req, res) => {
    const d = await noticeDetail(deps.db.manager, String(req.params.reference));
    const n = d.notice;
    const { statusTokenHash: _hidden, ...notice } = n;
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      ...notice,
      assignee: d.assignee,
      allowedEvents: d.allowed,
      targets: d.targets.map((t) => ({
        url: t.url,
        outcome: t.outcome,
        itemId: t.itemId,
        ...(t.image ? { image: { id: t.image.id, url: t.image.url, status: t.image.status, inItem: t.image.itemTitle } } : {}),
        item: t.item && {
          id: t.item.id,
          slug: t.item.slug,
          title: t.item.title,
          status: t.item.status,
          originalUrl: t.item.original_url,
          firstFetchedAt: t.item.first_fetched_at,
          rights: t.item.rights,
          source: { id: t.item.source_id, name: t.item.source_name, domains: t.item.source_domains },
        },
      })),
      timeline: d.timeline,
    });
  });

  r.post('/notices/:reference/claim', ...guard, async (req, res) => {
    const dto = await validateBody(VersionDto, req.body ?? {});
    const n = await claimNotice(deps, {
      reference: String(req.params.reference),
      actor: staffActorFrom(req),
      version: dto.version,
      context: requestContext(req),
    });
    res.json(brief(n));
  });

  r.post('/notices/:reference/release', ...guard, async (req, res) => {
    const dto = await validateBody(VersionDto, req.body ?? {});
    const n = await releaseNotice(deps, {
      reference: String(req.params.reference),
      actor: staffActorFrom(req),
      version: dto.version,
      context: requestContext(req),
    });
    res.json(brief(n));
  });

  r.post('/notices/:reference/decision', ...guard, async (req, res) => {
    const dto = await validateBody(DecisionDto, req.body);
    const n = await decide(deps, {
      ...dto,
      reference: String(req.params.reference),
      actor: staffActorFrom(req),
      context: requestContext(req),
    });
    res.json(brief(n));
  });

  return r;
}
