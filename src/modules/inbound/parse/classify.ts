import type { InboundMessage } from './types';

/**
 * Mail that must never be answered (SPEC §12, RFC 3834): auto-replies, bounces, bulk and list mail.
 * Returns the reason, or null for mail a person sent.
 */
export function autoReplyReason(msg: InboundMessage): string | null {
  const h = msg.headers;
  const auto = (h['auto-submitted'] ?? '').trim().toLowerCase();
  if (auto && !auto.startsWith('no')) return `Auto-Submitted: ${auto.split(';')[0]}`;
  if (h['x-autoreply'] || h['x-autorespond'] || h['x-autoreply-from'] || h['x-mail-autoreply']) return 'X-Autoreply header';
  if (/^\s*(?:yes|true|1)?\s*$/i.test(h['x-auto-response-suppress'] ?? 'no') === false && /\b(?:all|oof|autoreply)\b/i.test(h['x-auto-response-suppress'] ?? '') && /auto|out of office/i.test(msg.subject)) return 'auto-response';
  const precedence = (h.precedence ?? '').trim().toLowerCase();
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`;
  if (h['list-id'] || h['list-unsubscribe']) return 'mailing-list mail (List-Id / List-Unsubscribe)';
  const ct = (h['content-type'] ?? '').toLowerCase();
  if (ct.startsWith('multipart/report') && /report-type=["']?delivery-status/.test(ct)) return 'delivery status notification (bounce)';
  if (msg.attachments.some((a) => a.contentType === 'message/delivery-status' || a.contentType === 'message/global-delivery-status')) return 'delivery status notification (bounce)';
  if ('return-path' in h && /^\s*<?\s*>?\s*$/.test(h['return-path']!)) return 'empty return path (bounce)';
  const from = msg.from.address ?? '';
  if (/^(?:mailer-daemon|postmaster)@/i.test(from)) return 'bounce (mailer-daemon)';
  if (/^(?:auto(?:matic)? reply|out of (?:the )?office|autoreply|abwesenheitsnotiz|réponse automatique|undeliverable|delivery status notification|mail delivery failed)\b/i.test(msg.subject.trim())) return `auto-reply subject: ${msg.subject.slice(0, 80)}`;
  return null;
}
