/**
 * The little of Node's API the smoke test uses, declared here because this example builds without
 * npm (so without @types/node). In a project that has @types/node, delete this file.
 */
declare module "node:assert/strict" {
  function assert(value: unknown, message?: string): asserts value;
  namespace assert {
    function ok(value: unknown, message?: string): asserts value;
    function equal(actual: unknown, expected: unknown, message?: string): void;
    function notEqual(actual: unknown, expected: unknown, message?: string): void;
    function deepEqual(actual: unknown, expected: unknown, message?: string): void;
    function match(value: string, pattern: RegExp, message?: string): void;
    function fail(message?: string): never;
  }
  export default assert;
}

declare const process: {
  env: Record<string, string | undefined>;
  exit(code?: number): never;
};
