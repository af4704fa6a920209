/**
 * Small helpers the route handlers share: JSON answers, and errors as RFC 9457 problem+json, with
 * meow's own problem (status, type, detail, field errors) passed on unchanged.
 */
import { MeowError, type Problem } from "./meow";

/** A JSON answer the browser must not cache (it is live state, possibly per person). */
export function json(value: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return new Response(JSON.stringify(value), {
    status: init.status ?? 200,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...init.headers },
  });
}

/** A problem of the BFF's own making (`urn:meow:bff:<slug>`). */
export function problem(status: number, slug: string, title: string, detail: string, instance?: string): Response {
  const body: Problem = { type: `urn:meow:bff:${slug}`, title, status, detail };
  if (instance !== undefined) body.instance = instance;
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store" },
  });
}

/**
 * Any error of a route handler as a response: a `MeowError` with meow's status and problem, anything
 * else as a 500 that tells nothing of the internals (and is logged).
 */
export function errorResponse(error: unknown, request?: Request): Response {
  if (error instanceof MeowError) return error.toResponse();
  console.error(`${request ? `${request.method} ${new URL(request.url).pathname}: ` : ""}`, error);
  return problem(500, "internal", "Internal Server Error", "the dashboard's server failed to answer");
}
