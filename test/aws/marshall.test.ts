// The store's own attribute-value converter must give exactly what the SDK's util-dynamodb gives with the
// options the store used before (undefined removed, empty values kept, numbers unwrapped), for any item.
import { marshall as sdkMarshall, unmarshall as sdkUnmarshall } from "@aws-sdk/util-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { marshall, unmarshall } from "../../lib/aws/marshall.ts";

const sdkM = (v: Record<string, unknown>) =>
  sdkMarshall(v, { removeUndefinedValues: true, convertEmptyValues: false });
const sdkU = (v: Parameters<typeof sdkUnmarshall>[0]) => sdkUnmarshall(v, { wrapNumbers: false });

// The SDK refuses an object with an own `constructor` key (it reads it to tell plain objects apart); no
// item of the store has one, so the generator leaves it out.
const key = fc.string().filter((k) => k !== "constructor");
const plain = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4 }),
  ),
}));
const item = fc.dictionary(key, plain.value, { maxKeys: 8 });

describe("marshall and unmarshall", () => {
  it("convert any plain item exactly as the SDK's converter does, both ways", () => {
    fc.assert(
      fc.property(item, (value) => {
        let theirs: ReturnType<typeof sdkM>;
        try {
          theirs = sdkM(value);
        } catch {
          // A number the SDK refuses (beyond 2^53) is refused by the store too.
          expect(() => marshall(value)).toThrow();
          return;
        }
        const ours = marshall(value);
        expect(ours).toEqual(theirs);
        expect(unmarshall(ours)).toEqual(sdkU(ours));
      }),
      { numRuns: 500 },
    );
  });

  it("hand values only the SDK knows (sets, binary, big numbers) to the SDK's converter", () => {
    const value = {
      tags: new Set(["a", "b"]),
      blob: new Uint8Array([1, 2]),
      big: 2 ** 60,
      name: "grant",
    };
    expect(() => sdkM(value)).toThrow(); // 2 ** 60 is not a safe number: the SDK refuses it…
    expect(() => marshall(value)).toThrow(); // …and so does the store, as before.
    const { big: _big, ...rest } = value;
    expect(marshall(rest)).toEqual(sdkM(rest));
    const stored = { n: { N: "123456789012345678901" }, s: { SS: ["x"] }, b: { B: new Uint8Array([7]) } };
    expect(unmarshall(stored)).toEqual(sdkU(stored));
  });

  it("keeps empty strings, lists and maps, and drops undefined members", () => {
    const value = {
      empty: "",
      list: [],
      map: {},
      gone: undefined,
      nested: { a: undefined, b: [undefined, 1] },
    };
    expect(marshall(value)).toEqual(sdkM(value));
    expect(marshall(value)).toEqual({
      empty: { S: "" },
      list: { L: [] },
      map: { M: {} },
      nested: { M: { b: { L: [{ N: "1" }] } } },
    });
  });
});
