/**
 * Smoke test of the BFF example against a running meow: the route handlers are called as Next.js calls
 * them (a `Request` in, a `Response` out), the client directly where the routes do not reach.
 *
 *     MEOW_URL=http://127.0.0.1:7091 MEOW_TOKEN_VIEWER=... MEOW_TOKEN_OPERATOR=... MEOW_TOKEN_APPROVER=... \
 *       examples/bff/test.sh
 *
 * It changes meow's state only through actions: it approves one action awaiting approval (when there is
 * one), and requests one action as the operator and rejects it. Run it against a test meow, not prod.
 */
import assert from "node:assert/strict";
import {
  MeowClient,
  MeowError,
  meow,
  parseEventStream,
  type Action,
  type ActionDetail,
  type Application,
  type ApplicationDetail,
  type MeowEvent,
  type Page,
  type Problem,
  type SSEMessage,
  type Severity,
} from "../lib/meow";
import { GET as listApplications } from "../app/api/applications/route";
import { GET as getApplication } from "../app/api/applications/[id]/route";
import { POST as approveAction } from "../app/api/actions/[id]/approve/route";
import { GET as streamEvents } from "../app/api/events/route";

// MARK: - Setup

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`smoke: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const meowUrl = required("MEOW_URL");
const tokens = {
  viewer: required("MEOW_TOKEN_VIEWER"),
  operator: required("MEOW_TOKEN_OPERATOR"),
  approver: required("MEOW_TOKEN_APPROVER"),
};
// the routes use the dashboard's shared client, meow(): the read-only token
process.env.MEOW_URL = meowUrl;
process.env.MEOW_TOKEN = tokens.viewer;

/** The route handlers only read the request's URL; nothing is fetched from this host. */
const bff = "http://bff.invalid";

interface Exchange {
  method: string;
  url: string;
  status: number;
  ifNoneMatch: string | null;
  etag: string | null;
  contentType: string | null;
}

/** A client whose fetch records every exchange (the only way to see meow's 304s: the client hides them). */
function recordingClient(token: string, options: { timeoutMs?: number } = {}): { client: MeowClient; log: Exchange[] } {
  const log: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    log.push({
      method: init?.method ?? "GET",
      url: typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
      status: response.status,
      ifNoneMatch: new Headers(init?.headers).get("if-none-match"),
      etag: response.headers.get("etag"),
      contentType: response.headers.get("content-type"),
    });
    return response;
  };
  return { client: new MeowClient({ baseUrl: meowUrl, token, fetch: recording, ...options }), log };
}

const viewer = new MeowClient({ baseUrl: meowUrl, token: tokens.viewer });
const operator = new MeowClient({ baseUrl: meowUrl, token: tokens.operator });
const approver = new MeowClient({ baseUrl: meowUrl, token: tokens.approver });

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function body<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** The response is meow's problem, passed through: status, content type, type slug. */
async function assertProblem(response: Response, status: number, type: string): Promise<Problem> {
  const problem = await body<Problem>(response);
  assert.equal(response.status, status, `status ${response.status}, expected ${status}: ${JSON.stringify(problem)}`);
  assert.match(response.headers.get("content-type") ?? "", /^application\/problem\+json/, "content type");
  assert.equal(problem.type, type, "problem type");
  assert.equal(problem.status, status, "problem status");
  assert.ok(typeof problem.detail === "string" && problem.detail.length > 0, "problem detail");
  return problem;
}

async function rejection(promise: Promise<unknown>): Promise<MeowError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MeowError, `expected a MeowError, got ${String(error)}`);
    return error;
  }
  return assert.fail("expected the call to fail");
}

/** The next item of an async iterator, or undefined when none comes within `ms`. */
async function nextWithin<T>(iterator: AsyncIterator<T>, ms: number): Promise<{ value?: T; pending?: Promise<unknown> }> {
  const next = iterator.next();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  const first = await Promise.race([next, timeout]);
  clearTimeout(timer);
  if (first === "timeout") return { pending: next };
  return first.done ? {} : { value: first.value };
}

// MARK: - Checks

type Outcome = "pass" | "fail" | "skip";
class Skip extends Error {}
const results: Outcome[] = [];

async function check(name: string, run: () => Promise<string | void>, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const note = await Promise.race([run(), timeout]);
    results.push("pass");
    console.log(`ok    ${name}${note ? ` (${note})` : ""} [${Date.now() - started} ms]`);
  } catch (error) {
    if (error instanceof Skip) {
      results.push("skip");
      console.log(`skip  ${name}: ${error.message}`);
    } else {
      results.push("fail");
      const message = error instanceof Error ? error.message : String(error);
      console.log(`FAIL  ${name}: ${message.split("\n").join("\n      ")}`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Filled in by the checks, for the ones after. */
const found: { app?: Application; workload?: string; resetId?: string } = {};

async function main(): Promise<number> {
  const watchdog = setTimeout(() => {
    console.log("FAIL  watchdog: the smoke test did not finish within 55 s");
    process.exit(1);
  }, 55_000);

  console.log(`smoke: meow at ${meowUrl}`);

  await check("meow is ready and the viewer token is a viewer", async () => {
    // meow may be starting: not listening yet (502 here), or not evaluated yet (ready: false)
    const until = Date.now() + 15_000;
    const poll = () => viewer.ready().catch((error: unknown) => {
      if (error instanceof MeowError && error.status === 502 && Date.now() < until) return undefined;
      throw error;
    });
    let ready = await poll();
    while (!ready?.ready && Date.now() < until) {
      await sleep(500);
      ready = await poll();
    }
    assert.ok(ready?.ready, `not ready within 15 s: ${ready?.problems.join("; ")}`);
    // the routes' shared client, from MEOW_URL and MEOW_TOKEN
    const status = await meow().status();
    assert.equal(status.caller.role, "viewer");
    assert.equal(typeof status.revision, "number");
    assert.ok(status.rules > 0, "no rules loaded");
    return `revision ${status.revision}, ${status.rules} rules, actions ${status.actions.mode}`;
  }, 20_000);
  if (results[0] !== "pass") {
    console.log("smoke: meow is not there or not ready: the other checks are not run");
    console.log("smoke: 0 passed, 1 failed");
    return 1;
  }

  await check("GET /api/applications answers a page with health and insights", async () => {
    const response = await listApplications(new Request(`${bff}/api/applications?limit=5`));
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const page = await body<Page<Application>>(response);
    assert.ok(page.items.length > 0 && page.items.length <= 5, `${page.items.length} items for limit=5`);
    assert.ok(page.total >= page.items.length);
    assert.equal(typeof page.revision, "number");
    assert.equal(page.next_cursor === null, page.total <= 5, "next_cursor iff there is more");
    for (const app of page.items) {
      assert.match(app.id, /^application\//);
      assert.equal(typeof app.health, "string", `${app.id}: health`);
      assert.ok(Array.isArray(app.decisions), `${app.id}: decisions`);
      assert.equal(app.insights.healthy, app.health === "Healthy", `${app.id}: insights.healthy`);
      assert.equal(app.insights.in_sync, app.sync_status === "Synced", `${app.id}: insights.in_sync`);
      for (const t of ["violation", "anomaly", "action_proposed", "rule_error"] as const) {
        assert.equal(typeof app.insights.decisions[t], "number", `${app.id}: insights.decisions.${t}`);
      }
    }
    return `${page.items.length} of ${page.total}`;
  });

  await check("filters in the query string reach meow", async () => {
    const envs = await viewer.environments();
    const prod = envs.items.find((e) => e.name === "prod") ?? envs.items[0];
    assert.ok(prod, "no environments");
    const response = await listApplications(new Request(`${bff}/api/applications?environment=${prod.name}&limit=500`));
    assert.equal(response.status, 200);
    const page = await body<Page<Application>>(response);
    assert.equal(page.total, prod.applications, `applications in ${prod.name}`);
    assert.ok(page.items.every((a) => a.environment === prod.name), "an application of another environment");
    const withDecisions = await body<Page<Application>>(
      await listApplications(new Request(`${bff}/api/applications?has_decisions=true&health=Healthy,Degraded,Missing,Progressing&limit=5`)),
    );
    for (const a of withDecisions.items) {
      assert.ok(a.decisions.length > 0, `${a.id} has no decisions`);
      assert.ok(["Healthy", "Degraded", "Missing", "Progressing"].includes(a.health ?? ""), `${a.id}: health ${a.health}`);
    }
    found.app = withDecisions.items[0] ?? page.items[0];
    return `${page.total} in ${prod.name}, ${withDecisions.total} with decisions`;
  });

  await check("GET /api/applications/[id] round-trips an application by its id", async () => {
    const app = found.app ?? (await viewer.applications({ limit: 1 })).items[0];
    assert.ok(app, "no application");
    const url = `${bff}/api/applications/${encodeURIComponent(app.id)}`;
    // as Next 13/14 pass the parameters, as Next 15 does (a promise), and still percent-encoded
    for (const params of [{ id: app.id }, Promise.resolve({ id: app.id }), { id: encodeURIComponent(app.id) }]) {
      const response = await getApplication(new Request(url), { params });
      assert.equal(response.status, 200);
      const detail = await body<ApplicationDetail>(response);
      assert.equal(detail.id, app.id);
      assert.equal(detail.name, app.name);
      assert.equal(detail.environment, app.environment);
      assert.ok(Array.isArray(detail.workloads) && Array.isArray(detail.changes), "workloads, changes");
      assert.ok(detail.workloads.every((w) => w.application === app.id), "a workload of another application");
      assert.equal(typeof detail.activity.since, "string", "activity.since");
      assert.ok(Array.isArray(detail.activity.actions), "activity.actions (meow has a store)");
      assert.equal(typeof detail.insights.healthy, "boolean");
      found.workload ??= detail.workloads[0]?.id;
    }
    const direct = await viewer.application(app.id);
    assert.equal(direct.id, app.id);
    return app.id;
  });

  await check("an unknown application is meow's 404 problem, passed through", async () => {
    const id = "application/argocd-prod/no-such-app-bff-smoke";
    const response = await getApplication(new Request(`${bff}/api/applications/${encodeURIComponent(id)}`), { params: { id } });
    const problem = await assertProblem(response, 404, "urn:meow:problem:not-found");
    assert.ok(problem.detail.includes(id), `detail names the id: ${problem.detail}`);
    assert.match(problem.instance ?? "", /^\/v1\/applications\//);
  });

  await check("a bad filter is meow's 400 problem, passed through", async () => {
    for (const [query, field] of [
      ["has_decisions=maybe", "has_decisions"],
      ["limit=0", "limit"],
      ["colour=blue", "colour"],
    ] as const) {
      const response = await listApplications(new Request(`${bff}/api/applications?${query}`));
      const problem = await assertProblem(response, 400, "urn:meow:problem:bad-request");
      assert.equal(problem.errors?.[0]?.field, field, `${query}: errors[0].field`);
    }
    return "has_decisions=maybe, limit=0, colour=blue";
  });

  await check("the client throws MeowError with meow's status and problem", async () => {
    const notFound = await rejection(viewer.application("application/nope/nope"));
    assert.equal(notFound.status, 404);
    assert.equal(notFound.problem.type, "urn:meow:problem:not-found");
    assert.equal(notFound.message, notFound.problem.detail);
    const badSeverity = await rejection(viewer.decisions({ severity: ["high", "urgent" as Severity] }));
    assert.equal(badSeverity.status, 400);
    assert.equal(badSeverity.errors[0]?.field, "severity");
    const badToken = await rejection(new MeowClient({ baseUrl: meowUrl, token: "not-a-token" }).status());
    assert.equal(badToken.status, 401);
    assert.equal(badToken.type, "urn:meow:problem:unauthorized");
    const unreachable = await rejection(new MeowClient({ baseUrl: "http://127.0.0.1:1", token: "x" }).status());
    assert.equal(unreachable.status, 502);
    assert.equal(unreachable.type, "urn:meow:client:unreachable");
    // a meow that never answers: the timeout aborts the request
    const silent: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
    const slow = await rejection(new MeowClient({ baseUrl: meowUrl, fetch: silent, timeoutMs: 50 }).status());
    assert.equal(slow.status, 504);
    assert.equal(slow.type, "urn:meow:client:timeout");
    return "404, 400 with field, 401, 502 unreachable, 504 timeout";
  });

  await check("a repeated GET is a conditional one: 304 from meow, the same data", async () => {
    const { client, log } = recordingClient(tokens.viewer);
    let previous = await client.applications({ limit: 3 });
    // meow's ETag changes with every published state (each poll): retry when the state moved in between
    for (let attempt = 1; attempt <= 8; attempt++) {
      const current = await client.applications({ limit: 3 });
      const [before, after] = log.slice(-2);
      assert.ok(before && after);
      assert.ok(before.etag, "meow sent no ETag");
      assert.equal(after.ifNoneMatch, before.etag, "If-None-Match is the last ETag");
      if (after.status === 304) {
        assert.deepEqual(current, previous);
        assert.notEqual(current, previous); // a copy: the caller may not spoil the cache
        assert.equal(client.stats.notModified, 1);
        return `304 on attempt ${attempt}, ${log.length} requests, statuses ${log.map((e) => e.status).join(",")}`;
      }
      assert.equal(after.status, 200);
      previous = current;
    }
    return assert.fail(`no 304 in 8 attempts: statuses ${log.map((e) => e.status).join(",")}`);
  });

  await check("allApplications() follows next_cursor through every page", async () => {
    const { client, log } = recordingClient(tokens.viewer);
    const { total } = await client.applications({ limit: 1 });
    const limit = 7;
    const ids: string[] = [];
    for await (const app of client.allApplications({ limit })) ids.push(app.id);
    const pages = log.filter((e) => new URL(e.url).pathname === "/v1/applications").length - 1;
    assert.ok(pages > 1, `${pages} page(s)`);
    assert.equal(pages, Math.ceil(total / limit), "pages");
    assert.equal(ids.length, total, "as many as the total");
    assert.equal(new Set(ids).size, ids.length, "a duplicate id");
    assert.deepEqual([...ids].sort(), ids, "sorted by id");
    return `${ids.length} applications in ${pages} pages of ${limit}`;
  });

  await check("decisions, DAGs and runs: typed pages with filters", async () => {
    const decisions = await viewer.decisions({ type: "violation", limit: 5 });
    assert.ok(decisions.items.every((d) => d.type === "violation"));
    assert.ok(decisions.items.every((d) => typeof d.rule === "string" && typeof d.message === "string" && "environment" in d));
    const dags = await viewer.dags({ limit: 2 });
    assert.ok(dags.items.every((d) => d.kind === "dag" && d.insights !== undefined));
    const runs = await viewer.runs({ limit: 2 });
    assert.ok(runs.items.every((r) => r.kind === "dag_run"));
    return `${decisions.total} violations, ${dags.total} DAGs, ${runs.total} runs`;
  });

  await check("rules(), validateRule() of a good and a broken file", async () => {
    const rules = await viewer.rules();
    assert.ok(rules.items.length > 0);
    assert.ok(rules.items.every((r) => typeof r.id === "string" && typeof r.severity === "string"));
    const good = [
      "policy {",
      '  id = "bff-smoke",',
      '  description = "BFF smoke test: Missing applications",',
      '  severity = "low",',
      '  match = { kind = "application" },',
      "  check = function(app)",
      '    if app.health == "Missing" then return deny("missing") end',
      "  end,",
      "}",
    ].join("\n");
    const ok = await viewer.validateRule(good, "bff-smoke.lua");
    assert.equal(ok.valid, true, JSON.stringify(ok.errors));
    assert.deepEqual(ok.rules, ["bff-smoke"]);
    assert.ok(ok.decisions.every((d) => d.rule === "bff-smoke" && d.type === "violation"));
    const broken = await viewer.validateRule("this is not lua", "broken.lua");
    assert.equal(broken.valid, false);
    assert.ok(broken.errors.length > 0 && typeof broken.errors[0]?.message === "string");
    return `${rules.items.length} rules; good file: ${ok.decisions.length} decisions; broken: ${broken.errors[0]?.message}`;
  });

  await check("simulate(): a small fleet, and a bad snapshot's 422", async () => {
    const fleet = await viewer.simulate({ fleet: { apps: 5, duration: "30m", step: "10m" } });
    assert.ok(fleet.steps > 0 && Array.isArray(fleet.events));
    const bad = await rejection(viewer.simulate({ snapshot: { entities: [] } }));
    assert.equal(bad.status, 422);
    assert.equal(bad.errors[0]?.field, "snapshot");
    return `${fleet.steps} steps, ${fleet.events.length} events`;
  });

  await check("parseEventStream(): fields, comments, multi-line data, CRLF split across chunks", async () => {
    const chunks = [
      "\uFEFFretry: 1500\r",
      "\n: keep-alive\r\n\r\nid: b-1\nevent: decision\ndata: {\"a\":",
      "\ndata:1}\r",
      "\n\r\n",
      "data: x\rdata:  y\n\nid: b-2\ndata: last\n",
    ];
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(encoder.encode(c));
        controller.close();
      },
    });
    const messages: SSEMessage[] = [];
    for await (const m of parseEventStream(stream)) messages.push(m);
    assert.deepEqual(messages, [
      { id: "b-1", event: "decision", data: '{"a":\n1}', retry: 1500 },
      { id: "b-1", event: "message", data: "x\n y", retry: 1500 },
      // "id: b-2 / data: last" has no blank line after it: an unterminated message is dropped
    ]);
  });

  await check("GET /api/events passes the stream through, with Last-Event-ID forwarded", async () => {
    const stop = new AbortController();
    const request = new Request(`${bff}/api/events`, { headers: { "Last-Event-ID": "bff-smoke-1" }, signal: stop.signal });
    const response = await streamEvents(request);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.ok(response.body, "no body");
    const messages = parseEventStream(response.body);
    try {
      // an id of another meow process: meow answers a reset first, naming it, so it was forwarded
      const { value: first, pending } = await nextWithin<SSEMessage>(messages, 5_000);
      if (pending) pending.catch(() => undefined);
      assert.ok(first, "no event within 5 s");
      assert.equal(first.event, "reset", `first event ${first.event}`);
      assert.ok(JSON.parse(first.data).reason.includes("bff-smoke-1"), first.data);
      assert.equal(first.retry, 2000, "the stream's retry: advice");
      assert.match(first.id ?? "", /^[0-9a-z]+-[0-9]+$/);
      found.resetId = first.id;
      return `reset ${first.id}`;
    } finally {
      stop.abort();
      await messages.return().catch(() => undefined);
    }
  });

  await check("events(): resumes after an event id, ends quietly when aborted", async () => {
    const { client, log } = recordingClient(tokens.viewer);
    // the reset's id is the newest event's: resuming one before it replays that event
    const [boot, seq] = (found.resetId ?? "").split("-");
    const stop = new AbortController();
    let note = "";
    if (boot && seq && Number(seq) >= 1) {
      const expected = `${boot}-${seq}`;
      const resumed = client.events({ lastEventId: `${boot}-${Number(seq) - 1}`, signal: stop.signal });
      const { value } = await nextWithin<MeowEvent>(resumed, 5_000);
      assert.ok(value, "no replayed event");
      assert.equal(value.id, expected, "the replayed event");
      assert.ok(["decision", "action", "state", "rules", "warning"].includes(value.type), value.type);
      assert.equal(typeof value.data, "object");
      note = `replayed ${value.id} (${value.type})`;
      await resumed.return();
    } else {
      note = "no event yet to resume after";
    }
    // a live subscription: the first real event, or a clean end when the bound is reached
    const live = new AbortController();
    const timer = setTimeout(() => live.abort(), 4_000);
    const started = Date.now();
    let first: MeowEvent | undefined;
    for await (const event of client.events({ signal: live.signal })) {
      first = event;
      break;
    }
    clearTimeout(timer);
    assert.ok(Date.now() - started < 6_000, "the generator did not end after the abort");
    const opened = log.filter((e) => new URL(e.url).pathname === "/v1/events");
    assert.ok(opened.length >= 1 && opened.every((e) => e.status === 200 && /^text\/event-stream/.test(e.contentType ?? "")), "stream not opened");
    if (first) {
      assert.match(first.id ?? "", /^[0-9a-z]+-[0-9]+$/);
      note += `; live ${first.type} ${first.id}`;
    } else {
      note += "; no live event within 4 s, ended cleanly";
    }
    return note;
  });

  await check("approving with the viewer token is refused (403), without a token 401", async () => {
    const awaiting = await viewer.actions({ state: "awaiting_approval", limit: 1 });
    const id = String(awaiting.items[0]?.id ?? 1);
    const post = (headers: Record<string, string>, payload = JSON.stringify({ reason: "bff smoke test" })) =>
      approveAction(
        new Request(`${bff}/api/actions/${id}/approve`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: payload }),
        { params: { id } },
      );
    await assertProblem(await post({ "x-meow-token": tokens.viewer }), 403, "urn:meow:problem:forbidden");
    // never falls back to the dashboard's token
    await assertProblem(await post({}), 401, "urn:meow:bff:unauthorized");
    await assertProblem(await post({ "x-meow-token": tokens.approver }, "reason=x"), 400, "urn:meow:bff:bad-request");
    return `action ${id}`;
  });

  await check("an approver approves an action awaiting approval through the route", async () => {
    const me = (await approver.status()).caller;
    assert.equal(me.role, "approver");
    const awaiting = await viewer.actions({ state: "awaiting_approval", limit: 50 });
    let target: ActionDetail | undefined;
    for (const a of awaiting.items) {
      if (a.requester === me.name) continue;
      const detail = await viewer.action(a.id);
      if (!detail.approvals.some((x) => x.approver === me.name)) {
        target = detail;
        break;
      }
    }
    if (!target) throw new Skip(`no action awaiting approval by ${me.name} (${awaiting.total} awaiting)`);
    const id = String(target.id);
    const post = () =>
      approveAction(
        new Request(`${bff}/api/actions/${id}/approve`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "x-meow-token": tokens.approver },
          body: JSON.stringify({ reason: "bff smoke test approval" }),
        }),
        { params: { id } },
      );
    const response = await post();
    const action = await body<Action>(response);
    assert.equal(response.status, 200, JSON.stringify(action));
    assert.equal(action.id, target.id);
    assert.ok(["approved", "awaiting_approval"].includes(action.state), `state ${action.state}`);
    const after = await viewer.action(target.id);
    assert.ok(after.approvals.some((x) => x.approver === me.name && x.verdict === "approve"), "the approval is recorded");
    assert.ok(after.ledger.some((l) => l.actor === me.name), "the ledger names the approver");
    // the same person twice: meow's 409, passed through
    const again = await post();
    assert.equal(again.status, 409);
    assert.match((await body<Problem>(again)).type, /^urn:meow:problem:(already-approved|not-awaiting-approval)$/);
    return `action ${id} ${target.action} ${target.subject}: ${action.state} (needs ${target.required_approvals})`;
  });

  await check("an operator's request waits for someone else; the approver rejects it", async () => {
    const me = (await operator.status()).caller;
    assert.equal(me.role, "operator");
    const subject = found.workload ?? (found.app?.id as string);
    assert.ok(subject, "no subject");
    const requested = await operator.propose({
      action: "kubernetes.scale",
      subject,
      params: { replicas: 2 },
      reason: "bff smoke test: a request to reject",
    });
    assert.equal(requested.requester, me.name);
    assert.equal(requested.rule, "manual");
    let state = requested.state;
    const until = Date.now() + 6_000;
    while (state === "proposed" && Date.now() < until) {
      await sleep(250);
      state = (await viewer.action(requested.id)).state;
    }
    if (state !== "awaiting_approval") return `action ${requested.id}: ${state}, not awaiting approval, left as it is`;
    const own = await rejection(operator.approve(requested.id, "my own"));
    assert.equal(own.status, 403);
    const rejected = await approver.reject(requested.id, "bff smoke test cleanup");
    assert.equal(rejected.state, "rejected");
    return `action ${requested.id} on ${subject}: rejected`;
  });

  clearTimeout(watchdog);
  const passed = results.filter((r) => r === "pass").length;
  const failed = results.filter((r) => r === "fail").length;
  const skipped = results.filter((r) => r === "skip").length;
  console.log(`smoke: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.log(`FAIL  smoke: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
