// The authenticated user (`GET /user`): who a user token belongs to. The officer's tool
// (`quorum-gate approve`) asks it to map the officer's own login through the policy.
import { privateUserJson } from "../rest-shapes.ts";
import { identityOf, route, type Route } from "../router.ts";

export const userRoutes: readonly Route[] = [
  route("GET", "/user", "token", (ctx) => {
    const who = identityOf(ctx);
    // GitHub answers 403 to an installation token here: it is no user.
    if (who.appId !== null) return { status: 403, body: { message: "Resource not accessible by integration" } };
    return { status: 200, body: privateUserJson(who.user) };
  }),
];
