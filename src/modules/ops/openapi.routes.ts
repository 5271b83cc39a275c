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
        Webhook: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            url: { type: 'string', format: 'uri' },
            events: { type: 'array', items: { enum: ['notice.status_changed', 'notice.decided', 'batch.completed'] } },
            status: { enum: ['active', 'disabled'] },
            secretPrefix: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            lastStatusCode: {
              type: ['integer', 'null'],
              description: 'HTTP status of the last delivery attempt (null: none, or no answer)',
            },
            lastAttemptAt: { type: ['string', 'null'], format: 'date-time' },
            disabledAt: { type: ['string', 'null'], format: 'date-time' },
            disabledReason: { type: ['string', 'null'] },
          },
        },
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
      '/webhooks': {
        post: {
          summary: 'Register a webhook (submitter token); the signing secret is in this answer only',
          security: [{ submitterToken: [] }],
          description:
            'Events: `notice.status_changed` (every status change of a notice sent from your address, the new one included), `notice.decided` (approved, rejected or spam, with per-URL outcomes), `batch.completed`. Each delivery is a POST of `{"id","type","createdAt","data"}` with `Takedown-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, `Takedown-Event` and `Takedown-Event-Id`; answer 2xx. Retried with exponential back-off and jitter for WEBHOOK_RETRY_HOURS (24) hours, in order per notice, at least once (drop repeated event ids); then the webhook is disabled and you are emailed. Private, loopback and link-local addresses are refused (at registration and on every delivery); redirects are not followed.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['url', 'events'],
                  properties: {
                    url: { type: 'string', format: 'uri' },
                    events: { type: 'array', minItems: 1, items: { enum: ['notice.status_changed', 'notice.decided', 'batch.completed'] } },
                  },
                },
              },
            },
          },
          responses: {
            201: json(
              {
                allOf: [ref('Webhook'), { type: 'object', properties: { secret: { type: 'string', description: 'whsec_…, shown once' } } }],
              },
              'Created',
            ),
            401: errors('No or invalid submitter token'),
            422: errors('Bad URL (or a private address), unknown events, or too many webhooks'),
          },
        },
        get: {
          summary: 'Your webhooks, with the last response code (submitter token)',
          security: [{ submitterToken: [] }],
          responses: {
            200: json({
              type: 'object',
              properties: {
                webhooks: {
                  type: 'array',
                  items: { allOf: [ref('Webhook'), { type: 'object', properties: { pending: { type: 'integer' } } }] },
                },
              },
            }),
            401: errors('No or invalid submitter token'),
          },
        },
      },
      '/webhooks/{id}': {
        get: {
          summary: "A webhook and its delivery log, newest first, 50 a page (submitter token; another's is 404)",
          security: [{ submitterToken: [] }],
          parameters: [pathParam('id', 'the webhook id'), queryParam('cursor', 'nextCursor of the previous page')],
          responses: {
            200: json({
              allOf: [
                ref('Webhook'),
                {
                  type: 'object',
                  properties: {
                    deliveries: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          id: { type: 'string' },
                          eventId: { type: 'string' },
                          eventType: { type: 'string' },
                          orderingKey: { type: 'string' },
                          status: { enum: ['pending', 'delivered', 'failed'] },
                          attempts: { type: 'integer' },
                          createdAt: { type: 'string', format: 'date-time' },
                          lastAttemptAt: { type: ['string', 'null'], format: 'date-time' },
                          lastStatusCode: { type: ['integer', 'null'] },
                          lastError: { type: ['string', 'null'] },
                          nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
                          deliveredAt: { type: ['string', 'null'], format: 'date-time' },
                        },
                      },
                    },
                    nextCursor: { type: ['string', 'null'] },
                  },
                },
              ],
            }),
            400: errors('Bad cursor'),
            401: errors('No or invalid submitter token'),
            404: errors('No such webhook'),
          },
        },
        delete: {
          summary: 'Delete a webhook and its undelivered events (submitter token)',
          security: [{ submitterToken: [] }],
          parameters: [pathParam('id', 'the webhook id')],
          responses: { 204: { description: 'Deleted' }, 401: errors('No or invalid submitter token'), 404: errors('No such webhook') },
        },
      },
      '/webhooks/{id}/enable': {
        post: {
          summary: 'Enable a disabled webhook again; the events that waited are sent in order (submitter token)',
          security: [{ submitterToken: [] }],
          parameters: [pathParam('id', 'the webhook id')],
          responses: {
            200: json(ref('Webhook')),
            401: errors('No or invalid submitter token'),
            404: errors('No disabled webhook with this id'),
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
      '/notices/bulk': {
        post: {
          summary:
            'One action over many notices (staff): claim, release, assign, reject, spam or approve (only when every URL of every notice matched). Give `references` or a queue `filter` ("all matching"), not both. Each notice is its own transaction, audit event and email; up to 50 are done before the answer, more run as a job. 202 with the job to follow.',
          security: bearer,
          requestBody: body({
            type: 'object',
            required: ['action'],
            properties: {
              action: { type: 'string', enum: ['claim', 'release', 'assign', 'reject', 'spam', 'approve'] },
              references: { type: 'array', items: { type: 'string' }, maxItems: 5000 },
              filter: {
                type: 'object',
                description: 'The queue filter: every notice it matches now (at most 5,000)',
                properties: {
                  status: { type: 'string' },
                  assignee: { type: 'string', description: '"mine", "unassigned" or a staff id' },
                  source: { type: 'string' },
                  claimType: { type: 'string' },
                  flag: { type: 'string' },
                },
                additionalProperties: false,
              },
              reason: { type: 'string', description: 'reject: required (or `canned`); approve, spam: optional' },
              canned: { type: 'string', description: 'reject: the id of a canned reason' },
              assignee: { type: 'string', description: 'assign: the staff member' },
            },
          }),
          responses: {
            202: json({ type: 'object', properties: { id: { type: 'string' }, total: { type: 'integer' } } }, 'The job (see /jobs/{id})'),
            422: errors(
              'No notices, both or neither of references and filter, an unknown filter key, no reason to reject, approve with unmatched URLs',
            ),
            ...staffErrors,
          },
        },
      },
      '/jobs/{id}': {
        get: {
          summary:
            'A bulk job: its status, progress and one result per notice done; a lost race is a result naming who acted first (staff)',
          security: bearer,
          parameters: [pathParam('id', 'the job id')],
          responses: {
            200: json({
              type: 'object',
              properties: {
                id: { type: 'string' },
                action: { type: 'string' },
                status: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
                total: { type: 'integer' },
                done: { type: 'integer' },
                results: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      reference: { type: 'string' },
                      ok: { type: 'boolean' },
                      error: { type: ['string', 'null'], description: 'e.g. "claimed by Ana Moderator"' },
                      code: { type: ['string', 'null'] },
                      by: { type: ['string', 'null'], description: 'who acted first, when someone did' },
                    },
                  },
                },
              },
            }),
            404: errors('Unknown job'),
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
          summary:
            'One item (staff); a held item has heldBecause {noticeReference, matchedItemId, similarity}; images lists its images [{id, position, url, alt, status (shown|removed), fetchStatus (pending: not yet checked against the image staydown bank, and left out of the public page until it is|fetched|failed), sha256, perceptualHash, removedBy {noticeReference, staydownMatch}}] (SPEC §19)',
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
      '/images/{id}/release': {
        post: {
          summary:
            'Release an image staydown removed at import by mistake: shown again on its page, and never matched against that fingerprint again (staff, SPEC §19)',
          security: bearer,
          parameters: [pathParam('id', 'image uuid (from GET /items/{id} images)')],
          responses: {
            200: json({
              type: 'object',
              properties: {
                id: { type: 'string', format: 'uuid' },
                itemId: { type: 'string', format: 'uuid' },
                url: { type: 'string' },
                position: { type: 'integer' },
                status: { type: 'string', enum: ['shown'] },
                releasedFrom: { type: 'array', items: { type: 'string', format: 'uuid' } },
              },
            }),
            404: errors('Unknown image'),
            409: errors('The image was not removed by a staydown match'),
            ...staffErrors,
          },
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
