// Route schemas are written with zod and handed to fastify as JSON Schema (draft-07, what its ajv reads):
// one description of each request and answer, validated and serialized at the edge.
import { z } from "zod";

/** JSON Schema for fastify from a zod schema. */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: "draft-7", io: "output" }) as Record<string, unknown>;
  return rest;
}

/** Every error the relay answers: a code to match on and a sentence for people. Never internals. */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

export const errorSchema = jsonSchema(ErrorBody);

/** Headers are validated loosely: other headers stay on the request (the signature needs them). */
export const looseHeaders = (shape: Record<string, z.ZodType>) => jsonSchema(z.looseObject(shape));

/** The store or the queue failed: answered 503, so the sender tries again (Partner Center up to 10 times, Dataverse once). */
export class StoreUnavailable extends Error {
  override name = "StoreUnavailable";
}

/** Runs a write the answer depends on; its failure becomes StoreUnavailable. */
export async function stored<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new StoreUnavailable("the event could not be stored or queued", { cause: error });
  }
}
