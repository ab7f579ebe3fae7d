// The live transcript over Server-Sent Events (/api/events). Each event carries an id that the web
// app gives again after a restart (apps/web/src/event-id.ts): when the connection drops, the browser
// reconnects with the last id it had (the Last-Event-ID header, or ?since=) and gets what it missed.

/** How many past events a freshly opened page asks for, to show a lab already under way. */
const TAIL = 2000;
/** Events are handed to the page in batches: one render per batch, not per event. */
const BATCH_MS = 40;

/**
 * Opens the stream. `on.events(batch)` gets the transcript events (each with its `id`),
 * `on.services(list)` the list of /api/services on each change, `on.state(state)` 'live',
 * 'reconnecting' or 'resumed', `on.gap()` when the server could not send all that was missed.
 */
export function openStream(on) {
  let source = null;
  let lastId = null;
  let lost = false;
  let queue = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    on.events(batch);
  };

  const connect = () => {
    const query = lastId ? `since=${encodeURIComponent(lastId)}` : `tail=${TAIL}`;
    source = new EventSource(`/api/events?status=1&${query}`);
    source.addEventListener('open', () => {
      on.state(lost ? 'resumed' : 'live');
      lost = false;
    });
    source.addEventListener('transcript', (message) => {
      lastId = message.lastEventId;
      queue.push({ id: message.lastEventId, ...JSON.parse(message.data) });
      if (!scheduled) {
        scheduled = true;
        setTimeout(flush, BATCH_MS);
      }
    });
    source.addEventListener('services', (message) => on.services(JSON.parse(message.data)));
    source.addEventListener('gap', () => on.gap());
    source.addEventListener('error', () => {
      lost = true;
      on.state('reconnecting');
      // The browser retries by itself (sending Last-Event-ID) unless it gave up, e.g. after an
      // answer that was not a stream; then we start again, with ?since= for what we had.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connect, 1000);
      }
    });
  };

  connect();
  return () => source?.close();
}
