// How the adapters print an error they did not expect: name, HTTP status and message only. An
// Octokit error object also carries the request it made (headers included), which must never reach
// a log, a job summary or a webhook response.

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `non-error thrown: ${typeof err}`;
  const status = "status" in err && typeof err.status === "number" ? ` (HTTP ${err.status})` : "";
  return `${err.name}${status}: ${err.message}`.slice(0, 500);
}
