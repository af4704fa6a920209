/**
 * GET /api/applications/{id}: one application with its workloads, changes, decisions and activity.
 *
 * `id` is the whole entity id, which has slashes (`application/argocd-prod/payments`): the browser sends
 * it as one path segment, `encodeURIComponent(id)`. `?since=24h` is passed on.
 *
 * Next.js passes `{ params: { id } }` as the second argument (Next 15: a Promise of it; both are
 * accepted). `NextRequest` is a subclass of `Request`, so this drops into
 * `app/api/applications/[id]/route.ts` unchanged.
 */
import { meow } from "../../../../lib/meow";
import { errorResponse, json, problem } from "../../../../lib/respond";

export const dynamic = "force-dynamic";

type Params = { id: string };

export async function GET(request: Request, context: { params: Params | Promise<Params> }): Promise<Response> {
  try {
    const { id } = await context.params;
    const entityId = decodeOnce(id);
    if (entityId === "") return problem(400, "bad-request", "Bad Request", "missing application id", new URL(request.url).pathname);
    const since = new URL(request.url).searchParams.get("since") ?? undefined;
    const app = await meow().application(entityId, { since, signal: request.signal });
    return json(app);
  } catch (error) {
    return errorResponse(error, request);
  }
}

/** Next decodes path parameters, but not every version did (`%2F` stayed): decode what is still encoded. */
function decodeOnce(segment: string): string {
  if (!/%[0-9A-Fa-f]{2}/.test(segment)) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
