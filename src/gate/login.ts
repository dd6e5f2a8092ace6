// GitHub logins: case-insensitive names of 1-39 characters, letters, digits and single inner
// hyphens. Bots have `[bot]` appended; they never appear in policy or request files.

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

export function isGithubLogin(text: string): boolean {
  return LOGIN.test(text);
}

/** The form logins are compared in: GitHub treats `Alice` and `alice` as one account. */
export function normalizeLogin(login: string): string {
  return login.toLowerCase();
}
