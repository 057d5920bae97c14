// PATCH /referrals/{id}: RFC 6902 JSON Patch, only `add` and `replace` (docs §4.4). fast-json-patch applies
// the operations; this file checks them against the model first: member names matched case-insensitively,
// read-only members refused, values coerced to the member's type ("10000" → 10000 for dealValue).
import jsonpatch from "fast-json-patch";
import { invalid } from "./errors.ts";
import { canonicalize, fieldAt, isReadOnly, resolvePointer, type Json, type JsonObject } from "./schema.ts";

export interface PatchOperation {
  op: "add" | "replace";
  /** Canonical pointer. */
  path: string;
  value: Json;
}

/** Validates a request body as a JSON Patch document of `add`/`replace` operations on writable members. */
export function readPatch(body: unknown): PatchOperation[] {
  if (!Array.isArray(body)) throw invalid("the body must be a JSON Patch document (an array of operations)");
  if (body.length === 0) throw invalid("the JSON Patch document has no operations");
  return body.map((raw, index) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalid(`operation ${index} must be an object`);
    const entries = Object.entries(raw as Record<string, unknown>);
    const get = (name: string) => entries.find(([key]) => key.toLowerCase() === name)?.[1];
    const op = get("op");
    const path = get("path");
    if (typeof op !== "string") throw invalid(`operation ${index} has no 'op'`);
    if (typeof path !== "string") throw invalid(`operation ${index} has no 'path'`);
    const name = op.toLowerCase();
    if (name !== "add" && name !== "replace") throw invalid(`operation ${index}: '${op}' is not supported; only 'add' and 'replace' are`, path);
    if (!entries.some(([key]) => key.toLowerCase() === "value")) throw invalid(`operation ${index} (${name} ${path}) has no 'value'`, path);
    const resolved = resolvePointer(path);
    if (resolved.segments.length === 0) throw invalid("the whole referral cannot be replaced with PATCH; use member paths", path);
    if (isReadOnly(resolved.pointer)) {
      throw invalid(`'${resolved.pointer}' is set by Partner Center and cannot be changed`, resolved.pointer);
    }
    const last = resolved.segments[resolved.segments.length - 1];
    if (name === "replace" && last === "-") throw invalid(`replace cannot target '${path}'; use add to append`, path);
    return { op: name, path: resolved.pointer, value: canonicalize(get("value"), resolved.field, resolved.pointer) };
  });
}

/** Applies validated operations to a copy of `referral`, creating missing parent objects and arrays from the model. */
export function applyPatch(referral: JsonObject, operations: PatchOperation[]): JsonObject {
  const document = structuredClone(referral);
  for (const operation of operations) {
    const segments = resolvePointer(operation.path).segments;
    let container: Json = document;
    for (let i = 0; i < segments.length - 1; i++) {
      const segment = segments[i]!;
      const field = fieldAt(segments.slice(0, i + 1));
      if (Array.isArray(container)) {
        container = container[Number(segment)] ?? null;
      } else if (container && typeof container === "object") {
        if (container[segment] === null || container[segment] === undefined) {
          if (field?.kind === "object") container[segment] = {};
          else if (field?.kind === "array") container[segment] = [];
        }
        container = container[segment] ?? null;
      }
      if (container === null || typeof container !== "object") throw invalid(`path '${operation.path}' does not exist`, operation.path);
    }
    const last = segments[segments.length - 1]!;
    // A typed model always has its members; replacing one that is absent here means setting it.
    const op = operation.op === "replace" && !Array.isArray(container) && container && typeof container === "object" && !(last in container) ? "add" : operation.op;
    try {
      jsonpatch.applyOperation(document, { op, path: operation.path, value: operation.value }, true, true);
    } catch (error) {
      throw invalid(`cannot ${operation.op} '${operation.path}': ${(error as Error).message.split("\n")[0]}`, operation.path);
    }
  }
  return document;
}
