// Hostile token requests through the real handlers (the API Gateway event shape): missing, repeated,
// empty, oversized and type-confused parameters, content-type and charset tricks, other methods and
// spoofed source addresses. Each is refused with the contract's status and error and issues nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { createHandlers } from "../../lib/http/handlers.ts";
import { createTestBroker, NOW, type TestBroker } from "../support/broker.ts";
import { allGrants, expectNoCredential } from "./helpers.ts";

const GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";
let broker: TestBroker;
let token: string;

beforeAll(async () => {
  broker = await createTestBroker();
  token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
});

const audits = () =>
  broker.logs
    .map((l) => JSON.parse(l) as { message: string; audit?: Record<string, unknown> })
    .filter((l) => l.message === "audit" && l.audit)
    .map((l) => l.audit as Record<string, unknown>);

const valid = () => ({
  grant_type: GRANT,
  subject_token: token,
  subject_token_type: JWT_TYPE,
  scope: "read-reports",
});
const form = (pairs: [string, string][]) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
const without = (name: string) => Object.entries(valid()).filter(([k]) => k !== name) as [string, string][];
const withValue = (name: string, value: string) =>
  Object.entries({ ...valid(), [name]: value }) as [string, string][];

type Case = [
  name: string,
  body: () => string,
  contentType: string | undefined,
  status: number,
  error: string,
];
const FORM = "application/x-www-form-urlencoded";
const JSON_CT = "application/json";

const PARAMS = ["grant_type", "subject_token", "subject_token_type", "scope"] as const;
const missingError = (p: string) => (p === "scope" ? "invalid_scope" : "invalid_request");

const CASES: Case[] = [
  // every parameter missing, empty, repeated
  ...PARAMS.map((p): Case => [`${p} missing`, () => form(without(p)), FORM, 400, missingError(p)]),
  ...PARAMS.map((p): Case => [`${p} empty`, () => form(withValue(p, "")), FORM, 400, missingError(p)]),
  ...PARAMS.map(
    (p): Case => [
      `${p} repeated`,
      () => `${form(Object.entries(valid()))}&${form([[p, valid()[p]]])}`,
      FORM,
      400,
      "invalid_request",
    ],
  ),
  ...PARAMS.map(
    (p): Case => [
      `${p} repeated in JSON`,
      () =>
        `{${Object.entries(valid())
          .map(([k, v]) => `"${k}":${JSON.stringify(v)}`)
          .join(",")},"${p}":${JSON.stringify(valid()[p])}}`,
      JSON_CT,
      400,
      "invalid_request",
    ],
  ),
  [
    "scope repeated in JSON under an escaped name",
    () =>
      `{${Object.entries(valid())
        .map(([k, v]) => `"${k}":${JSON.stringify(v)}`)
        .join(",")},"\\u0073cope":"read-reports"}`,
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "subject_token repeated under a percent-encoded name",
    () => `${form(Object.entries(valid()))}&subject%5Ftoken=x`,
    FORM,
    400,
    "invalid_request",
  ],
  [
    "duration_seconds repeated",
    () => `${form(Object.entries(valid()))}&duration_seconds=60&duration_seconds=300`,
    FORM,
    400,
    "invalid_request",
  ],
  [
    "purpose repeated",
    () => `${form(Object.entries(valid()))}&purpose=a&purpose=b`,
    FORM,
    400,
    "invalid_request",
  ],
  // values out of range or shape
  [
    "grant_type of another flow",
    () => form(withValue("grant_type", "client_credentials")),
    FORM,
    400,
    "unsupported_grant_type",
  ],
  [
    "grant_type with a trailing space",
    () => form(withValue("grant_type", `${GRANT} `)),
    FORM,
    400,
    "unsupported_grant_type",
  ],
  [
    "subject_token_type unknown",
    () => form(withValue("subject_token_type", "urn:ietf:params:oauth:token-type:saml2")),
    FORM,
    400,
    "invalid_request",
  ],
  [
    "scope of two tasks",
    () => form(withValue("scope", "read-reports read-reports")),
    FORM,
    400,
    "invalid_scope",
  ],
  ["scope unknown", () => form(withValue("scope", "admin")), FORM, 400, "invalid_scope"],
  ["scope oversized", () => form(withValue("scope", "a".repeat(5000))), FORM, 400, "invalid_scope"],
  ["scope only spaces", () => form(withValue("scope", "   ")), FORM, 400, "invalid_scope"],
  ["scope with a NUL", () => form(withValue("scope", "read-reports\u0000")), FORM, 400, "invalid_scope"],
  [
    "scope with a tab separator",
    () => form(withValue("scope", "read-reports\tadmin")),
    FORM,
    400,
    "invalid_scope",
  ],
  [
    "subject_token oversized (60 KiB)",
    () => form(withValue("subject_token", "a".repeat(60_000))),
    FORM,
    400,
    "invalid_request",
  ],
  ["body over 64 KiB", () => form(withValue("purpose", "a".repeat(70_000))), FORM, 413, "request_too_large"],
  [
    "purpose oversized",
    () => form([...Object.entries(valid()), ["purpose", "p".repeat(257)]] as [string, string][]),
    FORM,
    400,
    "invalid_request",
  ],
  [
    "purpose with a newline",
    () => form([...Object.entries(valid()), ["purpose", "a\nb"]] as [string, string][]),
    FORM,
    400,
    "invalid_request",
  ],
  ...["-1", "1e3", "0x10", " 60", "60.0", "NaN", "Infinity", "9999999", "", "30", "301"].map(
    (d): Case => [
      `duration_seconds ${JSON.stringify(d)}`,
      () => form([...Object.entries(valid()), ["duration_seconds", d]] as [string, string][]),
      FORM,
      400,
      "invalid_request",
    ],
  ),
  [
    "requested_token_type of the other provider",
    () =>
      form([
        ...Object.entries(valid()),
        ["requested_token_type", "urn:credbroker:token-type:aws-credentials"],
      ] as [string, string][]),
    FORM,
    400,
    "invalid_request",
  ],
  [
    "requested_token_type oversized",
    () => form([...Object.entries(valid()), ["requested_token_type", "u".repeat(300)]] as [string, string][]),
    FORM,
    400,
    "invalid_request",
  ],
  // encoding
  [
    "form with a broken percent escape",
    () => `${form(Object.entries(valid()))}&purpose=%E0%A4%A`,
    FORM,
    400,
    "invalid_request",
  ],
  [
    "form with an overlong UTF-8 escape",
    () => `${form(Object.entries(valid()))}&purpose=%C0%AF`,
    FORM,
    400,
    "invalid_request",
  ],
  [
    "form with a lone surrogate escape",
    () => `${form(Object.entries(valid()))}&purpose=%ED%A0%80`,
    FORM,
    400,
    "invalid_request",
  ],
  // JSON type confusion
  [
    "JSON subject_token a number",
    () => JSON.stringify({ ...valid(), subject_token: 12345 }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON subject_token an object",
    () => JSON.stringify({ ...valid(), subject_token: { jwt: token } }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON subject_token an array",
    () => JSON.stringify({ ...valid(), subject_token: [token] }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON subject_token null",
    () => JSON.stringify({ ...valid(), subject_token: null }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON subject_token true",
    () => JSON.stringify({ ...valid(), subject_token: true }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON grant_type an array",
    () => JSON.stringify({ ...valid(), grant_type: [GRANT] }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON scope an array",
    () => JSON.stringify({ ...valid(), scope: ["read-reports"] }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON scope an object",
    () => JSON.stringify({ ...valid(), scope: { 0: "read-reports" } }),
    JSON_CT,
    400,
    "invalid_scope",
  ],
  [
    "JSON duration_seconds a fraction",
    () => JSON.stringify({ ...valid(), duration_seconds: 60.5 }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON duration_seconds a boolean",
    () => JSON.stringify({ ...valid(), duration_seconds: true }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON duration_seconds huge",
    () =>
      `{${Object.entries(valid())
        .map(([k, v]) => `"${k}":${JSON.stringify(v)}`)
        .join(",")},"duration_seconds":1e400}`,
    JSON_CT,
    400,
    "invalid_request",
  ],
  [
    "JSON purpose an object",
    () => JSON.stringify({ ...valid(), purpose: { a: 1 } }),
    JSON_CT,
    400,
    "invalid_request",
  ],
  ["JSON body an array", () => JSON.stringify([valid()]), JSON_CT, 400, "invalid_request"],
  ["JSON body a string", () => JSON.stringify("grant_type"), JSON_CT, 400, "invalid_request"],
  ["JSON body null", () => "null", JSON_CT, 400, "invalid_request"],
  ["JSON body truncated", () => JSON.stringify(valid()).slice(0, -5), JSON_CT, 400, "invalid_request"],
  ["JSON body with a BOM", () => `\ufeff${JSON.stringify(valid())}`, JSON_CT, 400, "invalid_request"],
  [
    "JSON __proto__ smuggling",
    () =>
      `{"__proto__":{"scope":"read-reports"},"grant_type":"${GRANT}","subject_token":"${"x"}","subject_token_type":"${JWT_TYPE}"}`,
    JSON_CT,
    400,
    "invalid_scope",
  ],
  ["JSON sent as form", () => JSON.stringify(valid()), FORM, 400, "invalid_request"],
  ["form sent as JSON", () => form(Object.entries(valid())), JSON_CT, 400, "invalid_request"],
  // content types and charsets
  ["no content type", () => form(Object.entries(valid())), undefined, 415, "unsupported_media_type"],
  ["text/plain", () => form(Object.entries(valid())), "text/plain", 415, "unsupported_media_type"],
  [
    "multipart/form-data",
    () => form(Object.entries(valid())),
    "multipart/form-data; boundary=x",
    415,
    "unsupported_media_type",
  ],
  ["application/xml", () => "<x/>", "application/xml", 415, "unsupported_media_type"],
  [
    "a content type list",
    () => form(Object.entries(valid())),
    `${FORM}, ${JSON_CT}`,
    415,
    "unsupported_media_type",
  ],
  [
    "form+json suffix confusion",
    () => JSON.stringify(valid()),
    "application/x-www-form-urlencoded+json",
    415,
    "unsupported_media_type",
  ],
  [
    "charset utf-16",
    () => JSON.stringify(valid()),
    `${JSON_CT}; charset=utf-16`,
    415,
    "unsupported_media_type",
  ],
  [
    "charset iso-8859-1",
    () => form(Object.entries(valid())),
    `${FORM}; charset=iso-8859-1`,
    415,
    "unsupported_media_type",
  ],
  [
    "charset utf-7",
    () => form(Object.entries(valid())),
    `${FORM}; charset=utf-7`,
    415,
    "unsupported_media_type",
  ],
  [
    "UTF-16 bytes declared as UTF-8",
    () => Buffer.from(form(Object.entries(valid())), "utf16le").toString("latin1"),
    `${FORM}; charset=utf-8`,
    400,
    "invalid_request",
  ],
];

async function send(
  body: string,
  contentType: string | undefined,
  extra: { method?: string; sourceIp?: string; headers?: Record<string, string> } = {},
) {
  return broker.call("token", body, {
    headers: { ...(contentType ? { "content-type": contentType } : {}), ...extra.headers },
    ...(extra.method ? { method: extra.method } : {}),
    ...(extra.sourceIp ? { sourceIp: extra.sourceIp } : {}),
  });
}

describe("hostile token requests", () => {
  it.each(CASES)(
    "refuses %s with the contract status and error, issuing nothing",
    async (_name, body, contentType, status, error) => {
      const before = (await allGrants(broker.store)).length;
      const auditsBefore = audits().length;
      const res = await send(body(), contentType);
      expect(res.status).toBe(status);
      expect(res.body["error"]).toBe(error);
      expect(typeof res.body["error_description"]).toBe("string");
      expect(res.result.headers["cache-control"]).toBe("no-store");
      expectNoCredential(res.body);
      expect((await allGrants(broker.store)).length).toBe(before);
      // One audit event per request, a body refused before it was read included.
      expect(audits().slice(auditsBefore)).toEqual([
        expect.objectContaining({ kind: "token", outcome: "error", errorCode: expect.any(String) }),
      ]);
    },
  );

  // Raw bytes that are not UTF-8 cannot travel in a string body: API Gateway hands them over base64-encoded.
  it.each<[string, Buffer, string, string]>([
    [
      "a form value",
      Buffer.concat([Buffer.from(`${form(Object.entries(valid()))}&purpose=ok`), Buffer.from([0xc0, 0xaf])]),
      FORM,
      "the purpose parameter is not valid UTF-8",
    ],
    [
      "a form value that ends mid-sequence",
      Buffer.concat([
        Buffer.from(`purpose=`),
        Buffer.from([0xe2, 0x82]),
        Buffer.from(`&${form(Object.entries(valid()))}`),
      ]),
      FORM,
      "the purpose parameter is not valid UTF-8",
    ],
    [
      "a form parameter name",
      Buffer.concat([
        Buffer.from(`${form(Object.entries(valid()))}&x`),
        Buffer.from([0xff]),
        Buffer.from("=1"),
      ]),
      FORM,
      "the a parameter is not valid UTF-8",
    ],
    [
      "a JSON string",
      Buffer.concat([
        Buffer.from(JSON.stringify(valid()).slice(0, -1)),
        Buffer.from(',"purpose":"'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]),
      JSON_CT,
      "the body parameter is not valid UTF-8",
    ],
  ])(
    "refuses invalid UTF-8 in %s with invalid_request, never a replaced value",
    async (_name, bytes, contentType, description) => {
      const before = (await allGrants(broker.store)).length;
      const auditsBefore = audits().length;
      const result = await createHandlers(broker.deps).token({
        rawPath: "/token",
        headers: { "content-type": contentType },
        body: bytes.toString("base64"),
        isBase64Encoded: true,
        requestContext: { requestId: "r", http: { method: "POST", path: "/token", sourceIp: "127.0.0.1" } },
      });
      expect(result.statusCode).toBe(400);
      expect(JSON.parse(result.body)).toEqual({ error: "invalid_request", error_description: description });
      expect((await allGrants(broker.store)).length).toBe(before);
      expect(audits().slice(auditsBefore)).toEqual([
        expect.objectContaining({ kind: "token", outcome: "error", errorCode: "malformed_parameter" }),
      ]);
    },
  );

  it.each(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "get"])(
    "refuses method %s with 405 and Allow: POST",
    async (method) => {
      const res = await send(form(Object.entries(valid())), FORM, { method });
      expect(res.status).toBe(405);
      expect(res.result.headers["allow"]).toBe("POST");
      expectNoCredential(res.body);
    },
  );

  it.each([
    [
      "unrecognised parameters such as client_id are ignored",
      () => form([...Object.entries(valid()), ["client_id", "x"], ["resource", "y"]] as [string, string][]),
      FORM,
    ],
    [
      "a quoted upper-case charset is accepted",
      () => form(Object.entries(valid())),
      'Application/X-WWW-Form-Urlencoded; Charset="UTF-8"',
    ],
    [
      "JSON with a number duration is accepted",
      () => JSON.stringify({ ...valid(), duration_seconds: 120 }),
      JSON_CT,
    ],
  ])("control: %s", async (_name, body, contentType) => {
    const res = await send(body(), contentType);
    expect(res.status).toBe(200);
    expect(typeof res.body["access_token"]).toBe("string");
  });

  it("records the API Gateway source IP, never a forwarding header", async () => {
    const res = await send(form(Object.entries(valid())), FORM, {
      sourceIp: "203.0.113.9",
      headers: {
        "x-forwarded-for": "10.0.0.1",
        "x-real-ip": "10.0.0.2",
        forwarded: "for=10.0.0.3",
        "true-client-ip": "10.0.0.4",
      },
    });
    expect(res.status).toBe(200);
    const grant = await broker.store.getGrant(res.body["grant_id"] as string);
    expect(grant?.sourceIp).toBe("203.0.113.9");
  });

  it("answers every error with a fixed description that echoes nothing it was sent", async () => {
    const marker = "ECHO-ME-<script>";
    for (const body of [
      form(withValue("scope", marker)),
      form(withValue("grant_type", marker)),
      `${marker}=1&${marker}=2`,
    ]) {
      const res = await send(body, FORM);
      expect(res.status).toBe(400);
      expect(res.result.body).not.toContain("ECHO-ME");
    }
  });
});
