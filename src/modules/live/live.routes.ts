import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { requireRole, requireStaff } from '../../http/guards';
import type { LiveClient, LiveHub } from './live-hub';

const REFERENCE = /^TD-\d{6,12}$/;

/**
 * `GET /live` (staff session, like every staff page: without one, a 303 to the login page, which an
 * EventSource treats as a failed stream and stops; SPEC §15): a `text/event-stream` of queue counts, notice changes and,
 * with `?notice=TD-…`, who else is viewing or holding that notice. Heartbeats every
 * LIVE_HEARTBEAT_SECONDS keep proxies from closing the stream; `retry` tells the browser to
 * reconnect after 3 s when it does close.
 */
export function liveRoutes(deps: AppDeps, hub: LiveHub): Router {
  const r = Router();
  r.get('/live', requireStaff, requireRole('admin', 'moderator'), async (req, res) => {
    // Only a client that asks for an event stream by name (EventSource always does) gets the endless
    // response; `*/*` (a crawler, a link check) does not.
    if (!/\btext\/event-stream\b/i.test(String(req.headers.accept ?? '')))
      throw new AppError('HTTP.NOT_ACCEPTABLE', 'GET /live is a text/event-stream (use EventSource).', 406);
    const raw = typeof req.query.notice === 'string' ? req.query.notice.toUpperCase() : '';
    if (raw && !REFERENCE.test(raw)) throw AppError.validation([{ field: 'notice', message: 'A notice reference (TD-…).' }]);
    if (raw) {
      const [row] = await deps.db.query(`SELECT 1 FROM notices WHERE reference = $1`, [raw]);
      if (!row) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // nginx and similar proxies would otherwise hold the events back in a buffer.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 3000\n: connected\n\n`);
    const user = req.user!;
    let open = true;
    const client: LiveClient = {
      id: randomUUID(),
      userId: user.id,
      name: user.name,
      notice: raw || null,
      send(event, data) {
        if (open) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      end() {
        if (!open) return;
        open = false;
        res.end();
      },
    };
    const gone = () => {
      open = false;
      void hub.detach(client).catch((err) => deps.logger.warn({ err: String(err) }, 'live: detach failed'));
    };
    req.on('close', gone);
    try {
      await hub.attach(client);
    } catch (err) {
      deps.logger.warn({ err: String(err) }, 'live: the stream could not start');
      client.end();
    }
  });
  return r;
}
