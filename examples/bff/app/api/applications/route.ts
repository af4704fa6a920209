/**
 * GET /api/applications: a page of meow's applications (health, sync, decisions, insights), with the
 * browser's filters passed on: environment, cluster, health, sync, project, q, has_decisions, limit,
 * cursor. meow checks them; a bad one comes back as meow's 400 problem, unchanged.
 *
 * A Next.js App Router route handler written against the Web-standard Request and Response only:
 * `NextRequest` is a subclass of `Request`, so this file drops into `app/api/applications/route.ts`
 * unchanged (with the import path of your `lib/meow`).
 */
import { meow } from "../../../lib/meow";
import { errorResponse, json } from "../../../lib/respond";

/** Live data: never prerendered or cached by Next. */
export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  try {
    const { searchParams } = new URL(request.url);
    // the dashboard's own (viewer) client: read-only, shared, with its ETag cache
    const page = await meow().applications(searchParams, request.signal);
    return json(page);
  } catch (error) {
    return errorResponse(error, request);
  }
}
