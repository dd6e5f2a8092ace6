// One user database, two views (docs/cloudhsm-cli.md, "Roles"): CMU's user types as CloudHSM
// CLI's roles. PCO and CO (and the PRECO of a cluster not yet activated) are `admin`, CU is
// `crypto-user`, AU is `appliance`. Names are shown in lower case, as the CLI shows them.
import type { UserType } from "../hsm/model.ts";

export const ROLES = ["admin", "crypto-user", "appliance"] as const;
export type Role = (typeof ROLES)[number];

export function roleOf(type: UserType): Role {
  switch (type) {
    case "CU":
      return "crypto-user";
    case "AU":
      return "appliance";
    default:
      return "admin";
  }
}

export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}

/** The CMU type a new user of `role` gets; appliance users are the HSM's own and are never created. */
export function typeForNewUser(role: Role): "CO" | "CU" | null {
  return role === "admin" ? "CO" : role === "crypto-user" ? "CU" : null;
}

/** The quorum service a `--service` name stands for: `user` is USER_MGMT (3), `quorum` MISC_CO (4). */
export function serviceNumber(name: string): 3 | 4 | null {
  return name === "user" ? 3 : name === "quorum" ? 4 : null;
}
