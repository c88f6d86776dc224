// The JSON Schema of broker.config.yaml, generated from the zod schema so the two cannot disagree.
import { z } from "zod";
import { configSchema } from "./schema.ts";

export function jsonSchemaDocument(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://github.com/credbroker/credbroker/schema/broker.config.schema.json",
    title: "credbroker configuration (broker.config.yaml)",
  };
}
