/**
 * A typed client for meow's sidecar API (`meow serve`), for the dashboard's BFF (the `app/api` route
 * handlers of a Next.js app) or any server-side TypeScript.
 *
 * It needs nothing but the Web-standard `fetch`, `Request`, `Response`, `ReadableStream` and
 * `TextDecoder` (Node 18+, Next.js route handlers on the Node or Edge runtime, Deno, Bun).
 *
 * Server-side only: the client carries a bearer token. In a Next.js app, keep it out of client
 * components (add `import "server-only";` at the top of this file if the app uses that package).
 *
 *     import { meow } from "@/lib/meow";
 *     const page = await meow().applications({ environment: "prod", health: "Degraded", limit: 50 });
 *
 * What it does besides typing the JSON:
 * - conditional GETs: the last ETag per URL is kept and sent as If-None-Match; meow's 304 answers
 *   with the kept body (meow's ETags change whenever its published state changes);
 * - every error is a `MeowError` with the HTTP status and the RFC 9457 problem meow answered
 *   (`type`, `title`, `detail`, `errors`); a meow that cannot be reached or does not answer in time
 *   is a `MeowError` too (502, 504), with a problem of this client's making;
 * - `events()` parses the `text/event-stream` of `GET /v1/events` into typed events.
 *
 * Field names are meow's own (snake_case), in the JSON and in the query filters alike, so a route
 * handler can pass a browser's query string through unchanged.
 */

// MARK: - JSON

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** RFC 3339 time, `2026-11-27T10:00:00Z`. */
export type Timestamp = string;

// MARK: - Errors

/** One field-level problem of a request's query or body. */
export interface ProblemFieldError {
  field: string;
  message: string;
}

/** RFC 9457 `application/problem+json`: every error meow answers. */
export interface Problem {
  /** `urn:meow:problem:<slug>`: `not-found`, `bad-request`, `unauthorized`, `forbidden`, `four-eyes`,
   * `already-approved`, `not-awaiting-approval`, `expired`, `invalid`, `timeout`, ... This client's own
   * problems (meow unreachable, no answer in time, an answer that is not JSON) are `urn:meow:client:<slug>`. */
  type: string;
  title: string;
  status: number;
  /** What went wrong, for a person: `MeowError.message`. */
  detail: string;
  /** The request path that failed (meow's problems only). */
  instance?: string;
  errors?: ProblemFieldError[];
}

/** A request to meow that failed: the HTTP status and meow's problem. `message` is the problem's detail. */
export class MeowError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem, options?: { cause?: unknown }) {
    super(problem.detail, options);
    this.name = "MeowError";
    this.status = status;
    this.problem = problem;
  }

  get type(): string {
    return this.problem.type;
  }
  get title(): string {
    return this.problem.title;
  }
  get detail(): string {
    return this.problem.detail;
  }
  get errors(): ProblemFieldError[] {
    return this.problem.errors ?? [];
  }

  /** The same status and problem as a `Response`, for a route handler to pass on to the browser. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.problem), {
      status: this.status,
      headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store" },
    });
  }
}

// MARK: - Shared shapes

export type Severity = "info" | "low" | "medium" | "warning" | "high" | "critical";
export type DecisionType = "violation" | "anomaly" | "action_proposed" | "rule_error";
export type DecisionCounts = Record<DecisionType, number>;

/** What a rule decided about an entity. Every key is present; `subject`, `severity`, `file`, `line` may be null. */
export interface Decision {
  type: DecisionType;
  rule: string;
  subject: string | null;
  severity: Severity | null;
  message: string;
  evidence: JsonObject;
  file: string | null;
  line: number | null;
  /** Set when decisions stream over simulated time (`/v1/simulate` with a fleet). */
  time?: Timestamp;
}

/** A page of a list sorted by id. Ask for the next one with `cursor: next_cursor` until it is null. */
export interface Page<T> {
  items: T[];
  /** The cursor of the next page, or null on the last. */
  next_cursor: string | null;
  /** How many match the filters, across every page. */
  total: number;
  /** The state revision the page was read from. Pages of one listing may come from different revisions. */
  revision: number;
}

export interface PageQuery {
  /** 1 to meow's `server.max_page`; meow's default is 100. */
  limit?: number;
  cursor?: string;
}

/** Query parameters, typed, or as they came (a `URLSearchParams` is passed through as it is). */
export type Query<T> = T | URLSearchParams;

// MARK: - Health and status

export interface Health {
  status: "ok";
  uptime_seconds: number;
}

export interface Ready {
  ready: boolean;
  /** Why it is not ready: rules not evaluated yet, a provider's last poll failed. */
  problems: string[];
  providers: { name: string; state: string; last_success: Timestamp | null; age_seconds: number | null }[];
  evaluated_at: Timestamp | null;
}

export interface ProviderStatus {
  name: string;
  plugin: string;
  /** `ok`, `pending`, `failing`, `disabled`, ... */
  state: string;
  breaker: string;
  polls: number;
  failures: number;
  consecutive_failures: number;
  entities: number;
  last_attempt?: Timestamp;
  last_success?: Timestamp;
  last_duration_seconds?: number;
  last_error?: string;
  warnings: string[];
}

export type Role = "viewer" | "operator" | "approver" | "admin";

export interface Status {
  revision: number;
  /** Changes with every published state (it is what meow's ETags are made of). */
  version: number;
  evaluated_at: Timestamp | null;
  /** Entities by kind. */
  entities: Record<string, number>;
  /** Current decisions by type. */
  decisions: DecisionCounts;
  rules: number;
  rule_problems: number;
  providers: ProviderStatus[];
  actions: { mode: string; paused: boolean };
  /** Who the token is. */
  caller: { name: string; role: Role | null };
  /** The newest event's id: pass it as `lastEventId` to `events()` to get everything after this answer. */
  last_event_id: string;
}

// MARK: - Environments, clusters, applications

export interface Environment {
  id: string;
  name: string;
  clusters: string[];
  promotion_order: number | null;
  promotes_to: string | null;
  protected: boolean;
  applications: number;
  unhealthy: number;
  decisions: DecisionCounts;
}

export interface EnvironmentList {
  items: Environment[];
  revision: number;
}

/** The fields every entity of meow's state model has (docs/state-model.md). */
export interface EntityBase {
  kind: string;
  /** `<kind>/<provider instance>/<path>`: `application/argocd-prod/payments`. */
  id: string;
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  observed_at?: Timestamp;
  provider?: string;
  /** The provider could not refresh it; actions on it are refused. */
  stale?: boolean;
}

/** Any entity: the common fields and the kind's own. */
export interface Entity extends EntityBase {
  [field: string]: unknown;
}

export interface Cluster extends Entity {
  kind: "cluster";
  environment?: string;
}

export interface DeploymentRecord {
  id?: number;
  revision?: string;
  deployed_at?: Timestamp;
  outcome?: string;
}

/** What the dashboard shows next to an application, derived from its decisions and history. */
export interface ApplicationInsights {
  decisions: DecisionCounts;
  worst_severity: Severity | null;
  healthy: boolean;
  in_sync: boolean;
  stale: boolean;
  deployments: number;
  last_deployed_at: Timestamp | null;
  /** The actions its `action_proposed` decisions propose (`kubernetes.scale`, ...). */
  proposed_actions: JsonValue[];
}

/** An Argo CD application's fields, with its decisions and insights. Unset fields are left out. */
export interface ApplicationBase extends EntityBase {
  kind: "application";
  instance?: string;
  project?: string;
  environment?: string;
  cluster?: string;
  namespace?: string;
  repo?: string;
  path?: string;
  target_revision?: string;
  synced_revision?: string;
  /** `Synced`, `OutOfSync` or `Unknown`. */
  sync_status?: string;
  /** `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing` or `Unknown`. */
  health?: string;
  health_message?: string;
  operation?: { phase?: string; message?: string; revision?: string; started_at?: Timestamp; finished_at?: Timestamp };
  sync_policy?: { automated?: boolean; prune?: boolean; self_heal?: boolean };
  resources?: { total?: number; out_of_sync?: number; degraded?: number; kinds?: Record<string, number> };
  images?: string[];
  criticality?: string;
  owner?: string;
  tier?: string;
  /** Its current decisions (at most 20 in a list; all of them in `ApplicationDetail`). */
  decisions: Decision[];
  insights: ApplicationInsights;
}

/** An application as `GET /v1/applications` lists it. */
export interface Application extends ApplicationBase {
  /** Deployments, oldest first. */
  history?: DeploymentRecord[];
}

/** A decision as the store's history keeps it: when it appeared (`new`) or went (`resolved`). */
export interface DecisionHistoryRecord {
  at: Timestamp;
  change: string;
  decision: Omit<Decision, "type" | "subject" | "severity"> & Partial<Pick<Decision, "type" | "subject" | "severity">>;
}

/**
 * One application, `GET /v1/applications/{id}`: the list item plus its workloads, changes, every current
 * decision, and `activity`: what meow saw and did about it, from the store.
 */
export interface ApplicationDetail extends Application {
  workloads: Entity[];
  changes: Entity[];
  activity: {
    since: Timestamp;
    /** Decision history of the application and its workloads (with a store). */
    decisions?: DecisionHistoryRecord[];
    /** Actions on the application and its workloads, newest first (with a store). */
    actions?: Action[];
  };
}

export interface ApplicationFilter extends PageQuery {
  environment?: string;
  /** A cluster id: `cluster/prod-1`. */
  cluster?: string;
  /** One or more of `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing`, `Unknown` (exact case). */
  health?: string | readonly string[];
  /** One or more of `Synced`, `OutOfSync`, `Unknown`. */
  sync?: string | readonly string[];
  project?: string;
  /** Case-insensitive substring of the id or name. */
  q?: string;
  has_decisions?: boolean;
}

// MARK: - Airflow

export interface Dag extends Entity {
  kind: "dag";
  next_run?: Timestamp;
  dag_id?: string;
  environment?: string;
  paused?: boolean;
  schedule?: string;
  owners?: string[];
  tags?: string[];
  decisions: Decision[];
  insights: { decisions: DecisionCounts; worst_severity: Severity | null };
}

export interface DagRun extends Entity {
  kind: "dag_run";
  dag?: string;
  dag_id?: string;
  run_id?: string;
  run_type?: string;
  state?: string;
  logical_date?: Timestamp;
  start?: Timestamp;
  end?: Timestamp;
  duration_seconds?: number;
}

export interface DagFilter extends PageQuery {
  environment?: string;
  paused?: boolean;
  q?: string;
}

export interface RunFilter extends PageQuery {
  /** The DAG's entity id or its dag_id. */
  dag?: string;
  state?: string | readonly string[];
  environment?: string;
}

// MARK: - Decisions

/** A current decision, with the environment of its subject. */
export interface DecisionItem extends Decision {
  environment: string | null;
}

export interface DecisionFilter extends PageQuery {
  type?: DecisionType | readonly DecisionType[];
  severity?: Severity | readonly Severity[];
  environment?: string;
  rule?: string | readonly string[];
  subject?: string;
  /** A time, or a duration ago (`"1h"`). */
  since?: Date | string;
  until?: Date | string;
}

// MARK: - Rules, validation, simulation

export interface RuleProblem {
  file: string;
  line: number | null;
  rule: string | null;
  message: string;
}

export interface Rule {
  id: string;
  kind: string;
  severity: Severity;
  description: string | null;
  tags: string[];
  runbook: string | null;
  file: string;
  line: number;
  /** Of the last evaluation, when there was one. */
  last_evaluation?: { evaluations: number; decisions: number; errors: number; seconds: number };
}

export interface RuleList {
  items: Rule[];
  /** Increases with every reload. */
  generation: number;
  /** Files that did not load (their last good version stays in force). */
  problems: RuleProblem[];
}

export interface ReloadResult {
  generation: number;
  rules: number;
  problems: RuleProblem[];
}

export interface EvaluationStats {
  rules: number;
  entities: number;
  evaluations: number;
  violations: number;
  anomalies: number;
  proposals: number;
  rule_errors: number;
  seconds: number;
  prepare_seconds: number;
  by_rule: {
    rule: string;
    evaluations: number;
    violations: number;
    errors: number;
    skipped: number;
    instructions: number;
    seconds: number;
  }[];
}

/** What `POST /v1/rules/validate` says of a posted rule file. Nothing is saved or acted on. */
export interface Validation {
  /** It loads and no rule failed on the current state. */
  valid: boolean;
  file: string;
  /** The ids of the rules it declares. */
  rules: string[];
  /** Load errors (syntax, undefined names). */
  errors: RuleProblem[];
  /** What it would decide on the current state (including `rule_error` decisions). */
  decisions: Decision[];
  stats: EvaluationStats;
  evaluated_on: { revision: number; at: Timestamp };
}

export interface FleetOptions {
  apps?: number;
  seed?: number;
  faults?: number;
  /** `"2h"` */
  duration?: string;
  /** `"10m"` */
  step?: string;
  history?: string;
}

/** `POST /v1/simulate`: either a snapshot (meow's snapshot format) or a simulated fleet. */
export type SimulateRequest = (
  | { snapshot: JsonObject; fleet?: never; at?: Timestamp }
  | { fleet: FleetOptions; snapshot?: never; at?: never }
) & {
  /** Rule files to use instead of the loaded ones: `{"my-rule.lua": "source"}`. */
  rules?: Record<string, string>;
  /** Only these rule ids. */
  only?: string[];
};

export interface SnapshotSimulation {
  decisions: Decision[];
  stats: EvaluationStats;
  errors: RuleProblem[];
}

export interface FleetSimulation {
  events: (Decision & { event: "firing" | "resolved"; time: Timestamp })[];
  steps: number;
  faults: {
    fault: {
      id: string;
      kind: string;
      cause?: string;
      description?: string;
      subjects: string[];
      start: Timestamp;
      end?: Timestamp;
      effects?: string[];
    };
    detected: boolean;
    first_detection?: Timestamp;
    rules: string[];
  }[];
  false_alarms: number;
  errors: RuleProblem[];
}

export type SimulateResult = SnapshotSimulation | FleetSimulation;

// MARK: - Actions

export type ActionState =
  | "proposed"
  | "dry_run"
  | "refused"
  | "awaiting_approval"
  | "approved"
  | "rejected"
  | "expired"
  | "executing"
  | "succeeded"
  | "failed"
  | "unknown";

/** An action as the store records it. Unset optional fields are left out. */
export interface Action {
  id: number;
  key: string;
  /** The proposing rule, or `manual` for a person's request. */
  rule: string;
  subject: string;
  /** `plugin.action`: `kubernetes.scale`. */
  action: string;
  params: JsonObject;
  environment?: string;
  provider?: string;
  /** `rule:<id>` or the token name of the person who asked. */
  requester: string;
  reason?: string;
  evidence: JsonValue;
  mode: string;
  state: ActionState;
  state_reason?: string;
  required_approvals: number;
  created_at: Timestamp;
  updated_at: Timestamp;
  expires_at?: Timestamp;
  executed_at?: Timestamp;
  finished_at?: Timestamp;
  observed_at?: Timestamp;
  attempts: number;
  result?: JsonValue;
}

export interface Approval {
  action_id: number;
  /** The approver's token name. */
  approver: string;
  verdict: "approve" | "reject" | string;
  reason: string;
  at: Timestamp;
}

/** One step of an action's audit trail. */
export interface LedgerEntry {
  seq: number;
  action_id: number;
  at: Timestamp;
  /** `proposed`, `awaiting_approval`, `approval`, `executing`, ... */
  step: string;
  actor: string;
  message: string;
  detail: JsonValue;
}

/** `GET /v1/actions/{id}`: the action, its approvals, its ledger (oldest first). */
export interface ActionDetail extends Action {
  approvals: Approval[];
  /** Approvals so far; the action runs when it reaches `required_approvals`. */
  approvals_count: number;
  ledger: LedgerEntry[];
}

/** `GET /v1/actions`: newest first, paged by `cursor` (the last id of the previous page). */
export interface ActionList {
  items: Action[];
  /** Actions matching the filters (all pages). */
  total: number;
  next_cursor: string | null;
}

export interface ActionFilter {
  state?: ActionState | readonly ActionState[];
  subject?: string;
  limit?: number;
  cursor?: string;
}

/** A person's request for an action; it goes through the guardrails and needs someone else's approval. */
export interface ProposeRequest {
  action: string;
  subject: string;
  params?: JsonObject;
  reason: string;
}

export interface PauseState {
  paused: boolean;
  by?: string;
  reason?: string;
  at?: Timestamp;
}

// MARK: - Events

export type EventType = "decision" | "action" | "state" | "rules" | "warning";

interface EventBase {
  /** `<boot>-<sequence>`; pass the last one seen as `lastEventId` to resume. */
  id: string | undefined;
  /** The stream's `retry:` advice (milliseconds), when it gave one. */
  retry?: number;
}

/** A decision appeared (`new`) or went (`resolved`). */
export interface DecisionEvent extends EventBase {
  type: "decision";
  data: Decision & { change: string; revision: number };
}
/** An action changed state. */
export interface ActionEvent extends EventBase {
  type: "action";
  data: { id: number; state: ActionState; action: string; subject: string; rule: string; message: string };
}
/** A provider's state changed, or actions were paused or resumed. */
export interface StateEvent extends EventBase {
  type: "state";
  data: JsonObject;
}
export interface RulesEvent extends EventBase {
  type: "rules";
  data: { generation: number; rules: number; problems: string[] };
}
export interface WarningEvent extends EventBase {
  type: "warning";
  data: { message: string };
}
/** Events were missed (a restart, a slow client, a resume id too old): refetch the state. */
export interface ResetEvent extends EventBase {
  type: "reset";
  data: { reason: string };
}
export type MeowEvent = DecisionEvent | ActionEvent | StateEvent | RulesEvent | WarningEvent | ResetEvent;

const eventTypes: ReadonlySet<string> = new Set(["decision", "action", "state", "rules", "warning", "reset"]);

export interface EventOptions {
  /** Resume after this event id (sent as `Last-Event-ID`). */
  lastEventId?: string;
  /** Only these types (`reset` always comes). */
  types?: EventType | readonly EventType[] | string;
  /** Abort to close the stream; the generator then ends without an error. */
  signal?: AbortSignal;
}

/** One message of a `text/event-stream`, as the HTML standard's parser dispatches it. */
export interface SSEMessage {
  /** The last event id seen on the stream (the spec's "last event ID"), if any. */
  id: string | undefined;
  /** `event:`; `message` when absent. */
  event: string;
  /** The `data:` lines, joined by newlines. */
  data: string;
  /** The last `retry:` value seen, in milliseconds. */
  retry?: number;
}

/**
 * Parses a `text/event-stream` body (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * `id:`, `event:`, `data:` and `retry:` fields, comments (`:` lines) ignored, CRLF, LF or CR line ends,
 * a message dispatched at each blank line when it has data. Releases the stream when the loop ends.
 */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEMessage, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let first = true;
  let lastId: string | undefined;
  let retry: number | undefined;
  let event = "";
  let data: string[] = [];
  let done = false;
  try {
    while (!done) {
      const chunk = await reader.read();
      if (chunk.done) {
        done = true;
        buffer += decoder.decode();
      } else {
        buffer += decoder.decode(chunk.value, { stream: true });
      }
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      // complete lines only: a trailing CR may be the first half of a CRLF split across chunks
      let start = 0;
      for (;;) {
        let end = -1;
        for (let i = start; i < buffer.length; i++) {
          const c = buffer.charCodeAt(i);
          if (c === 10 || c === 13) {
            end = i;
            break;
          }
        }
        if (end < 0) break;
        if (buffer.charCodeAt(end) === 13 && end + 1 === buffer.length && !done) break;
        const line = buffer.slice(start, end);
        start = end + (buffer.charCodeAt(end) === 13 && buffer.charCodeAt(end + 1) === 10 ? 2 : 1);
        if (line === "") {
          if (data.length > 0) {
            const message: SSEMessage = { id: lastId, event: event || "message", data: data.join("\n") };
            if (retry !== undefined) message.retry = retry;
            yield message;
          }
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        switch (field) {
          case "data":
            data.push(value);
            break;
          case "event":
            event = value;
            break;
          case "id":
            if (!value.includes("\0")) lastId = value;
            break;
          case "retry":
            if (/^[0-9]+$/.test(value)) retry = Number(value);
            break;
          default:
            break; // unknown fields are ignored
        }
      }
      buffer = buffer.slice(start);
    }
    // an unterminated last message is discarded, as the spec says
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

// MARK: - The client

export interface MeowClientOptions {
  /** meow's address; default `MEOW_URL`, else `http://127.0.0.1:7070`. */
  baseUrl?: string;
  /** Bearer token; default `MEOW_TOKEN`. Without one, meow answers as it does to anonymous callers. */
  token?: string;
  /** A `fetch` to use instead of the global one (tests, instrumentation, a proxy agent). */
  fetch?: typeof fetch;
  /** Give up on a request after this long (for `events()`: on the response headers). Default 10 s. */
  timeoutMs?: number;
  /** How many URLs' ETags and bodies to keep for conditional GETs. Default 256; 0 turns caching off. */
  cacheSize?: number;
}

interface CacheEntry {
  etag: string;
  text: string;
}

interface RequestOptions {
  /** Filters: a list is sent comma-separated, a Date as RFC 3339, undefined and null left out. */
  query?: Query<object>;
  body?: unknown;
  /** A body sent as it is, with this content type (rule files). */
  text?: { body: string; contentType: string };
  /** Statuses other than 2xx whose JSON body is an answer rather than a problem (`/readyz`'s 503). */
  accept?: number[];
  signal?: AbortSignal;
}

/** Counters of the conditional GETs, for metrics. */
export interface CacheStats {
  /** GETs sent with If-None-Match. */
  conditional: number;
  /** 304s answered from the kept body. */
  notModified: number;
}

function env(name: string): string | undefined {
  const process = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = process?.env?.[name];
  return value === undefined || value === "" ? undefined : value;
}

function queryString(query: Query<object> | undefined): string {
  if (query === undefined) return "";
  let params: URLSearchParams;
  if (query instanceof URLSearchParams) {
    params = query;
  } else {
    params = new URLSearchParams();
    for (const [key, value] of Object.entries(query) as [string, unknown][]) {
      if (value === undefined || value === null) continue;
      if (value instanceof Date) params.append(key, value.toISOString());
      else if (Array.isArray(value)) params.append(key, value.join(","));
      else params.append(key, String(value));
    }
  }
  const s = params.toString();
  return s === "" ? "" : `?${s}`;
}

/** An AbortSignal that fires on `outer` or after `ms`; `clear()` stops the timer and unlinks `outer`. */
function deadline(outer: AbortSignal | undefined, ms: number) {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener("abort", onAbort, { once: true });
  const timer: ReturnType<typeof setTimeout> | undefined =
    ms > 0 && ms < Infinity
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, ms)
      : undefined;
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    /** Stops the timer; with `unlink`, the caller's signal no longer aborts this one. */
    clear(unlink = true) {
      if (timer !== undefined) clearTimeout(timer);
      if (unlink) outer?.removeEventListener("abort", onAbort);
    },
  };
}

const clientTitles: Record<number, string> = { 499: "Client Closed Request", 502: "Bad Gateway", 504: "Gateway Timeout" };

/** A failure of this client's making (`urn:meow:client:<slug>`): meow unreachable, silent, or not making sense. */
function clientError(status: 499 | 502 | 504, slug: string, detail: string, cause?: unknown): MeowError {
  const problem: Problem = { type: `urn:meow:client:${slug}`, title: clientTitles[status] ?? "Error", status, detail };
  return new MeowError(status, problem, cause === undefined ? undefined : { cause });
}

function isProblem(v: unknown): v is Problem {
  return typeof v === "object" && v !== null && typeof (v as Problem).detail === "string" && typeof (v as Problem).type === "string";
}

export class MeowClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly stats: CacheStats = { conditional: 0, notModified: 0 };
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(options: MeowClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? env("MEOW_URL") ?? "http://127.0.0.1:7070").replace(/\/+$/, "");
    this.#token = options.token ?? env("MEOW_TOKEN");
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.#cacheSize = options.cacheSize ?? 256;
  }

  /**
   * The same meow as another identity: for acting as the signed-in person (approve, reject, propose) rather
   * than with the dashboard's read-only token. The new client has a cache of its own.
   */
  withToken(token: string): MeowClient {
    if (token.trim() === "") throw new TypeError("withToken: the token is empty");
    return new MeowClient({ baseUrl: this.baseUrl, token, fetch: this.#fetch, timeoutMs: this.timeoutMs, cacheSize: this.#cacheSize });
  }

  // MARK: Health and status

  /** `GET /healthz`: the process answers. */
  health(signal?: AbortSignal): Promise<Health> {
    return this.get("/healthz", { signal });
  }

  /** `GET /readyz`: the rules were evaluated and every provider's last poll worked (503's body is returned too). */
  ready(signal?: AbortSignal): Promise<Ready> {
    return this.get("/readyz", { accept: [503], signal });
  }

  /** `GET /v1/status`: revision, counts, providers, actions mode, and who the token is. */
  status(signal?: AbortSignal): Promise<Status> {
    return this.get("/v1/status", { signal });
  }

  // MARK: State

  environments(signal?: AbortSignal): Promise<EnvironmentList> {
    return this.get("/v1/environments", { signal });
  }

  clusters(query: Query<{ environment?: string } & PageQuery> = {}, signal?: AbortSignal): Promise<Page<Cluster>> {
    return this.get("/v1/clusters", { query, signal });
  }

  /** A page of applications with their health, sync, decisions and insights, sorted by id. */
  applications(query: Query<ApplicationFilter> = {}, signal?: AbortSignal): Promise<Page<Application>> {
    return this.get("/v1/applications", { query: query, signal });
  }

  /** Every application matching `filter`, page after page (`limit` is the page size). */
  allApplications(filter: Omit<ApplicationFilter, "cursor"> = {}, signal?: AbortSignal): AsyncGenerator<Application, void, undefined> {
    return this.paginate((cursor) => this.applications({ ...filter, cursor }, signal));
  }

  /** Follows `next_cursor` from the first page to the last, yielding the items. */
  async *paginate<T>(page: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T, void, undefined> {
    let cursor: string | undefined;
    const seen = new Set<string>();
    do {
      const p = await page(cursor);
      yield* p.items;
      if (p.next_cursor !== null && seen.has(p.next_cursor)) {
        throw clientError(502, "bad-cursor", `meow returned the cursor ${p.next_cursor} twice`);
      }
      cursor = p.next_cursor ?? undefined;
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor !== undefined);
  }

  /**
   * One application with its workloads, changes, all its decisions and its history. `id` is the whole
   * entity id (`application/argocd-prod/payments`), sent as one path segment.
   */
  application(id: string, options: { since?: string; signal?: AbortSignal } = {}): Promise<ApplicationDetail> {
    return this.get(`/v1/applications/${encodeURIComponent(id)}`, { query: { since: options.since }, signal: options.signal });
  }

  dags(query: Query<DagFilter> = {}, signal?: AbortSignal): Promise<Page<Dag>> {
    return this.get("/v1/dags", { query: query, signal });
  }

  /** One DAG with its runs and decisions. */
  dag(id: string, signal?: AbortSignal): Promise<Dag & { runs: DagRun[] }> {
    return this.get(`/v1/dags/${encodeURIComponent(id)}`, { signal });
  }

  runs(query: Query<RunFilter> = {}, signal?: AbortSignal): Promise<Page<DagRun>> {
    return this.get("/v1/runs", { query: query, signal });
  }

  /** Current decisions, in evaluation order. */
  decisions(query: Query<DecisionFilter> = {}, signal?: AbortSignal): Promise<Page<DecisionItem>> {
    return this.get("/v1/decisions", { query: query, signal });
  }

  // MARK: Rules

  rules(signal?: AbortSignal): Promise<RuleList> {
    return this.get("/v1/rules", { signal });
  }

  /** Reloads the rule files now (operator). */
  reloadRules(signal?: AbortSignal): Promise<ReloadResult> {
    return this.send("POST", "/v1/rules/reload", { signal });
  }

  /** Validates a rule file's source against the current state; nothing is saved. `name` like `my-rule.lua`. */
  validateRule(source: string, name?: string, signal?: AbortSignal): Promise<Validation> {
    const text = { body: source, contentType: "text/x-lua; charset=utf-8" };
    return this.send("POST", "/v1/rules/validate", { query: { name }, text, signal });
  }

  /** A dry run on a snapshot or a simulated fleet. */
  simulate(request: SimulateRequest & { snapshot: JsonObject }, signal?: AbortSignal): Promise<SnapshotSimulation>;
  simulate(request: SimulateRequest & { fleet: FleetOptions }, signal?: AbortSignal): Promise<FleetSimulation>;
  simulate(request: SimulateRequest, signal?: AbortSignal): Promise<SimulateResult>;
  simulate(request: SimulateRequest, signal?: AbortSignal): Promise<SimulateResult> {
    return this.send("POST", "/v1/simulate", { body: request, signal });
  }

  // MARK: Actions

  /** Actions, newest first. */
  actions(query: Query<ActionFilter> = {}, signal?: AbortSignal): Promise<ActionList> {
    return this.get("/v1/actions", { query: query, signal });
  }

  action(id: number | string, signal?: AbortSignal): Promise<ActionDetail> {
    return this.get(`/v1/actions/${encodeURIComponent(String(id))}`, { signal });
  }

  /**
   * Approves as this client's token (approver). The answer is the action with its approvals: `approved`
   * once it has every approval it needs, still `awaiting_approval` when it needs another person's (a
   * protected environment's two: `approvals_count` of `required_approvals`).
   */
  approve(id: number | string, reason: string, signal?: AbortSignal): Promise<ActionDetail> {
    return this.send("POST", `/v1/actions/${encodeURIComponent(String(id))}/approve`, { body: { reason }, signal });
  }

  reject(id: number | string, reason: string, signal?: AbortSignal): Promise<ActionDetail> {
    return this.send("POST", `/v1/actions/${encodeURIComponent(String(id))}/reject`, { body: { reason }, signal });
  }

  /** Requests an action as this client's token (operator); someone else must approve it. */
  propose(request: ProposeRequest, signal?: AbortSignal): Promise<Action> {
    return this.send("POST", "/v1/actions", { body: request, signal });
  }

  /** Stops every action from executing (admin). */
  pause(reason: string, signal?: AbortSignal): Promise<PauseState> {
    return this.send("POST", "/v1/actions/pause", { body: { reason }, signal });
  }

  resume(reason: string, signal?: AbortSignal): Promise<PauseState> {
    return this.send("POST", "/v1/actions/resume", { body: { reason }, signal });
  }

  // MARK: Events

  /**
   * Opens `GET /v1/events` and answers the raw `text/event-stream` response (for passing it through);
   * throws a `MeowError` when meow refuses. `timeoutMs` bounds the wait for the headers only.
   */
  async openEventStream(options: EventOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (options.lastEventId) headers["Last-Event-ID"] = options.lastEventId;
    const types = typeof options.types === "string" || options.types === undefined ? options.types : options.types.join(",");
    const url = this.baseUrl + "/v1/events" + queryString({ types });
    const limit = deadline(options.signal, this.timeoutMs);
    let response: Response;
    // cache: "no-store" keeps Next.js's fetch cache out of it (Next 13/14 cache GETs by default)
    try {
      response = await this.#fetch(url, { method: "GET", headers: this.#headers(headers), signal: limit.signal, cache: "no-store" });
    } catch (error) {
      limit.clear();
      throw this.#transportError(error, limit.timedOut(), "GET /v1/events");
    }
    // the headers are in: the timeout is over, the caller's signal still closes the stream
    limit.clear(false);
    if (!response.ok) throw await this.#problem(response, "GET /v1/events");
    const type = response.headers.get("content-type") ?? "";
    if (!type.toLowerCase().startsWith("text/event-stream") || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      throw clientError(502, "bad-response", `GET /v1/events answered ${type || "no content type"}, not text/event-stream`);
    }
    return response;
  }

  /**
   * The live events, parsed and typed, until the stream ends or `signal` aborts (then the generator ends
   * quietly). Each event carries its `id`: give the last one as `lastEventId` to resume without gaps; a
   * `reset` event says some were lost and the state should be refetched. Unknown event types are skipped.
   *
   *     const stop = new AbortController();
   *     for await (const e of meow().events({ types: ["decision", "action"], signal: stop.signal })) {
   *       if (e.type === "decision") console.log(e.data.change, e.data.rule, e.data.subject);
   *     }
   */
  async *events(options: EventOptions = {}): AsyncGenerator<MeowEvent, void, undefined> {
    let response: Response;
    try {
      response = await this.openEventStream(options);
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
    const body = response.body as ReadableStream<Uint8Array>;
    try {
      for await (const message of parseEventStream(body)) {
        if (!eventTypes.has(message.event)) continue;
        let data: unknown;
        try {
          data = JSON.parse(message.data);
        } catch {
          throw clientError(502, "bad-response", `event ${message.id ?? "?"} (${message.event}) has data that is not JSON`);
        }
        const event = { id: message.id, type: message.event, data } as MeowEvent;
        if (message.retry !== undefined) event.retry = message.retry;
        yield event;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof MeowError) throw error;
      throw this.#transportError(error, false, "GET /v1/events");
    }
  }

  // MARK: Transport

  /** A GET whose answer is cached by ETag: If-None-Match with the kept ETag, the kept body on 304. */
  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.#request<T>("GET", path, options);
  }

  send<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, options: RequestOptions = {}): Promise<T> {
    return this.#request<T>(method, path, options);
  }

  /** Forgets the kept ETags and bodies. */
  clearCache(): void {
    this.#cache.clear();
  }

  #headers(extra: Record<string, string>): Headers {
    const headers = new Headers(extra);
    if (this.#token) headers.set("Authorization", `Bearer ${this.#token}`);
    return headers;
  }

  async #request<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const url = this.baseUrl + path + queryString(options.query);
    const what = `${method} ${path}`;
    const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
    let body: string | undefined;
    if (options.text) {
      headers["Content-Type"] = options.text.contentType;
      body = options.text.body;
    } else if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const cached = method === "GET" && this.#cacheSize > 0 ? this.#cache.get(url) : undefined;
    if (cached) {
      headers["If-None-Match"] = cached.etag;
      this.stats.conditional += 1;
    }
    const limit = deadline(options.signal, this.timeoutMs);
    try {
      let response: Response;
      try {
        response = await this.#fetch(url, { method, headers: this.#headers(headers), body, signal: limit.signal, cache: "no-store" });
      } catch (error) {
        throw this.#transportError(error, limit.timedOut(), what);
      }
      if (response.status === 304 && cached) {
        this.stats.notModified += 1;
        // the most recently used go last, so the first is the one to evict
        this.#cache.delete(url);
        this.#cache.set(url, cached);
        return JSON.parse(cached.text) as T;
      }
      if (!response.ok && !(options.accept ?? []).includes(response.status)) {
        this.#cache.delete(url);
        throw await this.#problem(response, what);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw this.#transportError(error, limit.timedOut(), what);
      }
      let value: T;
      try {
        value = JSON.parse(text) as T;
      } catch {
        throw clientError(502, "bad-response", `${what} answered ${response.status} with a body that is not JSON`);
      }
      const etag = response.headers.get("etag");
      if (method === "GET" && this.#cacheSize > 0) {
        this.#cache.delete(url);
        if (etag && response.ok) {
          this.#cache.set(url, { etag, text });
          while (this.#cache.size > this.#cacheSize) {
            const oldest = this.#cache.keys().next().value as string;
            this.#cache.delete(oldest);
          }
        }
      }
      return value;
    } finally {
      limit.clear();
    }
  }

  /** The problem of a failed response, or one made of its status when the body is not a problem. */
  async #problem(response: Response, what: string): Promise<MeowError> {
    let text = "";
    try {
      text = await response.text();
    } catch {
      // the status is all there is
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isProblem(parsed)) {
      return new MeowError(response.status, { ...parsed, status: typeof parsed.status === "number" ? parsed.status : response.status });
    }
    const excerpt = text.trim().slice(0, 200);
    return new MeowError(response.status, {
      type: "about:blank",
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      detail: `${what} answered ${response.status}${excerpt ? `: ${excerpt}` : ""}`,
    });
  }

  #transportError(error: unknown, timedOut: boolean, what: string): MeowError {
    if (error instanceof MeowError) return error;
    if (timedOut) {
      return clientError(504, "timeout", `${what}: meow at ${this.baseUrl} did not answer within ${this.timeoutMs} ms`, error);
    }
    const name = (error as { name?: string } | null)?.name;
    if (name === "AbortError") {
      return clientError(499, "aborted", `${what}: the request was aborted`, error);
    }
    const cause = (error as { cause?: { message?: string; code?: string } } | null)?.cause;
    const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return clientError(502, "unreachable", `${what}: meow at ${this.baseUrl} could not be reached (${reason})`, error);
  }
}

let shared: MeowClient | undefined;

/**
 * The dashboard's own client (`MEOW_URL`, `MEOW_TOKEN`: a viewer token), made on first use and shared by
 * every request of the process, so that its ETag cache is too. For acting as a person, use
 * `meow().withToken(theirToken)`, never this one.
 */
export function meow(): MeowClient {
  shared ??= new MeowClient();
  return shared;
}
