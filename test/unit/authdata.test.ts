// The 2FA authdata file (docs/cloudhsm-behaviour.md, "Two-factor authentication"): CMU's file round-trips, hand-edited files in the shapes the
// docs produce are accepted, structural mistakes are reported clearly, and the shell's check of
// an edited file (checkAuthData) matches answers to HSMs by digest and verifies signatures.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { parseAuthData, renderAuthData } from "../../src/formats/authdata.ts";
import { decodeLenientBase64 } from "../../src/formats/lenient-base64.ts";
import { checkAuthData, type DigestRequest } from "../../src/cmu/two-factor.ts";
import type { Server } from "../../src/cmu/session.ts";
import { signDigest, testKey } from "../helpers/keys.ts";

const D1 = randomBytes(32).toString("base64");
const D2 = randomBytes(32).toString("base64");

function errorOf(text: string): string {
  const r = parseAuthData(text);
  assert.equal(r.ok, false, `expected an error for ${text}`);
  return r.ok ? "" : r.error;
}

/** Wraps like `base64` without -w0: 76 columns and a trailing newline. */
function wrap76(b64: string): string {
  return `${b64.match(/.{1,76}/g)?.join("\n") ?? ""}\n`;
}

describe("authdata: CMU's file", () => {
  it("renders the documented shape and parses back with empty answers", () => {
    const text = renderAuthData([
      { hsmId: "hsm-aaaaaaaaaaa", digest: D1 },
      { hsmId: "hsm-bbbbbbbbbbb", digest: D2 },
    ]);
    assert.deepEqual(Object.keys(JSON.parse(text) as object), ["Version", "PublicKey", "Data"]);
    const r = parseAuthData(text);
    assert.ok(r.ok);
    assert.equal(r.value.version, "1.0");
    assert.equal(r.value.publicKey, "");
    assert.deepEqual(
      r.value.entries.map((e) => [e.hsmId, e.digest, e.signature, e.signatureBytes]),
      [
        ["hsm-aaaaaaaaaaa", D1, "", null],
        ["hsm-bbbbbbbbbbb", D2, "", null],
      ],
    );
  });

  it("works with the seed's jq extraction (.Data[0].Digest decodes to 32 bytes)", () => {
    const doc = JSON.parse(renderAuthData([{ hsmId: "hsm-aaaaaaaaaaa", digest: D1 }])) as {
      Data: { Digest: string }[];
    };
    assert.equal(Buffer.from(doc.Data[0]?.Digest ?? "", "base64").length, 32);
  });
});

describe("authdata: hand-edited files", () => {
  const key = testKey("authdata-officer");
  const pemOneLine = key.publicPem.trim().replace(/\n/g, "\\n");

  it("accepts the seed's one-line PEM with \\n escapes and a signature pasted from `base64` (wrapped)", () => {
    const sig = signDigest(key, Buffer.from(D1, "base64")).toString("base64");
    const text = `{ "Version":"1.0", "PublicKey":"${pemOneLine}", "Data":[ { "HsmId": "hsm-aaaaaaaaaaa", "Digest": "${D1}", "Signature":"${wrap76(sig)}" } ] }`;
    const r = parseAuthData(text);
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.match(r.value.publicKey, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal(r.value.entries[0]?.signature, sig);
    assert.equal(r.value.entries[0]?.signatureBytes?.length, 256);
  });

  it("accepts a PEM pasted with real line breaks, CRLF and a BOM", () => {
    const text = `\uFEFF{"Version":"1.0",\r\n"PublicKey":"${key.publicPem.replace(/\n/g, "\r\n")}",\r\n"Data":[{"HsmId":"hsm-aaaaaaaaaaa","Digest":"${D1}","Signature":""}]}`;
    const r = parseAuthData(text);
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.match(r.value.publicKey, /-----END PUBLIC KEY-----$/);
  });

  it("reports structural mistakes", () => {
    assert.match(errorOf("not json"), /not valid JSON/);
    assert.match(errorOf("[]"), /must be a JSON object/);
    assert.match(errorOf(`{"Version":"2.0","PublicKey":"","Data":[]}`), /"Version" must be "1.0"/);
    assert.match(errorOf(`{"Version":"1.0","PublicKey":"","Data":[]}`), /"Data" is empty/);
    assert.match(errorOf(`{"Version":"1.0","PublicKey":"","Data":{}}`), /"Data" must be an array/);
    assert.match(errorOf(`{"Version":"1.0","PublicKey":5,"Data":[]}`), /"PublicKey" must be a string/);
    assert.match(
      errorOf(`{"Version":"1.0","PublicKey":"","Data":[],"Extra":1}`),
      /unknown field\(s\) in authentication data: Extra/,
    );
    assert.match(
      errorOf(`{"Version":"1.0","PublicKey":"","Data":[{"HsmId":"","Digest":"${D1}","Signature":""}]}`),
      /"HsmId" must be a non-empty string/,
    );
    assert.match(
      errorOf(`{"Version":"1.0","PublicKey":"","Data":[{"HsmId":"h","Digest":"AAAA","Signature":""}]}`),
      /must decode to 32 bytes, got 3/,
    );
    assert.match(
      errorOf(`{"Version":"1.0","PublicKey":"","Data":[{"HsmId":"h","Digest":"${D1}","Signature":"**"}]}`),
      /"Signature" is not base64/,
    );
    assert.match(
      errorOf(`{"Version":"1.0","PublicKey":"","Data":[{"HsmId":"h","Digest":"${D1}","Signature":"","Note":1}]}`),
      /unknown field\(s\) in "Data"\[0\]: Note/,
    );
  });

  it("points at curly quotes copied from a web page", () => {
    assert.match(
      errorOf(`{"Version":"1.0","PublicKey":"","Data":[{"HsmId":"h","Digest":"${D1}","Signature":\u201D\u201D}]}`),
      /curly quotes/,
    );
  });
});

describe("lenient base64", () => {
  it("ignores whitespace and accepts missing padding, but nothing else", () => {
    assert.deepEqual(decodeLenientBase64(" aGVs\nbG8=\r\n"), { ok: true, bytes: Buffer.from("hello") });
    assert.deepEqual(decodeLenientBase64("aGVsbG8"), { ok: true, bytes: Buffer.from("hello") });
    assert.equal(decodeLenientBase64("aGVsbG8-").ok, false);
    assert.equal(decodeLenientBase64("a").ok, false);
    assert.equal(decodeLenientBase64("aGVsbG8===").ok, false);
  });
});

describe("checkAuthData: the shell's check of the edited file", () => {
  const key = testKey("authdata-officer");
  const other = testKey("authdata-other");
  const server = (index: number, hsmId: string): Server => ({ index, hsmId, host: "127.0.0.1" }) as unknown as Server;
  const s0 = server(0, "hsm-aaaaaaaaaaa");
  const s1 = server(1, "hsm-bbbbbbbbbbb");
  const requests: DigestRequest[] = [
    { server: s0, challengeId: "c0", digest: D1 },
    { server: s1, challengeId: "c1", digest: D2 },
  ];
  const filled = (signer = key, pem = key.publicPem, digests = [D1, D2]): string => {
    const doc = JSON.parse(
      renderAuthData(
        [
          { hsmId: s0.hsmId, digest: digests[0] ?? "" },
          { hsmId: s1.hsmId, digest: digests[1] ?? "" },
        ],
        pem,
      ),
    ) as {
      Data: { Digest: string; Signature: string }[];
    };
    for (const e of doc.Data) e.Signature = signDigest(signer, Buffer.from(e.Digest, "base64")).toString("base64");
    return JSON.stringify(doc);
  };

  it("returns one proof per server and the normalised public key", () => {
    const r = checkAuthData(filled(), requests, true);
    assert.ok(typeof r !== "string", String(r));
    assert.deepEqual(
      r.proofs.map((p) => [p.server.index, p.challengeId]),
      [
        [0, "c0"],
        [1, "c1"],
      ],
    );
    assert.match(r.publicKeyPem ?? "", /^-----BEGIN PUBLIC KEY-----\n/);
  });

  it("matches entries by digest even when the user reorders them", () => {
    const doc = JSON.parse(filled()) as { Data: unknown[] };
    doc.Data.reverse();
    const r = checkAuthData(JSON.stringify(doc), requests, true);
    assert.ok(typeof r !== "string");
    assert.equal(r.proofs.length, 2);
  });

  it("refuses a signature made with another key, a missing key, and stale digests", () => {
    assert.match(String(checkAuthData(filled(other), requests, true)), /does not verify with "PublicKey"/);
    assert.match(String(checkAuthData(filled(key, ""), requests, true)), /"PublicKey" is empty/);
    assert.match(
      String(checkAuthData(filled(key, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"), requests, true)),
      /"PublicKey" is not usable/,
    );
    assert.match(String(checkAuthData(filled(key, key.publicPem, [D2, D1]), requests, true)), /filed under HsmId/);
    const stale = randomBytes(32).toString("base64");
    assert.match(
      String(checkAuthData(filled(key, key.publicPem, [stale, D2]), requests, true)),
      /no entry carries the digest written for hsm-aaaaaaaaaaa/,
    );
  });

  it("for login needs no public key, but a 256-byte signature for each challenged server", () => {
    const r = checkAuthData(filled(key, ""), requests, false);
    assert.ok(typeof r !== "string");
    assert.equal(r.publicKeyPem, null);
    const unsigned = renderAuthData([
      { hsmId: s0.hsmId, digest: D1 },
      { hsmId: s1.hsmId, digest: D2 },
    ]);
    assert.match(String(checkAuthData(unsigned, requests, false)), /"Signature" of hsm-aaaaaaaaaaa is empty/);
    const short = unsigned.replace('"Signature": ""', '"Signature": "AAAA"');
    assert.match(String(checkAuthData(short, requests, false)), /is 3 bytes; an RSA-2048 signature is 256/);
  });

  it("ignores the signature of an entry the HSM did not ask for (user without 2FA)", () => {
    const unsigned = renderAuthData([{ hsmId: s0.hsmId, digest: D1 }]);
    const r = checkAuthData(unsigned, [{ server: s0, challengeId: null, digest: D1 }], false);
    assert.ok(typeof r !== "string");
    assert.equal(r.proofs.length, 0);
  });
});
