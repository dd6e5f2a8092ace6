// Name and password rules of CMU (docs/cloudhsm-behaviour.md, "Users").
import { LIMITS } from "./model.ts";
import { fail, type HsmError } from "./ret-codes.ts";

const NAME_PATTERN = /^[A-Za-z0-9_]+$/;

/** Returns the canonical (lower-case) name, or an error: names are not case-sensitive. */
export function checkUserName(name: string): string | HsmError {
  if (name.length === 0 || name.length > LIMITS.nameMax)
    return fail("RET_INVALID_INPUT", `user name must be 1 to ${LIMITS.nameMax} characters`);
  if (!NAME_PATTERN.test(name))
    return fail("RET_INVALID_INPUT", "user name may hold letters, digits and underscore only");
  return name.toLowerCase();
}

export function checkPassword(password: string): HsmError | null {
  const length = [...password].length;
  if (length < LIMITS.passwordMin || length > LIMITS.passwordMax) {
    return fail("RET_INVALID_INPUT", `password must be ${LIMITS.passwordMin} to ${LIMITS.passwordMax} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(password))
    return fail("RET_INVALID_INPUT", "password may not hold control characters");
  return null;
}
