// CloudHSM CLI's answer to every command: a JSON envelope, `{"error_code": 0, "data": {...}}` on
// success and `{"error_code": 1, "data": "<message>"}` on failure (docs/cloudhsm-cli.md, "Output").
// It is printed pretty, with two-space indentation, as the real tool prints it; a program reading
// the shell frames one answer as the lines from a line `{` to the next line `}`.

export type Envelope =
  | { readonly error_code: 0; readonly data: unknown }
  | { readonly error_code: 1; readonly data: string };

export const ok = (data: unknown): Envelope => ({ error_code: 0, data });
export const fail = (message: string): Envelope => ({ error_code: 1, data: message });

export function renderEnvelope(e: Envelope): string {
  return `${JSON.stringify(e, null, 2)}\n`;
}

/** The documented messages the emulator gives where AWS documents one. */
export const MESSAGES = {
  approvalRequired: "Quorum approval is required for this operation",
  quorumFailed: "Quorum Failed",
  logoutOk: "Logout successful",
  setQuorumOk: "Set Quorum Value successful",
  deleteTokensOk: "Deletion of quorum token(s) successful",
  setTimeoutOk: "Set token timeout successful",
  /** Our wording: AWS documents no message for a registration token signed by another key. */
  registrationSignatureInvalid: "The signed token does not verify with the public key",
} as const;
