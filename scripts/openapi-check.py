#!/usr/bin/env python3
"""Checks meow's OpenAPI document against what the server does.

    openapi-check.py OPENAPI.json RESPONSES.json     recorded answers against the document
    openapi-check.py OPENAPI.json --routes ROUTES.json
                                                     the document's operations against API.routes
    openapi-check.py OPENAPI.json                    the document alone

The document itself is always checked first: OpenAPI 3.1, every `$ref` resolves, every schema is a valid
JSON Schema 2020-12 schema, every operation has a unique operationId and responses, path templates and
path parameters agree, no OpenAPI 3.0 leftovers (`nullable`).

RESPONSES.json is an array of recorded answers:

    [{"method": "GET", "path": "/v1/applications/{id}", "status": 200,
      "content_type": "application/json", "body": {...}}, ...]

`path` is the route's template; `body` the parsed JSON body, or null for a body that is not JSON or empty.
Each answer's operation must exist, its status be documented (or `default`), its media type (parameters
after `;` ignored) be documented for that status, and a JSON body (application/json, */*+json) must
validate against the documented schema (JSON Schema 2020-12, `#/components/...` references resolved,
format date-time asserted as RFC 3339).

ROUTES.json is an array of routes: [{"method": "GET", "path": "/v1/clusters", "query": ["environment", ...]}]:
the document's (method, path) set must equal it, and each operation's query parameter names must equal
the route's query list.

Prints one line per failure, then a summary; exits 1 on any failure, 0 otherwise, 2 on bad usage.
Needs Python 3.8+ and jsonschema (4.18+ preferred; older versions work through RefResolver).
"""

import argparse
import json
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover
    print("openapi-check: the jsonschema module is missing (pip install jsonschema)", file=sys.stderr)
    sys.exit(2)

try:
    import referencing
    import referencing.jsonschema

    HAVE_REFERENCING = True
except ImportError:  # jsonschema < 4.18
    HAVE_REFERENCING = False

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOC_URI = "https://meow.invalid/openapi.json"  # a base URI for the document (never fetched)
MAX_ERRORS_PER_RESPONSE = 10


RFC3339 = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


def format_checker():
    """Asserts format date-time (RFC 3339, with the stdlib: jsonschema's own needs an extra package)."""
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time")
    def is_datetime(value):
        return not isinstance(value, str) or RFC3339.match(value) is not None

    return checker


FORMATS = format_checker()


def pointer_escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(parts):
    return "#" + "".join("/" + pointer_escape(p) for p in parts)


def resolve_pointer(doc, ref):
    """The node a local reference (`#/a/b`) points at, or raises KeyError."""
    if not ref.startswith("#"):
        raise KeyError(f"not a local reference: {ref}")
    node = doc
    frag = ref[1:]
    if frag == "":
        return node
    if not frag.startswith("/"):
        raise KeyError(f"not a JSON pointer: {ref}")
    for raw in frag[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        token = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), token)
        if isinstance(node, list):
            try:
                node = node[int(token)]
            except (ValueError, IndexError):
                raise KeyError(ref)
        elif isinstance(node, dict):
            if token not in node:
                raise KeyError(ref)
            node = node[token]
        else:
            raise KeyError(ref)
    return node


def deref(doc, node):
    """Follows `$ref` of a non-schema object (path item, parameter, response) to the object."""
    return deref_at(doc, node, None)[0]


def deref_at(doc, node, at):
    """deref, and the JSON pointer (`#/...`) of the object it ends at (`at` when `node` is no reference)."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise KeyError(f"reference cycle at {ref}")
        seen.add(ref)
        node = resolve_pointer(doc, ref)
        at = ref
    return node, at


def media_type(content_type):
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(mt):
    return mt == "application/json" or mt.endswith("+json")


def match_media(documented, actual):
    """The documented media type key matching `actual` (exact, then type/*, then */*), or None."""
    keys = {media_type(k): k for k in documented}
    if actual in keys:
        return keys[actual]
    main = actual.split("/", 1)[0]
    if f"{main}/*" in keys:
        return keys[f"{main}/*"]
    if "*/*" in keys:
        return keys["*/*"]
    return None


class Checker:
    def __init__(self, doc, doc_path):
        self.doc = doc
        self.doc_path = doc_path
        self.failures = []
        self.operations = {}  # (METHOD, path) -> (operation, path item)
        self._validators = {}
        if HAVE_REFERENCING:
            resource = referencing.Resource.from_contents(doc, default_specification=referencing.jsonschema.DRAFT202012)
            self.registry = referencing.Registry().with_resource(DOC_URI, resource)

    def fail(self, line):
        self.failures.append(line)
        print(line)

    # ------------------------------------------------------------------ the document itself

    def check_document(self):
        doc = self.doc
        if not isinstance(doc, dict):
            self.fail(f"document: {self.doc_path} is not a JSON object")
            return
        version = doc.get("openapi")
        if not (isinstance(version, str) and version.startswith("3.1")):
            self.fail(f"document: openapi is {version!r}, expected 3.1.x")
        info = doc.get("info")
        if not isinstance(info, dict) or not isinstance(info.get("title"), str) or not isinstance(info.get("version"), str):
            self.fail("document: info needs a title and a version")
        dialect = doc.get("jsonSchemaDialect")
        if dialect not in (None, "https://spec.openapis.org/oas/3.1/dialect/base", "https://json-schema.org/draft/2020-12/schema"):
            self.fail(f"document: jsonSchemaDialect {dialect!r} is not JSON Schema 2020-12")
        self._check_refs(doc, [])
        self._check_schemas()
        paths = doc.get("paths")
        if not isinstance(paths, dict):
            self.fail("document: paths must be an object")
            return
        op_ids = {}
        schemes = set((doc.get("components") or {}).get("securitySchemes") or {})
        for path, item in paths.items():
            if not path.startswith("/"):
                self.fail(f"document: path {path!r} does not start with /")
            try:
                item = deref(doc, item)
            except KeyError as e:
                self.fail(f"document: path {path}: unresolvable reference {e}")
                continue
            if not isinstance(item, dict):
                self.fail(f"document: path {path} is not an object")
                continue
            for key in item:
                if key in METHODS:
                    self._check_operation(path, key, item, op_ids, schemes)

    def _check_refs(self, node, at):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref.startswith("#"):
                    try:
                        resolve_pointer(self.doc, ref)
                    except KeyError:
                        self.fail(f"document: {pointer(at)}: $ref {ref} does not resolve")
                else:
                    self.fail(f"document: {pointer(at)}: $ref {ref} is not a local reference (not checked)")
            if "nullable" in node and at and at[-1] != "properties" and isinstance(node.get("nullable"), bool):
                self.fail(f"document: {pointer(at)}: nullable is OpenAPI 3.0; use type: [..., \"null\"] in 3.1")
            for k, v in node.items():
                in_properties = bool(at) and at[-1] == "properties"
                if not in_properties and (k in ("example", "default", "const", "enum") or (k == "examples" and isinstance(v, list))):
                    continue  # data, not schema (a map of examples holds Example objects, which may be references)
                self._check_refs(v, at + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self._check_refs(v, at + [i])

    def _check_schemas(self):
        """Each schema in the document is a valid JSON Schema 2020-12 schema."""
        for loc, schema in self._schema_locations():
            try:
                Draft202012Validator.check_schema(schema)
            except jsonschema.exceptions.SchemaError as e:
                where = "/".join(str(p) for p in e.absolute_path)
                self.fail(f"document: {pointer(loc)}: not a valid JSON Schema 2020-12 schema ({where}: {e.message})")

    def _schema_locations(self):
        comps = (self.doc.get("components") or {}).get("schemas") or {}
        for name, s in comps.items():
            yield ["components", "schemas", name], s
        for path, item in (self.doc.get("paths") or {}).items():
            if not isinstance(item, dict):
                continue
            for method, op in item.items():
                if method not in METHODS or not isinstance(op, dict):
                    continue
                base = ["paths", path, method]
                for i, p in enumerate(op.get("parameters") or []):
                    if isinstance(p, dict) and "schema" in p:
                        yield base + ["parameters", i, "schema"], p["schema"]
                body = op.get("requestBody")
                if isinstance(body, dict):
                    for mt, m in (body.get("content") or {}).items():
                        if isinstance(m, dict) and "schema" in m:
                            yield base + ["requestBody", "content", mt, "schema"], m["schema"]
                for status, r in (op.get("responses") or {}).items():
                    if not isinstance(r, dict):
                        continue
                    for mt, m in (r.get("content") or {}).items():
                        if isinstance(m, dict) and "schema" in m:
                            yield base + ["responses", status, "content", mt, "schema"], m["schema"]

    def _check_operation(self, path, method, item, op_ids, schemes):
        op = item[method]
        name = f"{method.upper()} {path}"
        if not isinstance(op, dict):
            self.fail(f"document: {name} is not an object")
            return
        self.operations[(method.upper(), path)] = (op, item)
        op_id = op.get("operationId")
        if not isinstance(op_id, str) or not op_id:
            self.fail(f"document: {name} has no operationId")
        elif op_id in op_ids:
            self.fail(f"document: {name}: operationId {op_id} is also {op_ids[op_id]}'s")
        else:
            op_ids[op_id] = name
        responses = op.get("responses")
        if not isinstance(responses, dict) or not responses:
            self.fail(f"document: {name} documents no responses")
        else:
            for status in responses:
                if status != "default" and not re.fullmatch(r"[1-5](\d\d|XX)", str(status)):
                    self.fail(f"document: {name}: {status!r} is not a status code")
        for req in op.get("security", self.doc.get("security", [])) or []:
            for scheme in req:
                if scheme not in schemes:
                    self.fail(f"document: {name}: security scheme {scheme} is not in components.securitySchemes")
        # path template parameters and path parameters agree
        template = set(re.findall(r"\{([^}]+)\}", path))
        declared = {}
        for p in self._parameters(op, item, name):
            key = (p.get("name"), p.get("in"))
            if key in declared:
                self.fail(f"document: {name}: parameter {key[0]} ({key[1]}) declared twice")
            declared[key] = p
            if p.get("in") == "path" and p.get("required") is not True:
                self.fail(f"document: {name}: path parameter {p.get('name')} must be required")
            if "schema" not in p and "content" not in p:
                self.fail(f"document: {name}: parameter {p.get('name')} has neither schema nor content")
        in_path = {n for (n, where) in declared if where == "path"}
        for n in sorted(template - in_path):
            self.fail(f"document: {name}: path parameter {{{n}}} is not declared")
        for n in sorted(in_path - template):
            self.fail(f"document: {name}: path parameter {n} is not in the path template")

    def _parameters(self, op, item, name):
        """The operation's parameters with the path item's (the operation's win), references resolved."""
        out = {}
        for source in (item.get("parameters") or [], op.get("parameters") or []):
            for p in source:
                try:
                    p = deref(self.doc, p)
                except KeyError as e:
                    self.fail(f"document: {name}: unresolvable parameter reference {e}")
                    continue
                if isinstance(p, dict):
                    out[(p.get("name"), p.get("in"))] = p
        return list(out.values())

    # ------------------------------------------------------------------ routes

    def check_routes(self, routes):
        wanted = {}
        for r in routes:
            key = (str(r.get("method", "")).upper(), r.get("path"))
            if key in wanted:
                self.fail(f"routes: {key[0]} {key[1]} is listed twice")
            wanted[key] = list(r.get("query") or [])
        have = set(self.operations)
        for key in sorted(set(wanted) - have):
            self.fail(f"routes: {key[0]} {key[1]} is a route but not in the document")
        for key in sorted(have - set(wanted)):
            self.fail(f"routes: {key[0]} {key[1]} is in the document but not a route")
        for key in sorted(set(wanted) & have):
            op, item = self.operations[key]
            names = [p.get("name") for p in self._parameters(op, item, f"{key[0]} {key[1]}") if p.get("in") == "query"]
            want = wanted[key]
            if sorted(names) != sorted(want):
                missing = sorted(set(want) - set(names))
                extra = sorted(set(names) - set(want))
                detail = "; ".join(
                    x for x in (f"missing {', '.join(missing)}" if missing else "", f"extra {', '.join(extra)}" if extra else "") if x
                ) or "duplicates"
                self.fail(
                    f"routes: {key[0]} {key[1]}: query parameters {sorted(names)} != the route's {sorted(want)} ({detail})"
                )
        return len(wanted)

    # ------------------------------------------------------------------ responses

    def validator(self, schema_pointer):
        v = self._validators.get(schema_pointer)
        if v is None:
            if HAVE_REFERENCING:
                v = Draft202012Validator({"$ref": DOC_URI + schema_pointer}, registry=self.registry, format_checker=FORMATS)
            else:  # pragma: no cover - jsonschema < 4.18
                resolver = jsonschema.RefResolver(base_uri=DOC_URI, referrer=self.doc, store={DOC_URI: self.doc})
                v = Draft202012Validator({"$ref": DOC_URI + schema_pointer}, resolver=resolver, format_checker=FORMATS)
            self._validators[schema_pointer] = v
        return v

    def check_responses(self, responses):
        covered = set()
        for i, r in enumerate(responses):
            if not isinstance(r, dict):
                self.fail(f"responses[{i}]: not an object")
                continue
            method = str(r.get("method", "")).upper()
            path = r.get("path")
            status = r.get("status")
            name = f"{method} {path} {status}"
            entry = self.operations.get((method, path))
            if entry is None:
                self.fail(f"{name}: no such operation in the document")
                continue
            covered.add((method, path))
            op, _ = entry
            responses_doc = op.get("responses") or {}
            key = str(status)
            if key not in responses_doc:
                ranged = f"{key[:1]}XX"
                key = ranged if ranged in responses_doc else ("default" if "default" in responses_doc else None)
            if key is None:
                self.fail(f"{name}: status {status} is not documented (documented: {', '.join(sorted(responses_doc))})")
                continue
            try:
                resp, resp_at = deref_at(self.doc, responses_doc[key], pointer(["paths", path, method.lower(), "responses", key]))
            except KeyError as e:
                self.fail(f"{name}: unresolvable response reference {e}")
                continue
            content = resp.get("content") or {}
            body = r.get("body")
            mt = media_type(r.get("content_type"))
            if not content:
                if body is not None:
                    self.fail(f"{name}: the response has a body but none is documented for {key}")
                continue
            if not mt:
                if body is not None:
                    self.fail(f"{name}: the response has a body but no content type")
                continue
            doc_mt = match_media(content, mt)
            if doc_mt is None:
                self.fail(f"{name}: content type {mt} is not documented for {key} (documented: {', '.join(content)})")
                continue
            if body is None or not is_json(mt):
                continue
            media = content[doc_mt] or {}
            if "schema" not in media:
                continue
            schema_pointer = resp_at + "/content/" + pointer_escape(doc_mt) + "/schema"
            try:
                validator = self.validator(schema_pointer)
                errors = sorted(validator.iter_errors(body), key=lambda e: (list(map(str, e.absolute_path)), e.message))
            except Exception as e:  # an unresolvable reference, a broken schema
                self.fail(f"{name}: cannot validate against the documented schema: {validation_problem(e)}")
                continue
            for e in errors[:MAX_ERRORS_PER_RESPONSE]:
                self.fail(f"{name}: {json_path(e)}: {describe(e)}")
            if len(errors) > MAX_ERRORS_PER_RESPONSE:
                self.fail(f"{name}: ... and {len(errors) - MAX_ERRORS_PER_RESPONSE} more validation errors")
        return covered


def json_path(error):
    path = "$"
    for p in error.absolute_path:
        path += f"[{p}]" if isinstance(p, int) else (f".{p}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(p)) else f"[{json.dumps(p)}]")
    return path


def describe(error):
    """The error; for oneOf/anyOf, the first error of the alternative that came closest (fewest errors)."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else 0, []).append(sub)
        index, errs = min(branches.items(), key=lambda kv: (len(kv[1]), kv[0]))
        best = min(errs, key=lambda e: len(e.absolute_path))
        msg = f"matches none of the {error.validator} alternatives; closest, #{index}: {json_path(best)}: {shorten(best.message, 200)}"
    else:
        msg = shorten(error.message, 300)
    sch = "/".join(str(p) for p in error.absolute_schema_path)
    return f"{msg} [schema {sch}]"


def validation_problem(e):
    """A short account of why a schema could not be used (not the whole document the error carries)."""
    inner = getattr(e, "_wrapped", None) or e.__cause__ or e
    ref = getattr(inner, "ref", None) or getattr(e, "ref", None)
    if ref is not None:
        return f"unresolvable $ref {'#' + ref if str(ref).startswith('/') else ref}"
    pointer_ = getattr(inner, "pointer", None)
    if pointer_ is not None:
        return f"unresolvable JSON pointer {pointer_}"
    first = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{type(inner).__name__}: {shorten(first, 200)}"


def shorten(text, n):
    return text if len(text) <= n else text[:n] + "..."


def load(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        print(f"openapi-check: cannot read {what} {path}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    except json.JSONDecodeError as e:
        print(f"openapi-check: {what} {path} is not valid JSON: {e}", file=sys.stderr)
        sys.exit(2)


def load_array(path, what):
    """A JSON array from a file, or None after saying why not."""
    value = load(path, what)
    if not isinstance(value, list):
        print(f"openapi-check: {path} must be a JSON array", file=sys.stderr)
        return None
    return value


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="openapi-check.py",
        description="Check meow's OpenAPI document, recorded API answers against it, and its routes against API.routes.",
    )
    ap.add_argument("openapi", help="the OpenAPI 3.1 document (Sources/MeowServer/openapi.json)")
    ap.add_argument("responses", nargs="?", help="recorded answers: [{method, path (template), status, content_type, body}]")
    ap.add_argument("--routes", metavar="ROUTES.json", help="routes: [{method, path, query: [names]}]; compare with the document")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list the operations no answer covered")
    args = ap.parse_args(argv)

    doc = load(args.openapi, "OpenAPI document")
    checker = Checker(doc, args.openapi)
    checker.check_document()
    doc_failures = len(checker.failures)
    ops = len(checker.operations)
    if doc_failures:
        print(f"openapi-check: the document has {doc_failures} problems")

    exit_failures = doc_failures
    if args.routes:
        routes = load_array(args.routes, "routes file")
        if routes is None:
            return 2
        before = len(checker.failures)
        n = checker.check_routes(routes)
        k = len(checker.failures) - before
        print(f"openapi-check: {n} routes, {ops} operations, {k} failures")
        exit_failures += k
    if args.responses:
        responses = load_array(args.responses, "responses file")
        if responses is None:
            return 2
        before = len(checker.failures)
        covered = checker.check_responses(responses)
        k = len(checker.failures) - before
        if args.verbose:
            for key in sorted(set(checker.operations) - covered):
                print(f"not covered: {key[0]} {key[1]}")
        print(f"openapi-check: {len(responses)} responses, {len(covered)} operations covered, {k + doc_failures} failures")
        exit_failures += k
    if not args.routes and not args.responses:
        print(f"openapi-check: {ops} operations, {doc_failures} failures")
    return 1 if exit_failures else 0


if __name__ == "__main__":
    sys.exit(main())
