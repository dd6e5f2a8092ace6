// Workflow-command escaping: a message or title with the runner's separators arrives whole.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { annotationCommand } from "../../src/cli/workflow-command.ts";

describe("annotationCommand", () => {
  it("escapes data and properties as the Actions runner expects", () => {
    assert.equal(annotationCommand("notice", "Quorum drill: ok", "fine"), "::notice title=Quorum drill%3A ok::fine\n");
    assert.equal(
      annotationCommand("error", "a,b:c", "100% sure\r\nsecond line"),
      "::error title=a%2Cb%3Ac::100%25 sure%0D%0Asecond line\n",
    );
    assert.equal(annotationCommand("warning", "t", "::stop-commands::x"), "::warning title=t::::stop-commands::x\n");
  });
});
