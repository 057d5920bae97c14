// docs/field-mapping.schema.json: the JSON Schema of the "Partner Center field mapping" environment
// variable, generated from its zod schema (Core/field-mapping-config.ts) by `npm run generate`.
// Core/test/field-mapping-config.test.ts fails when the published file is stale.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { fieldMappingJsonSchema } from "../Core/field-mapping-config.ts";

export const FIELD_MAPPING_SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "field-mapping.schema.json");

export function fieldMappingSchemaText(): string {
  return `${JSON.stringify(fieldMappingJsonSchema(), null, 2)}\n`;
}
