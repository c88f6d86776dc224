// The streamed reader of get-account-authorization-details: the same elements however the text is cut
// into chunks, strings with braces and escapes inside, and the structure around the elements checked.
import { describe, expect, it } from "vitest";
import { InventoryError } from "../../lib/core/inventory/errors.ts";
import { JsonElements } from "../../lib/core/inventory/json-elements.ts";

const LISTS = ["UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"];

function read(text: string, chunk: number): [string, unknown][] {
  const got: [string, unknown][] = [];
  const r = new JsonElements({
    what: "doc",
    lists: LISTS,
    scalars: ["IsTruncated", "Marker"],
    onElement: (list, e) => got.push([list, e]),
  });
  for (let i = 0; i < text.length; i += chunk) r.push(text.slice(i, i + chunk));
  r.end();
  return got;
}

const doc = {
  UserDetailList: [{ UserName: 'a "quoted" {brace} [bracket] \\ back', Tags: [{ Key: "k", Value: "ü✓" }] }],
  GroupDetailList: [],
  Marker: "x,y}",
  RoleDetailList: [
    { RoleName: "r", AssumeRolePolicyDocument: { Statement: [{ Principal: { AWS: ["1", "2"] } }] } },
    { RoleName: "s" },
  ],
  IsTruncated: false,
  Policies: [{ PolicyName: "p" }],
};

describe("JsonElements", () => {
  it("hands over every element the same whatever the chunk size", () => {
    const text = JSON.stringify(doc, null, 2);
    const expected = [
      ["UserDetailList", doc.UserDetailList[0]],
      ["RoleDetailList", doc.RoleDetailList[0]],
      ["RoleDetailList", doc.RoleDetailList[1]],
      ["Policies", doc.Policies[0]],
    ];
    for (const chunk of [1, 2, 3, 7, 64, text.length]) expect(read(text, chunk)).toEqual(expected);
  });

  it.each([
    ["a list of strings", '{"UserDetailList": ["a"]}', /holds something that is not an object/],
    ["a list given as an object", '{"UserDetailList": {}}', /is not one of the document's lists/],
    ["a key twice", '{"Policies": [], "Policies": []}', /appears twice/],
    [
      "text after the end",
      '{"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []} {',
      /after the end/,
    ],
    ["nothing", "  ", /empty/],
  ])("refuses %s", (_what, text, message) => {
    expect(() => read(text, 5)).toThrow(InventoryError);
    expect(() => read(text, 5)).toThrow(message);
  });
});
