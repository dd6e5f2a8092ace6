// The prompter: piped stdin echoes answers after their prompt (so transcripts read like the seeds),
// hidden answers are never echoed (piped or terminal), lines are read one per question, and end of
// input answers null.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { createPrompter } from "../../src/cmu/prompt.ts";

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = "";
  stream.setEncoding("utf8").on("data", (c: string) => (text += c));
  return { stream, text: () => text };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("prompter on piped stdin", () => {
  it("echoes each answer after its prompt and hides secrets", async () => {
    const stdin = new PassThrough();
    const out = capture();
    const p = createPrompter({ stdin, stdout: out.stream, isTTY: false });
    stdin.end("getToken 3 officer1 officer1.token\ny\ns3cret-pw\n");
    assert.equal(await p.ask("aws-cloudhsm>"), "getToken 3 officer1 officer1.token");
    assert.equal(await p.ask("Do you want to continue(y/n)?"), "y");
    assert.equal(await p.ask("Enter password:", { hidden: true }), "s3cret-pw");
    assert.equal(await p.ask("aws-cloudhsm>"), null);
    await tick();
    assert.equal(
      out.text(),
      "aws-cloudhsm>getToken 3 officer1 officer1.token\nDo you want to continue(y/n)?y\nEnter password:\naws-cloudhsm>\n",
    );
    assert.equal(p.ended, true);
    p.close();
  });

  it("waits for a line that arrives after the question", async () => {
    const stdin = new PassThrough();
    const out = capture();
    const p = createPrompter({ stdin, stdout: out.stream, isTTY: false });
    const answer = p.ask("Enter filename:");
    await tick();
    assert.equal(out.text(), "Enter filename:");
    stdin.write("\n");
    assert.equal(await answer, "");
    p.close();
  });
});

describe("prompter on a terminal", () => {
  it("does not echo a hidden answer", async () => {
    const stdin = new PassThrough();
    const out = capture();
    const p = createPrompter({ stdin, stdout: out.stream, isTTY: true });
    const shown = p.ask("aws-cloudhsm>");
    stdin.write("listUsers\r");
    assert.equal(await shown, "listUsers");
    const hidden = p.ask("Enter password:", { hidden: true });
    stdin.write("t0p-secret\r");
    assert.equal(await hidden, "t0p-secret");
    await tick();
    assert.ok(out.text().includes("listUsers"), "typed commands are echoed by readline");
    assert.ok(out.text().includes("Enter password:"));
    assert.ok(!out.text().includes("t0p-secret"), "a hidden answer must not reach the terminal");
    p.close();
  });
});
