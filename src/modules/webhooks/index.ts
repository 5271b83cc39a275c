/** Signed webhooks to submitters' receivers (SPEC §14): registration, the delivery outbox and its worker. */
export { Webhook, WEBHOOK_EVENTS, WEBHOOK_STATUSES } from './webhook.entity';
export type { WebhookEventType, WebhookStatus } from './webhook.entity';
export { WebhookDelivery, DELIVERY_STATUSES } from './webhook-delivery.entity';
export type { DeliveryStatus } from './webhook-delivery.entity';
export { queueWebhookEvent, queueNoticeEvents, noticeEventParts } from './queue-event';
export type { WebhookEvent, NoticeLike } from './queue-event';
export {
  registerWebhook,
  deleteWebhook,
  enableWebhook,
  webhookOf,
  checkWebhookInput,
  MAX_WEBHOOKS,
  SECRET_PREFIX,
} from './manage-webhooks';
export { webhooksOf, deliveriesOf, webhookJson } from './webhooks.queries';
export type { WebhookView, DeliveryView } from './webhooks.queries';
export { createWebhookWorker, pruneWebhookDeliveries, retryDelayMs as webhookRetryDelayMs } from './delivery-worker';
export type { WebhookWorker, WebhookWorkerOptions, DeliveryResult } from './delivery-worker';
export { sendWebhook, signatureHeader, SIGNATURE_HEADER } from './send-webhook';
export { registerWebhookMetrics } from './webhook-metrics';
