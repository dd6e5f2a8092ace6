// Process entry for one node, started by the cluster runner as a child process:
//
//   node src/node/main.ts --data DIR --host H --port P [--tls-cert F --tls-key F --tls-ca F] [--watch-stdin]
//
// It opens DIR/hsm.db (it never creates one: creating is the cluster's job), ends the sessions of
// the previous run (bootNode), serves, and prints one line `listening <host>:<port>` on stdout once
// it accepts connections. SIGTERM/SIGINT stop it cleanly. With --watch-stdin it also stops when its
// stdin closes, so nodes never outlive a runner that was killed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CORE_CONFIG } from "../hsm/context.ts";
import { bootNode } from "../hsm/init.ts";
import { hostPort } from "./loopback.ts";
import { startNodeServer, type TlsMaterial } from "./server.ts";
import { NODE_DB_FILE, openNodeDatabase } from "./sqlite-repository.ts";
import { systemEnv } from "./system-env.ts";

export interface NodeArgs {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string } | null;
  readonly watchStdin: boolean;
}

/** Paths of the TLS files are returned as given; the caller reads them. */
export function parseNodeArgs(argv: readonly string[]): NodeArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-ca": { type: "string" },
      "watch-stdin": { type: "boolean", default: false },
    },
  });
  if (values.data === undefined) throw new Error("--data DIR is required");
  if (values.port === undefined) throw new Error("--port P is required (0 picks a free port)");
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new Error(`--port must be 0..65535, got "${values.port}"`);
  const tlsFiles = [values["tls-cert"], values["tls-key"], values["tls-ca"]];
  const given = tlsFiles.filter((f) => f !== undefined).length;
  if (given !== 0 && given !== 3) throw new Error("TLS needs all of --tls-cert, --tls-key and --tls-ca");
  const [cert, key, ca] = tlsFiles;
  return {
    dataDir: values.data,
    host: values.host,
    port,
    tls: cert !== undefined && key !== undefined && ca !== undefined ? { cert, key, ca } : null,
    watchStdin: values["watch-stdin"],
  };
}

async function main(): Promise<void> {
  let args: NodeArgs;
  try {
    args = parseNodeArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`node: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const tls: TlsMaterial | undefined =
    args.tls === null
      ? undefined
      : {
          cert: readFileSync(args.tls.cert, "utf8"),
          key: readFileSync(args.tls.key, "utf8"),
          ca: readFileSync(args.tls.ca, "utf8"),
        };

  const dbPath = join(args.dataDir, NODE_DB_FILE);
  if (!existsSync(dbPath))
    throw new Error(`no node database at ${dbPath}; nodes are created by 'quorum-gate cluster start'`);
  const repo = openNodeDatabase(dbPath);
  const ctx = { repo, env: systemEnv, config: DEFAULT_CORE_CONFIG };
  repo.transaction(() => bootNode(ctx));

  let server;
  try {
    server = await startNodeServer({
      repo,
      host: args.host,
      port: args.port,
      env: systemEnv,
      config: DEFAULT_CORE_CONFIG,
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    repo.close();
    throw err;
  }
  const running = server;

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`node ${repo.identity().hsmId}: stopping (${why})\n`);
    // Commits are durable when they return, so closing is only about not cutting answers short.
    running.close().then(
      () => {
        repo.close();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  if (args.watchStdin) {
    process.stdin.on("end", () => stop("the runner went away"));
    process.stdin.on("error", () => stop("the runner went away"));
    process.stdin.resume();
  }
  process.stdout.write(`listening ${hostPort(args.host, running.port)}\n`);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`node: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
