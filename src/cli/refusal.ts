// How the operator commands that handle secrets (`request`, `sign`) say no: an exit code and one
// message for stderr, returned as data up to the command's entry point.

export interface Refusal {
  /** 1: a file, the cluster or the input is the problem; 2: bad arguments. */
  readonly refused: 1 | 2;
  readonly message: string;
}

export function refuse(code: 1 | 2, message: string): Refusal {
  return { refused: code, message };
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === "object" && x !== null && "refused" in x;
}
