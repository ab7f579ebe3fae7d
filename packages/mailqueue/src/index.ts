export { type DeliveryState, type Envelope, MailQueue, type QueueEntry, retryDelay } from './queue.js';
