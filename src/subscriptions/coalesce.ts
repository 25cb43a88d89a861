/**
 * The events of `source`, at most one per `intervalMs`, the last one never lost. An event after a
 * quiet interval goes at once; the ones that come within the interval after it collapse into
 * their latest, handed over when the interval ends. The interval counts from when the consumer
 * is done with an event (asks for the next), so what it sends out is `intervalMs` apart too,
 * however long it took to execute one.
 *
 * For events that only say "this changed" (the consumer reads the state fresh when it gets one):
 * the source is read as its events arrive, also while the consumer is busy with the previous one,
 * so a burst holds one pending event, never a queue; and any event that arrives after one was
 * handed over brings another, so the consumer's last read comes after the last change.
 * One `next()` at a time, as `for await` calls it.
 */
export function coalesce<T>(source: AsyncIterable<T>, intervalMs: number): AsyncIterableIterator<T> {
  const events = source[Symbol.asyncIterator]();
  let reading = false;
  let pending: { value: T } | null = null;
  let ended: { error?: unknown } | null = null;
  let closed = false;
  /** When the consumer came back for more after its last event. */
  let readySince = -Infinity;
  let handedOver = false;
  let timer: NodeJS.Timeout | null = null;
  let waiter: { resolve: (step: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;

  const settle = () => {
    if (!waiter) return;
    const w = waiter;
    if (pending && !closed) {
      const wait = readySince + intervalMs - Date.now();
      if (wait > 0) {
        timer ??= setTimeout(() => {
          timer = null;
          settle();
        }, wait);
        return;
      }
      const { value } = pending;
      pending = null;
      handedOver = true;
      waiter = null;
      w.resolve({ value, done: false });
    } else if (closed || ended) {
      waiter = null;
      if (!closed && ended && 'error' in ended) w.reject(ended.error);
      else w.resolve({ value: undefined, done: true });
    }
  };

  const read = async () => {
    try {
      for (;;) {
        const step = await events.next();
        if (step.done || closed) break;
        pending = { value: step.value };
        settle();
      }
      ended = {};
    } catch (error) {
      ended = { error };
    }
    settle();
  };

  const close = () => {
    if (closed) return;
    closed = true;
    pending = null;
    if (timer) clearTimeout(timer);
    timer = null;
    // Releases the source's listener; should that fail, nothing here is left waiting on it.
    Promise.resolve().then(() => events.return?.()).catch(() => {});
    settle();
  };

  return {
    next() {
      if (handedOver) {
        handedOver = false;
        readySince = Date.now();
      }
      if (!reading && !closed) {
        reading = true;
        void read();
      }
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
        settle();
      });
    },
    return() {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error: unknown) {
      close();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
