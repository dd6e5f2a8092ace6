// `quorum-gate cloudhsm-cli`: the CloudHSM CLI (Client SDK 5) on the emulated cluster, in both of
// the real tool's modes (docs/cloudhsm-cli.md):
//
//   quorum-gate cloudhsm-cli interactive        the `aws-cloudhsm > ` prompt, one command a line
//   quorum-gate cloudhsm-cli <command ...>      one command; credentials from CLOUDHSM_ROLE and
//                                               CLOUDHSM_PIN=<user>:<password>, as AWS documents
//
// `--cluster FILE` (before the command) finds the cluster as `quorum-gate cmu` does. Every answer
// is a JSON envelope; single command mode exits 1 when error_code is 1.
import { readClusterFile, DEFAULT_CLUSTER_FILE } from "../cluster/cluster-file.ts";
import { createPrompter } from "../cmu/prompt.ts";
import { closeServers, openServers } from "../cmu/session.ts";
import { commandList, findCommand, runCommand, type CliState } from "./commands.ts";
import { fail, renderEnvelope, type Envelope } from "./envelope.ts";
import { splitLine } from "./words.ts";

export interface CloudhsmCliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly isTTY: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export const PROMPT = "aws-cloudhsm > ";
const TIMEOUT_MS = 10_000;

const HELP = `Usage: quorum-gate cloudhsm-cli [--cluster FILE] interactive
       quorum-gate cloudhsm-cli [--cluster FILE] <command> [--flag value ...]

CloudHSM CLI (Client SDK 5) on the emulated cluster: every command acts on every HSM of the
cluster and answers with a JSON envelope. In single command mode the command logs in with
CLOUDHSM_ROLE (admin or crypto-user) and CLOUDHSM_PIN=<username>:<password>, runs, and logs out;
'login' and 'logout' belong to interactive mode.

Options:
  --cluster FILE   cluster file written by 'quorum-gate cluster start' (default ${DEFAULT_CLUSTER_FILE})
  -h, --help       show this help

Commands:
${commandList()}

See docs/cloudhsm-cli.md for each command's flags and a walk-through.
`;

export async function runCloudhsmCli(argv: readonly string[], io: CloudhsmCliIo): Promise<number> {
  let args = [...argv];
  let clusterPath = DEFAULT_CLUSTER_FILE;
  if (args[0] === "--cluster") {
    if (args[1] === undefined || args[1] === "") return usage(io, "--cluster needs a file");
    clusterPath = args[1];
    args = args.slice(2);
  }
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    io.stdout.write(HELP);
    return args.length === 0 ? 2 : 0;
  }
  const cluster = readClusterFile(clusterPath);
  if (!cluster.ok) {
    io.stderr.write(`quorum-gate cloudhsm-cli: ${cluster.error}\n`);
    return 1;
  }
  const servers = openServers(cluster.value.nodes, {
    ...(cluster.value.ca === undefined ? {} : { ca: cluster.value.ca }),
    timeoutMs: TIMEOUT_MS,
  });
  const prompter = createPrompter({ stdin: io.stdin, stdout: io.stdout, isTTY: io.isTTY });
  const state: CliState = {
    servers,
    login: null,
    askSecret: (prompt) => prompter.ask(`${prompt}`, { hidden: true }),
    ask: (prompt) => prompter.ask(prompt),
    warn: (line) => io.stderr.write(`${line}\n`),
  };
  try {
    return args[0] === "interactive" && args.length === 1
      ? await interactive(state, prompter, io)
      : await single(state, args, io);
  } finally {
    if (state.login !== null) await runCommand(state, ["logout"]);
    prompter.close();
    closeServers(servers);
  }
}

function usage(io: CloudhsmCliIo, message: string): number {
  io.stderr.write(`quorum-gate cloudhsm-cli: ${message}\nRun 'quorum-gate cloudhsm-cli --help' for the usage.\n`);
  return 2;
}

async function interactive(
  state: CliState,
  prompter: ReturnType<typeof createPrompter>,
  io: CloudhsmCliIo,
): Promise<number> {
  for (;;) {
    const line = await prompter.ask(PROMPT);
    if (line === null) return 0;
    const words = splitLine(line.trim());
    if (words === null) {
      io.stdout.write(renderEnvelope(fail("a quote is not closed")));
      continue;
    }
    if (words.length === 0) continue;
    if (words[0] === "quit" || words[0] === "exit") return 0;
    if (words[0] === "help") {
      io.stdout.write(`${commandList()}\n  ${"quit".padEnd(38)}leave the shell\n`);
      continue;
    }
    io.stdout.write(renderEnvelope(await runCommand(state, words)));
  }
}

async function single(state: CliState, args: readonly string[], io: CloudhsmCliIo): Promise<number> {
  const write = (e: Envelope): number => {
    io.stdout.write(renderEnvelope(e));
    return e.error_code;
  };
  if (args[0] === "login" || args[0] === "logout" || args[0] === "interactive") {
    return write(
      fail(`'${args[0]}' is for interactive mode; in single command mode set CLOUDHSM_ROLE and CLOUDHSM_PIN`),
    );
  }
  const env = io.env ?? process.env;
  if (findCommand(args.filter((a, i) => i < 3 && !a.startsWith("--")))?.spec.noLogin !== true) {
    const role = env["CLOUDHSM_ROLE"];
    const pin = env["CLOUDHSM_PIN"];
    if (role === undefined || role === "" || pin === undefined || !pin.includes(":")) {
      return write(
        fail("single command mode needs CLOUDHSM_ROLE and CLOUDHSM_PIN=<username>:<password> in the environment"),
      );
    }
    const at = pin.indexOf(":");
    const logged = await runCommand(state, [
      "login",
      "--username",
      pin.slice(0, at),
      "--role",
      role,
      "--password",
      pin.slice(at + 1),
    ]);
    if (logged.error_code !== 0) return write(logged);
  }
  return write(await runCommand(state, args));
}
