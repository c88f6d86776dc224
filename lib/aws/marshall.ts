// DynamoDB attribute values for the store's items. Every item the broker writes is plain JSON (strings,
// safe numbers, booleans, null, arrays, plain objects), so a direct walk converts it; the SDK's generic
// converter (util-dynamodb) costs several times more per item and sits on every request's path. Anything
// else (a Set, a Buffer, a big or non-finite number, a class instance) goes to the SDK's converter whole,
// so the result is always exactly what it would produce (test/aws/marshall.test.ts compares the two).
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall as sdkMarshall, unmarshall as sdkUnmarshall } from "@aws-sdk/util-dynamodb";

/** Thrown inside the fast walk when a value needs the SDK's converter. */
const NOT_PLAIN = Symbol("not plain");

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function toAttr(v: unknown): AttributeValue | undefined {
  switch (typeof v) {
    case "string":
      return { S: v };
    case "number":
      if (!Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER) throw NOT_PLAIN;
      return { N: String(v) };
    case "boolean":
      return { BOOL: v };
    case "undefined":
      return undefined;
    case "object": {
      if (v === null) return { NULL: true };
      if (Array.isArray(v)) {
        const L: AttributeValue[] = [];
        for (const item of v) {
          const a = toAttr(item);
          if (a !== undefined) L.push(a);
        }
        return { L };
      }
      if (!isPlainObject(v)) throw NOT_PLAIN;
      return { M: toMap(v as Record<string, unknown>) };
    }
    default:
      throw NOT_PLAIN;
  }
}

function toMap(value: Record<string, unknown>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const a = toAttr(value[k]);
    if (a !== undefined) out[k] = a;
  }
  return out;
}

export const marshall = (value: Record<string, unknown>): Record<string, AttributeValue> => {
  try {
    return toMap(value);
  } catch (err) {
    if (err !== NOT_PLAIN) throw err;
    return sdkMarshall(value, { removeUndefinedValues: true, convertEmptyValues: false });
  }
};

function fromAttr(a: AttributeValue): unknown {
  if (a.S !== undefined) return a.S;
  if (a.N !== undefined) {
    const n = Number(a.N);
    // Large numbers become BigInt in the SDK's converter; leave them (and anything odd) to it.
    if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) throw NOT_PLAIN;
    return n;
  }
  if (a.BOOL !== undefined) return a.BOOL;
  if (a.NULL !== undefined) return null;
  if (a.L !== undefined) return a.L.map(fromAttr);
  if (a.M !== undefined) return fromMap(a.M);
  throw NOT_PLAIN;
}

function fromMap(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in item) if (Object.hasOwn(item, k)) out[k] = fromAttr(item[k]!);
  return out;
}

export const unmarshall = (item: Record<string, AttributeValue>): Record<string, unknown> => {
  try {
    return fromMap(item);
  } catch (err) {
    if (err !== NOT_PLAIN) throw err;
    return sdkUnmarshall(item, { wrapNumbers: false }) as Record<string, unknown>;
  }
};
