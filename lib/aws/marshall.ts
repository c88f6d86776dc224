import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall as sdkMarshall, unmarshall as sdkUnmarshall } from "@aws-sdk/util-dynamodb";

export const marshall = (value: Record<string, unknown>): Record<string, AttributeValue> =>
  sdkMarshall(value, { removeUndefinedValues: true, convertEmptyValues: false });

export const unmarshall = (item: Record<string, AttributeValue>): Record<string, unknown> =>
  sdkUnmarshall(item, { wrapNumbers: false }) as Record<string, unknown>;
