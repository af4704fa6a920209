/**
 * GET /api/events: meow's server-sent events, passed through to the browser's EventSource.
 *
 * The browser cannot put meow's bearer token on an EventSource, so the BFF opens the stream with the
 * dashboard's (viewer) token and passes the bytes on as they come. `Last-Event-ID` (which EventSource
 * sends when it reconnects) and `?types=decision,action` are forwarded, so a reconnecting browser resumes
 * where it was, or gets a `reset` event telling it to refetch. When the browser goes away, Next aborts
 * `request.signal`, which closes the stream to meow.
 *
 *     const events = new EventSource("/api/events?types=decision,action");
 *     events.addEventListener("decision", (e) => update(JSON.parse(e.data)));
 *     events.addEventListener("reset", () => refetchEverything());
 *
 * `NextRequest` is a subclass of `Request`: this drops into `app/api/events/route.ts` unchanged.
 */
import { meow } from "../../../lib/meow";
import { errorResponse } from "../../../lib/respond";

export const dynamic = "force-dynamic";
/** Streams for as long as the browser stays: the Node runtime, not the Edge one with its time limits. */
export const runtime = "nodejs";

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  try {
    const upstream = await meow().openEventStream({
      lastEventId: request.headers.get("last-event-id") ?? url.searchParams.get("last_event_id") ?? undefined,
      types: url.searchParams.get("types") ?? undefined,
      signal: request.signal,
    });
    return new Response(upstream.body, {
      status: 200,
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        // nginx and the like must not buffer the stream
        "X-Accel-Buffering": "no",
      },
    });
  } catch (error) {
    return errorResponse(error, request);
  }
}
