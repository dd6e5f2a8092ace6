// Signature checks of the gate: valid, stale (the officer's key over other bytes), another
// officer's signature, or nothing at all; plus the key ring built from the cluster's keys.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { fingerprint, signMessage } from "../../src/crypto/rsa.ts";
import { buildKeyRing, type OfficerKey } from "../../src/gate/officer-keys.ts";
import { signedDigestOf } from "../../src/crypto/rsa.ts";
import { checkSignature, identifySigner } from "../../src/gate/verify-signature.ts";
import { signDigest, testKey } from "../helpers/keys.ts";

const alice = testKey("gate-alice");
const bob = testKey("gate-bob");
const outsider = testKey("gate-outsider");
const TOKEN = Buffer.from("token file of this request");
const OLD_TOKEN = Buffer.from("token file of an older request");

const ring = buildKeyRing(
  new Map([
    ["Officer1", alice.publicPem],
    ["officer2", bob.publicPem],
  ]),
);
const officer1 = ring.get("officer1") as OfficerKey;

describe("key ring", () => {
  it("lower-cases names and fingerprints the SPKI", () => {
    assert.deepEqual([...ring.keys()], ["officer1", "officer2"]);
    assert.equal(officer1.fingerprint, fingerprint(alice.publicKey));
  });

  it("leaves out keys that are not RSA-2048 public keys", () => {
    const small = testKey("gate-small", 1024);
    const r = buildKeyRing(
      new Map([
        ["a", "not a key"],
        ["b", small.publicPem],
        ["c", alice.privatePem.replace(/PRIVATE/g, "PUBLIC")],
        ["d", bob.publicPem],
      ]),
    );
    assert.deepEqual([...r.keys()], ["d"]);
  });
});

describe("signature checks", () => {
  const table: { name: string; signature: Buffer; expect: ReturnType<typeof checkSignature> }[] = [
    {
      name: "the officer's signature over this token",
      signature: signMessage(TOKEN, alice.privateKey),
      expect: { result: "valid" },
    },
    {
      name: "the CloudHSM CLI form (pkeyutl over the hash) is the same bytes",
      signature: signDigest(alice, createHash("sha256").update(TOKEN).digest()),
      expect: { result: "valid" },
    },
    {
      name: "the officer's signature over an older token",
      signature: signMessage(OLD_TOKEN, alice.privateKey),
      expect: { result: "stale_token" },
    },
    {
      name: "another officer's signature over this token",
      signature: signMessage(TOKEN, bob.privateKey),
      expect: { result: "not_the_officer", signer: "officer2" },
    },
    {
      name: "another officer's signature over an older token",
      signature: signMessage(OLD_TOKEN, bob.privateKey),
      expect: { result: "bad_signature" },
    },
    {
      name: "an unregistered key",
      signature: signMessage(TOKEN, outsider.privateKey),
      expect: { result: "bad_signature" },
    },
    { name: "random bytes", signature: Buffer.alloc(256, 0x42), expect: { result: "bad_signature" } },
    { name: "wrong length", signature: Buffer.alloc(255, 0x42), expect: { result: "bad_signature" } },
  ];
  for (const c of table) {
    it(c.name, () => assert.deepEqual(checkSignature(TOKEN, c.signature, officer1, ring), c.expect));
  }

  it("recovers the digest an officer's signature carries", () => {
    const sig = signMessage(OLD_TOKEN, alice.privateKey);
    assert.deepEqual(signedDigestOf(alice.publicKey, sig), createHash("sha256").update(OLD_TOKEN).digest());
    assert.equal(signedDigestOf(bob.publicKey, sig), null);
    assert.equal(signedDigestOf(alice.publicKey, Buffer.alloc(12)), null);
  });

  it("names the signer of a signature posted by someone else", () => {
    assert.equal(identifySigner(TOKEN, signMessage(TOKEN, bob.privateKey), ring), "officer2");
    assert.equal(identifySigner(TOKEN, signMessage(TOKEN, bob.privateKey), ring, "officer2"), null);
    assert.equal(identifySigner(TOKEN, signMessage(TOKEN, outsider.privateKey), ring), null);
  });
});
