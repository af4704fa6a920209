/**
 * POST /api/actions/{id}/approve with `{"reason": "..."}`: approves an action as the signed-in person.
 *
 * Approvals are four-eyes and audited under the token's name, so this must act with the token of the
 * person who clicked, never with the dashboard's read-only token (which meow would refuse anyway: 403).
 * In this example the token comes in an `x-meow-token` request header; a real BFF maps its session
 * (the signed-in user's cookie) to that person's meow token on the server, never trusting the browser
 * with it, and checks the request's Origin (CSRF) before acting.
 *
 * `NextRequest` is a subclass of `Request`, and Next passes `{ params: { id } }` (Next 15: a Promise of
 * it), so this drops into `app/api/actions/[id]/approve/route.ts` unchanged.
 */
import { meow } from "../../../../../lib/meow";
import { errorResponse, json, problem } from "../../../../../lib/respond";

export const dynamic = "force-dynamic";

type Params = { id: string };

export async function POST(request: Request, context: { params: Params | Promise<Params> }): Promise<Response> {
  const path = new URL(request.url).pathname;
  try {
    const { id } = await context.params;
    const token = personToken(request);
    if (token === undefined) {
      return problem(401, "unauthorized", "Unauthorized", "sign in to approve: this needs your own meow token", path);
    }
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return problem(400, "bad-request", "Bad Request", 'expected a JSON body {"reason": "..."}', path);
    }
    const reason = typeof body === "object" && body !== null ? (body as { reason?: unknown }).reason : undefined;
    if (typeof reason !== "string") {
      return problem(422, "invalid", "Unprocessable Content", "reason must be a string", path);
    }
    // meow checks the rest: the role (approver), four-eyes, the state, the reason not being empty
    const action = await meow().withToken(token).approve(id, reason, request.signal);
    return json(action);
  } catch (error) {
    return errorResponse(error, request);
  }
}

/** The signed-in person's meow token. Example only: a real BFF looks it up from its session. */
function personToken(request: Request): string | undefined {
  const token = request.headers.get("x-meow-token")?.trim();
  return token ? token : undefined;
}
