// Routes `quorum-gate <command> ...` to the module that implements it.
import type { CliIo } from "./io.ts";

interface Command {
  readonly summary: string;
  readonly run: (argv: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  "cluster start": {
    summary: "create (first time) and run an emulated CloudHSM cluster on this machine",
    run: async (argv, io) => (await import("./cluster-start.ts")).runClusterStart(argv, io),
  },
  "cluster status": {
    summary: "ask every node what it holds and show where the nodes disagree (drift)",
    run: async (argv, io) => (await import("./cluster-status.ts")).runClusterStatus(argv, io),
  },
  "cluster backup": {
    summary: "copy every node's database while the cluster runs, and check each copy",
    run: async (argv, io) => (await import("./cluster-backup.ts")).runClusterBackup(argv, io),
  },
  "cloudhsm-cli": {
    summary: "the CloudHSM CLI shell (Client SDK 5) on the emulated cluster: interactive or one command",
    run: async (argv, io) => (await import("../cloudhsm-cli/main.ts")).runCloudhsmCli(argv, io),
  },
  cmu: {
    summary: "the aws-cloudhsm> management shell, connected to every node of a cluster",
    run: async (argv, io) => (await import("../cmu/main.ts")).runCmu(argv, io),
  },
  keygen: {
    summary: "make an RSA-2048 key pair for a crypto officer (quorum and 2FA key)",
    run: async (argv, io) => (await import("./keygen.ts")).runKeygen(argv, io),
  },
  request: {
    summary: "write a request file for a pull request: create, delete or re-key a user, or change M",
    run: async (argv, io) => (await import("./request.ts")).runRequest(argv, io),
  },
  sign: {
    summary: "sign a quorum token with an officer key and print the approval comment to post",
    run: async (argv, io) => (await import("./sign.ts")).runSign(argv, io),
  },
  approve: {
    summary:
      "check a pull request's request for yourself, sign it with your officer key (PEM or PKCS#11) and post the approval",
    run: async (argv, io) => (await import("./approve.ts")).runApprove(argv, io),
  },
  verify: {
    summary: "check an approved operation from git alone (or a CMU approval file): evidence, signatures, quorum",
    run: async (argv, io) => (await import("./verify.ts")).runVerify(argv, io),
  },
  drill: {
    summary: "open a quorum drill (a fresh challenge officers sign) and check who can still sign, against M and M + 1",
    run: async (argv, io) => (await import("./drill.ts")).runDrill(argv, io),
  },
  audit: {
    summary: "list every operation in a repository's history, whether it still verifies, and each node's replay",
    run: async (argv, io) => (await import("./audit.ts")).runAudit(argv, io),
  },
};

export function usage(version: string): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    `quorum-gate ${version}: M-of-N approval of privileged HSM operations, with an emulated CloudHSM cluster.`,
    "",
    "Usage: quorum-gate <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Run 'quorum-gate <command> --help' for the options of a command.",
    "",
  ].join("\n");
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    io.stdout.write(usage(io.version));
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-V") {
    io.stdout.write(`${io.version}\n`);
    return 0;
  }
  const two = second === undefined ? undefined : `${first} ${second}`;
  if (two !== undefined && COMMANDS[two] !== undefined) return COMMANDS[two].run(argv.slice(2), io);
  const one = COMMANDS[first];
  if (one !== undefined) return one.run(argv.slice(1), io);
  const family = Object.keys(COMMANDS).filter((name) => name.startsWith(`${first} `));
  const hint =
    family.length > 0
      ? `did you mean: ${family.map((f) => `quorum-gate ${f}`).join(", ")}?`
      : "run 'quorum-gate --help' for the list";
  io.stderr.write(`quorum-gate: unknown command '${argv.join(" ")}': ${hint}\n`);
  return 2;
}
