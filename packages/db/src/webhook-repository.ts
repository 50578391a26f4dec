import type pg from 'pg';
import { WebhookDeliveryRepository } from './webhook-delivery-repository.ts';
import { WebhookEndpointRepository } from './webhook-endpoint-repository.ts';
import { WebhookEventRepository } from './webhook-event-repository.ts';

// Everything of the delivery repository but its row mapper (deliveryRefOf), which is the package's own.
export {
  type AttemptRecord,
  type DeliveryRef,
  type DeliveryToSend,
  type WebhookDelivery,
  WebhookDeliveryRepository,
} from './webhook-delivery-repository.ts';
export * from './webhook-endpoint-repository.ts';
export * from './webhook-event-repository.ts';

/**
 * Alerts, as the store holds them (`store.webhooks`): the methods of the endpoint, delivery and event
 * repositories in one object, so each caller names only what it uses (`Pick<Store, 'webhooks'>`).
 */
export class WebhookRepository {
  readonly createEndpoint: WebhookEndpointRepository['createEndpoint'];
  readonly listEndpoints: WebhookEndpointRepository['listEndpoints'];
  readonly findEndpoint: WebhookEndpointRepository['findEndpoint'];
  readonly updateEndpoint: WebhookEndpointRepository['updateEndpoint'];
  readonly deleteEndpoint: WebhookEndpointRepository['deleteEndpoint'];
  readonly rotateSecret: WebhookEndpointRepository['rotateSecret'];
  readonly listDeliveries: WebhookDeliveryRepository['listDeliveries'];
  readonly markForRedelivery: WebhookDeliveryRepository['markForRedelivery'];
  readonly deliveryToSend: WebhookDeliveryRepository['deliveryToSend'];
  readonly skipDelivery: WebhookDeliveryRepository['skipDelivery'];
  readonly recordAttempt: WebhookDeliveryRepository['recordAttempt'];
  readonly relayEvents: WebhookEventRepository['relayEvents'];
  readonly unqueuedDeliveries: WebhookEventRepository['unqueuedDeliveries'];
  readonly purgeEventsBefore: WebhookEventRepository['purgeEventsBefore'];
  readonly announceExpiredKeys: WebhookEventRepository['announceExpiredKeys'];
  readonly unrelayedCount: WebhookEventRepository['unrelayedCount'];

  constructor(pool: pg.Pool) {
    const endpoints = new WebhookEndpointRepository(pool);
    const deliveries = new WebhookDeliveryRepository(pool);
    const events = new WebhookEventRepository(pool);
    this.createEndpoint = endpoints.createEndpoint.bind(endpoints);
    this.listEndpoints = endpoints.listEndpoints.bind(endpoints);
    this.findEndpoint = endpoints.findEndpoint.bind(endpoints);
    this.updateEndpoint = endpoints.updateEndpoint.bind(endpoints);
    this.deleteEndpoint = endpoints.deleteEndpoint.bind(endpoints);
    this.rotateSecret = endpoints.rotateSecret.bind(endpoints);
    this.listDeliveries = deliveries.listDeliveries.bind(deliveries);
    this.markForRedelivery = deliveries.markForRedelivery.bind(deliveries);
    this.deliveryToSend = deliveries.deliveryToSend.bind(deliveries);
    this.skipDelivery = deliveries.skipDelivery.bind(deliveries);
    this.recordAttempt = deliveries.recordAttempt.bind(deliveries);
    this.relayEvents = events.relayEvents.bind(events);
    this.unqueuedDeliveries = events.unqueuedDeliveries.bind(events);
    this.purgeEventsBefore = events.purgeEventsBefore.bind(events);
    this.announceExpiredKeys = events.announceExpiredKeys.bind(events);
    this.unrelayedCount = events.unrelayedCount.bind(events);
  }
}
