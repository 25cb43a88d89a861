/**
 * Subscriptions start asynchronously, so an event published right after subscribing may be
 * missed. Publishes (bounded) until the subscriber's first event arrives, and returns it.
 */
export async function publishUntil<T>(received: Promise<T>, publish: () => void): Promise<T> {
  let done = false;
  void received.finally(() => (done = true));
  for (let i = 0; i < 100 && !done; i++) {
    publish();
    await Promise.race([received, new Promise((r) => setTimeout(r, 50))]);
  }
  return received;
}
