// The one place that picks how the gate reaches a cluster, from the cluster file's `backend`
// (docs/real-cluster.md): the emulator's node protocol, or the `cloudhsm-cli` binary.
import { backendOf, type ClusterFile } from "./cluster-file.ts";
import { createCloudhsmCliGateway } from "./cloudhsm-cli-gateway.ts";
import { createClusterGateway, type ClusterGateway, type GateCredentials } from "./gateway.ts";

export function gatewayOf(file: ClusterFile, credentials: GateCredentials): ClusterGateway {
  return backendOf(file).kind === "cloudhsm-cli"
    ? createCloudhsmCliGateway(
        file,
        credentials,
        credentials.passwordKey === undefined ? {} : { passwordKey: credentials.passwordKey },
      )
    : createClusterGateway(file, credentials);
}
