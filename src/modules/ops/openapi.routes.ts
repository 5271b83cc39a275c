import { Router } from 'express';
import type { AppDeps } from '../../deps';

/**
 * `GET /api/v1/openapi.json`: every `/api/v1` route of the product (SPEC §7). A test walks the
 * Express router stack and fails when a registered route is missing here, so a module that adds
 * an API route adds its entry too.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const errors = (description: string) => json(ref('Errors'), description);
const bearer = [{ bearer: [] as string[] }];
/** A submitter token (`tds_…`, SPEC §14) or none (public). */
const submitterOrNone = [{ submitterToken: [] as string[] }, {}];
const pathParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const queryParam = (name: string, description: string, schema: object = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const body = (schema: object, required = true) => ({ required, content: { 'application/json': { schema } } });
const staffErrors = { 401: errors('No or invalid API token'), 403: errors('Wrong role') };

export function openApiDocument(baseUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Takedown Desk API',
      version: '1',
      description: 'Takedown notices (public) and the staff API. Errors are {"errors":[{"field","message"}]}.',
    },
    servers: [{ url: `${baseUrl}/api/v1` }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A staff API token (create one on /users or with `npm run cli -- create-token`).',
        },
        submitterToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A rights holder's token (`tds_…`), created in the portal at /portal/tokens and shown once. It acts as that submitter only: notices are sent from its verified address (pending at once, no verification link) and may omit goodFaith, accuracy and signature when standing statements are on file; GET /notices and GET /notices/{reference} then show only its own notices. It opens no staff route.",
        },
      },
      schemas: {
        Errors: {
          type: 'object',
          properties: {
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
            code: { type: 'string' },
          },
        },
        NoticeInput: {
          type: 'object',
          required: [
            'name',
            'email',
            'address',
            'country',
            'role',
            'workDescription',
            'infringingUrls',
            'goodFaith',
            'accuracy',
            'signature',
          ],
          properties: {
            name: { type: 'string' },
            organization: { type: 'string' },
            email: { type: 'string', format: 'email' },
            phone: { type: 'string' },
            address: { type: 'string' },
            country: { type: 'string', description: 'ISO 3166-1 alpha-2' },
            role: { enum: ['owner', 'agent'] },
            rightsOwner: { type: 'string' },
            workDescription: { type: 'string' },
            originalUrls: { type: 'array', items: { type: 'string', format: 'uri' } },
            infringingUrls: { type: 'array', items: { type: 'string', format: 'uri' }, maxItems: 1000 },
            goodFaith: { const: true },
            accuracy: { const: true },
            signature: { type: 'string' },
            claimType: { enum: ['copyright', 'trademark', 'defamation', 'privacy', 'other'] },
            workPublishedAt: { type: 'string', format: 'date' },
          },
        },
        SubmitAnswer: {
          type: 'object',
          properties: {
            reference: { type: 'string' },
            status: { type: 'string' },
            statusUrl: { type: 'string' },
            targets: {
              type: 'array',
              items: {
                type: 'object',
                properties: { url: { type: 'string' }, matched: { type: 'boolean' }, itemId: { type: ['string', 'null'] } },
              },
            },
          },
        },
        NoticeBrief: {
          type: 'object',
          properties: {
            reference: { type: 'string' },
            status: { type: 'string' },
            assigneeId: { type: ['string', 'null'] },
            decision: { type: ['string', 'null'] },
            decisionReason: { type: ['string', 'null'] },
            decidedAt: { type: ['string', 'null'] },
            dueAt: { type: ['string', 'null'] },
            version: { type: 'integer' },
          },
        },
        Decision: {
          type: 'object',
          required: ['action'],
          properties: {
            action: { enum: ['approve', 'reject', 'request_info', 'spam'] },
            reason: { type: 'string', description: 'Required for reject (shown to the complainant) and request_info (the question).' },
            targets: {
              type: 'array',
              items: { type: 'string' },
              description: 'approve only: remove only these URLs of the notice; the other matched ones are kept.',
            },
            version: { type: 'integer', description: 'The notice version you saw; a different current version answers 409.' },
          },
        },
        Queue: {
          type: 'object',
          properties: {
            notices: { type: 'array', items: { type: 'object' } },
            nextCursor: { type: ['string', 'null'] },
            counts: { type: 'object' },
          },
        },
        Item: { type: 'object' },
        Source: { type: 'object' },
        InboundEmail: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            messageId: { type: ['string', 'null'] },
            from: { type: ['string', 'null'] },
            subject: { type: ['string', 'null'] },
            receivedAt: { type: 'string' },
            status: { enum: ['received', 'notice_created', 'incomplete', 'reply_attached', 'ignored', 'failed'] },
            reason: { type: ['string', 'null'] },
            noticeReference: { type: ['string', 'null'] },
            auth: { type: 'object', properties: { spf: { type: 'string' }, dkim: { type: 'string' }, dmarc: { type: 'string' } } },
            extracted: {
              type: ['object', 'null'],
              properties: {
                infringingUrls: { type: 'array', items: { type: 'string' } },
                originalUrls: { type: 'array', items: { type: 'string' } },
                goodFaith: { type: 'boolean' },
                accuracy: { type: 'boolean' },
                signature: { type: ['string', 'null'] },
                name: { type: ['string', 'null'] },
                organization: { type: ['string', 'null'] },
                phone: { type: ['string', 'null'] },
                address: { type: ['string', 'null'] },
                role: { type: ['string', 'null'] },
                missing: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { element: { type: 'string' }, paragraph: { type: 'string' }, message: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
    paths: {
      '/openapi.json': { get: { summary: 'This document', responses: { 200: json({ type: 'object' }) } } },
      '/notices': {
        post: {
          summary: 'Submit a takedown notice (public, or as a submitter with a submitter token)',
          security: submitterOrNone,
          description:
            'With a submitter token: `email` may be left out (it is the token owner\'s address; another one is a 422), and `goodFaith`, `accuracy` and `signature` may all be left out when standing statements are on file: the notice then records that it relied on them, and their date (the answer says `"statements":"standing"`). A suspended submitter gets 403 with the date and reason (`details: {suspendedUntil, reason}`), on this route with or without a token when the notice is sent from their address. A trusted flagger\'s notice (token) leads the staff queue.',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
          requestBody: body(ref('NoticeInput')),
          responses: {
            201: json(ref('SubmitAnswer'), 'Accepted'),
            401: errors('Invalid or revoked submitter token'),
            403: errors('Submitter suspended (until when and why)'),
            422: errors('Invalid notice'),
            429: errors('Too many notices'),
          },
        },
        get: {
          summary:
            'The review queue (staff token); with a submitter token: that submitter\'s own notices, newest first ({"notices":[{reference,status,claimType,submittedAt,decidedAt,urls,removed,kept,notFound,pending,restored}],"nextCursor"}; filters status, claimType, q, from, to)',
          security: [...bearer, { submitterToken: [] }],
          parameters: [
            queryParam('status', 'pending, in_review or needs_info (default: all three)'),
            queryParam('cursor', 'nextCursor of the previous page'),
            queryParam('assignee', 'mine, unassigned or a user id'),
            queryParam('source', 'a source id'),
            queryParam('claimType', 'claim type'),
            queryParam('flag', 'a triage flag code'),
          ],
          responses: { 200: json(ref('Queue')), 400: errors('Bad cursor'), 422: errors('Bad filter'), ...staffErrors },
        },
      },
      '/notices/{reference}': {
        get: {
          summary:
            "A notice: with ?token= what the complainant sees; with a staff token the full staff view; with a submitter token its own notice as the complainant sees it (another's is 404)",
          parameters: [pathParam('reference', 'TD-000123'), queryParam('token', 'the complainant status token')],
          responses: { 200: json({ type: 'object' }), 404: errors('Unknown notice or wrong token'), 401: errors('Invalid API token') },
        },
      },
      '/batches': {
        post: {
          summary: 'Send many works at once, one notice each (submitter token)',
          security: [{ submitterToken: [] }],
          description:
            'JSON `{"works":[{"description","originalUrls":[…],"infringingUrls":[…]}]}` or `text/csv` with the header `work_description,original_url,infringing_url` (one row per infringing URL; rows with the same description form one work; `;` as delimiter when the header uses it; a BOM and quoted newlines are fine). Up to 100,000 URLs and 20 MB. Bad rows are refused by number (CSV: the spreadsheet row, header = 1; JSON: the work number) and the good ones kept; a URL already in an earlier work is refused. Needs a complete profile and standing statements. The notices are made by a durable job; follow statusUrl.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['works'],
                  properties: {
                    works: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: ['description', 'infringingUrls'],
                        properties: {
                          description: { type: 'string' },
                          originalUrls: { type: 'array', items: { type: 'string', format: 'uri' } },
                          infringingUrls: { type: 'array', items: { type: 'string', format: 'uri' } },
                        },
                      },
                    },
                  },
                },
              },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          responses: {
            202: json(
              {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  status: { const: 'queued' },
                  statusUrl: { type: 'string' },
                  works: { type: 'integer' },
                  urls: { type: 'integer' },
                  errors: {
                    type: 'array',
                    items: { type: 'object', properties: { row: { type: 'integer' }, message: { type: 'string' } } },
                  },
                },
              },
              'Accepted',
            ),
            401: errors('No or invalid submitter token'),
            403: errors('Submitter suspended'),
            413: errors('Upload too large'),
            415: errors('Not JSON or CSV'),
            422: errors('No usable row, bad header, or profile/standing statements missing'),
          },
        },
      },
      '/batches/{id}': {
        get: {
          summary: "A batch: status, progress, notices made, refused rows (submitter token; another's batch is 404)",
          security: [{ submitterToken: [] }],
          parameters: [pathParam('id', 'the batch id')],
          responses: {
            200: json({
              type: 'object',
              properties: {
                id: { type: 'string' },
                status: { enum: ['queued', 'processing', 'done', 'failed'] },
                works: { type: 'integer' },
                urls: { type: 'integer' },
                processed: { type: 'integer' },
                notices: { type: 'array', items: { type: 'string' } },
                errors: { type: 'array', items: { type: 'object' } },
              },
            }),
            401: errors('No or invalid submitter token'),
            404: errors('No such batch'),
          },
        },
      },
      '/batches/{id}/urls': {
        get: {
          summary: 'Per-URL results of a batch, 1,000 a page (submitter token)',
          security: [{ submitterToken: [] }],
          parameters: [pathParam('id', 'the batch id'), queryParam('cursor', 'nextCursor of the previous page')],
          responses: {
            200: json({
              type: 'object',
              properties: {
                urls: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      url: { type: 'string' },
                      matched: { type: 'boolean' },
                      noticeReference: { type: ['string', 'null'] },
                      outcome: { enum: ['queued', 'refused', 'pending', 'removed', 'kept', 'not_found', 'restored'] },
                    },
                  },
                },
                nextCursor: { type: ['string', 'null'] },
              },
            }),
            400: errors('Bad cursor'),
            401: errors('No or invalid submitter token'),
            404: errors('No such batch'),
          },
        },
      },
      '/counter-notices': {
        post: {
          summary: 'Submit a counter-notice against a removal (public, 17 U.S.C. § 512(g)(3))',
          requestBody: body({
            type: 'object',
            required: ['notice', 'name', 'email', 'phone', 'address', 'country', 'removedUrls', 'mistake', 'consent', 'signature'],
            properties: {
              notice: { type: 'string', example: 'TD-000123' },
              name: { type: 'string' },
              email: { type: 'string', format: 'email' },
              phone: { type: 'string' },
              address: { type: 'string' },
              country: { type: 'string', minLength: 2, maxLength: 2 },
              removedUrls: { type: 'array', items: { type: 'string', format: 'uri' } },
              explanation: { type: 'string' },
              mistake: { type: 'boolean', enum: [true] },
              consent: { type: 'boolean', enum: [true] },
              signature: { type: 'string' },
            },
          }),
          responses: {
            201: json({ type: 'object' }, 'Received; the notice is countered and a restore date set'),
            409: errors('The notice cannot be countered'),
            422: errors('Invalid counter-notice'),
            429: errors('Too many requests'),
          },
        },
      },
      '/counter-notices/{id}/court-action': {
        post: {
          summary: 'Record that the complainant reported a court action: the removal is upheld (staff)',
          security: bearer,
          parameters: [pathParam('id', 'the counter-notice id')],
          requestBody: body({ type: 'object', properties: { note: { type: 'string' } } }, false),
          responses: {
            200: json({ type: 'object' }),
            404: errors('Unknown counter-notice'),
            409: errors('Already restored or upheld'),
            ...staffErrors,
          },
        },
      },
      '/notices/{reference}/claim': {
        post: {
          summary: 'Claim a pending notice (staff)',
          security: bearer,
          parameters: [pathParam('reference', 'TD-000123')],
          requestBody: body({ type: 'object', properties: { version: { type: 'integer' } } }, false),
          responses: {
            200: json(ref('NoticeBrief')),
            404: errors('Unknown notice'),
            409: errors('Not pending, or claimed by someone else'),
            ...staffErrors,
          },
        },
      },
      '/notices/{reference}/release': {
        post: {
          summary: 'Release a claimed notice to the queue (staff)',
          security: bearer,
          parameters: [pathParam('reference', 'TD-000123')],
          requestBody: body({ type: 'object', properties: { version: { type: 'integer' } } }, false),
          responses: {
            200: json(ref('NoticeBrief')),
            404: errors('Unknown notice'),
            409: errors('Not in review, or held by someone else'),
            ...staffErrors,
          },
        },
      },
      '/notices/{reference}/decision': {
        post: {
          summary: 'Decide a notice you hold: approve, reject, request_info or spam (staff)',
          security: bearer,
          parameters: [pathParam('reference', 'TD-000123')],
          requestBody: body(ref('Decision')),
          responses: {
            200: json(ref('NoticeBrief')),
            404: errors('Unknown notice'),
            409: errors('Refused transition, held by someone else, or lost race (names who acted)'),
            422: errors('Missing reason or question, or a target URL not in the notice'),
            ...staffErrors,
          },
        },
      },
      '/inbound-emails': {
        post: {
          summary:
            "Hand in one raw email for the designated agent (admin): a Postfix pipe or a provider's forwarding hook. Stored first, then read; 202 with what became of it (status `received` when reading takes longer than 5 s: the job goes on).",
          security: bearer,
          requestBody: { required: true, content: { 'message/rfc822': { schema: { type: 'string', format: 'binary' } } } },
          responses: {
            202: json(
              {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  status: { type: 'string' },
                  noticeReference: { type: ['string', 'null'] },
                  duplicate: { type: 'boolean' },
                },
              },
              'Stored (or already stored: duplicate)',
            ),
            413: errors('Larger than INBOUND_MAX_BYTES'),
            415: errors('Not message/rfc822'),
            422: errors('Empty body'),
            ...staffErrors,
          },
        },
        get: {
          summary: 'The mailbox, newest first (staff)',
          security: bearer,
          parameters: [
            queryParam('status', 'received, notice_created, incomplete, reply_attached, ignored or failed'),
            queryParam('cursor', 'nextCursor of the previous page'),
          ],
          responses: {
            200: json({
              type: 'object',
              properties: { emails: { type: 'array', items: ref('InboundEmail') }, nextCursor: { type: ['string', 'null'] } },
            }),
            422: errors('Bad status'),
            ...staffErrors,
          },
        },
      },
      '/inbound-emails/{id}': {
        get: {
          summary: 'One inbound email: authentication results and what was extracted (staff)',
          security: bearer,
          parameters: [pathParam('id', 'inbound email uuid')],
          responses: { 200: json(ref('InboundEmail')), 404: errors('Unknown email'), ...staffErrors },
        },
      },
      '/items': {
        get: {
          summary: 'List items (staff)',
          security: bearer,
          parameters: [
            queryParam('q', 'title search'),
            queryParam('status', 'item status: published, removed, withdrawn or held'),
            queryParam('source', 'source id'),
            queryParam('cursor', 'next page'),
          ],
          responses: { 200: json({ type: 'object' }), ...staffErrors },
        },
        post: {
          summary: 'Add an item (staff)',
          security: bearer,
          requestBody: body(ref('Item')),
          responses: { 201: json(ref('Item')), 422: errors('Invalid item'), ...staffErrors },
        },
      },
      '/items/{id}': {
        get: {
          summary: 'One item (staff); a held item has heldBecause {noticeReference, matchedItemId, similarity}',
          security: bearer,
          parameters: [pathParam('id', 'item uuid')],
          responses: { 200: json(ref('Item')), 404: errors('Unknown item'), ...staffErrors },
        },
      },
      '/items/{id}/release': {
        post: {
          summary: 'Release a held item: published, and never held again for this match (staff)',
          security: bearer,
          parameters: [pathParam('id', 'item uuid')],
          responses: { 200: json({ type: 'object' }), 404: errors('Unknown item'), 409: errors('The item is not held'), ...staffErrors },
        },
      },
      '/items/{id}/confirm': {
        post: {
          summary: 'Confirm a held item: removed under the notice of the original it matched; its source is struck and emailed (staff)',
          security: bearer,
          parameters: [pathParam('id', 'item uuid')],
          responses: { 200: json({ type: 'object' }), 404: errors('Unknown item'), 409: errors('The item is not held'), ...staffErrors },
        },
      },
      '/sources': {
        get: {
          summary: 'List sources (staff)',
          security: bearer,
          responses: { 200: json({ type: 'array', items: ref('Source') }), ...staffErrors },
        },
        post: {
          summary: 'Create a source (admin)',
          security: bearer,
          requestBody: body(ref('Source')),
          responses: { 201: json(ref('Source')), 422: errors('Invalid source'), ...staffErrors },
        },
      },
      '/sources/{id}/fetch': {
        post: {
          summary: 'Import a source feed now (staff)',
          security: bearer,
          parameters: [pathParam('id', 'source uuid')],
          responses: { 200: json({ type: 'object' }), 404: errors('Unknown source'), 409: errors('Import in progress'), ...staffErrors },
        },
      },
      '/audit': {
        get: {
          summary: 'Audit history, newest first, keyset paging (admin)',
          security: bearer,
          parameters: [
            queryParam('actor', 'user id, recorded email, system or public'),
            queryParam('action', 'notice.approved, or a prefix notice.*'),
            queryParam('subject', 'TD-000123, an item/source/user id, a staff email, or type:id'),
            queryParam('from', 'YYYY-MM-DD or ISO time'),
            queryParam('to', 'YYYY-MM-DD (inclusive) or ISO time'),
            queryParam('q', 'text in the details'),
            queryParam('after', 'the last id of the previous page'),
            queryParam('limit', '1 to 200'),
          ],
          responses: {
            200: json({
              type: 'object',
              properties: { events: { type: 'array', items: { type: 'object' } }, next: { type: ['string', 'null'] } },
            }),
            400: errors('A malformed filter, named'),
            ...staffErrors,
          },
        },
      },
      '/audit/export': {
        get: {
          summary: 'Audit events as CSV or JSON Lines, streamed (admin; the export is itself audited)',
          security: bearer,
          parameters: [
            queryParam('format', 'csv or jsonl'),
            queryParam('action', 'as /audit'),
            queryParam('subject', 'as /audit'),
            queryParam('from', 'as /audit'),
            queryParam('to', 'as /audit'),
          ],
          responses: { 200: { description: 'text/csv or application/x-ndjson' }, 400: errors('A malformed filter, named'), ...staffErrors },
        },
      },
      '/audit/exports/notices': {
        get: {
          summary: 'Notices as Lumen-style JSON; personal data redacted unless full=true (admin, audited)',
          security: bearer,
          parameters: [queryParam('from', 'YYYY-MM-DD'), queryParam('to', 'YYYY-MM-DD'), queryParam('full', 'true for the full record')],
          responses: { 200: json({ type: 'array', items: { type: 'object' } }), 400: errors('A malformed filter, named'), ...staffErrors },
        },
      },
      '/audit/exports/decisions': {
        get: {
          summary: 'Decisions as DSA Transparency Database statements of reasons (admin, audited)',
          security: bearer,
          parameters: [queryParam('from', 'YYYY-MM-DD'), queryParam('to', 'YYYY-MM-DD'), queryParam('full', 'true for the full record')],
          responses: { 200: json({ type: 'array', items: { type: 'object' } }), 400: errors('A malformed filter, named'), ...staffErrors },
        },
      },
      '/audit/verify': {
        get: {
          summary: 'Verify the audit hash chain (admin)',
          security: bearer,
          responses: {
            200: json({
              type: 'object',
              properties: { ok: { type: 'boolean' }, events: { type: 'integer' }, firstBadSequence: { type: ['integer', 'null'] } },
            }),
            ...staffErrors,
          },
        },
      },
      '/me': {
        get: {
          summary: 'The token owner (staff)',
          security: bearer,
          responses: { 200: json({ type: 'object' }), 401: errors('No or invalid API token') },
        },
      },
    },
  };
}

export function openApiRoutes(deps: Pick<AppDeps, 'config'>): Router {
  const r = Router();
  const doc = openApiDocument(deps.config.publicBaseUrl);
  r.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(doc);
  });
  return r;
}
