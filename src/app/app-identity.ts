// Who the app is on GitHub: its id (to find its own check runs) and its bot login (to find its own
// sticky comment, and to ignore the events its own writes cause). Both come from `GET /app`, asked
// with the app's JWT, so they are what GitHub says about the key Probot signs with, whatever the
// environment claims. Asked once and cached; a failed lookup is forgotten so the next event retries.
import type { Probot } from "probot";

export interface AppIdentity {
  readonly appId: number;
  /** `<slug>[bot]`: the login of everything the app writes. */
  readonly botLogin: string;
}

export interface AppIdentityCache {
  get(): Promise<AppIdentity>;
}

/** `request` is an app-authenticated (JWT) client: `await app.auth()` without an installation id. */
export async function fetchAppIdentity(
  request: (route: "GET /app") => Promise<{ readonly data: unknown }>,
): Promise<AppIdentity> {
  const { data } = await request("GET /app");
  const id = field(data, "id");
  const slug = field(data, "slug");
  if (
    typeof id !== "number" ||
    !Number.isSafeInteger(id) ||
    typeof slug !== "string" ||
    !/^[a-z0-9][a-z0-9-]*$/i.test(slug)
  ) {
    throw new Error("[quorum-gate] GET /app did not answer an app id and slug");
  }
  return { appId: id, botLogin: `${slug}[bot]` };
}

export function appIdentityCache(app: Probot): AppIdentityCache {
  let pending: Promise<AppIdentity> | null = null;
  return {
    get() {
      if (pending === null) {
        const lookup = app.auth().then((octokit) => fetchAppIdentity((route) => octokit.request(route)));
        lookup.catch(() => {
          if (pending === lookup) pending = null;
        });
        pending = lookup;
      }
      return pending;
    },
  };
}

function field(data: unknown, key: string): unknown {
  return typeof data === "object" && data !== null && key in data ? (data as Record<string, unknown>)[key] : undefined;
}
