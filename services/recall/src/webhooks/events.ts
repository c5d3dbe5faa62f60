/** The event names a subscription may ask for (API.md "Notifications (webhooks)"). */
export const WEBHOOK_EVENTS = ['recall.started', 'recall.closed', 'shipment.incoming', 'inspection.failed', 'batch.held', 'incident.overdue', 'risk.warning'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The ones this deployment produces today; the others are accepted so a subscription need not change when they arrive. */
export const DELIVERED_WEBHOOK_EVENTS: readonly WebhookEvent[] = ['recall.started', 'recall.closed', 'inspection.failed', 'incident.overdue'];

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
