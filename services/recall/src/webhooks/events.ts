/** The event names a subscription may ask for (API.md "Notifications (webhooks)"). */
export const WEBHOOK_EVENTS = ['recall.started', 'recall.closed', 'shipment.incoming', 'inspection.failed', 'batch.held', 'incident.overdue', 'risk.warning'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/**
 * The ones this deployment produces today. `risk.warning` belongs to the
 * planned supervision section (risk warnings): a subscription to it is
 * accepted, as API.md lists it, so that it need not change when warnings
 * arrive; nothing is sent for it yet.
 */
export const DELIVERED_WEBHOOK_EVENTS: readonly WebhookEvent[] = ['recall.started', 'recall.closed', 'shipment.incoming', 'inspection.failed', 'batch.held', 'incident.overdue'];
export const PLANNED_WEBHOOK_EVENTS: readonly WebhookEvent[] = WEBHOOK_EVENTS.filter((e) => !DELIVERED_WEBHOOK_EVENTS.includes(e));

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
