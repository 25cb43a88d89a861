import { resolveViewer, type Context } from '../context.js';
import { AppError } from '../errors.js';

/** Delivered in place of an event when the subscriber lost the right to it; the field throws it. */
export class Refused {
  constructor(readonly error: AppError) {}
}

/**
 * A private subscription's events, each delivered only while its subscriber still may see it:
 * before every event the session token is verified again (signature, expiry), the user re-read
 * (still there, role now). When that no longer holds, one last payload carries the coded error
 * (UNAUTHENTICATED or FORBIDDEN) and the subscription ends; the socket and its other
 * subscriptions go on.
 */
export async function* whileAllowed<T>(ctx: Context, need: 'signedIn' | 'admin', events: AsyncIterable<T>): AsyncGenerator<T | Refused> {
  const userId = ctx.viewer?.id;
  for await (const event of events) {
    const viewer = await resolveViewer(ctx.db, ctx.sessions, ctx.token);
    if (!viewer || viewer.id !== userId) {
      yield new Refused(new AppError('UNAUTHENTICATED', 'Your session has ended; sign in again to subscribe'));
      return;
    }
    if (need === 'admin' && viewer.role !== 'ADMIN') {
      yield new Refused(new AppError('FORBIDDEN', 'Only admins receive this subscription'));
      return;
    }
    yield event;
  }
}

/** The event itself, or the refusal thrown as the field's error. */
export function allowed<T>(event: T | Refused): T {
  if (event instanceof Refused) throw event.error;
  return event;
}
