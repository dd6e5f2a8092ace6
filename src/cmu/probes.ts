// Looks at a server from outside to tell whether an attempt whose answer was lost had landed
// (see fan-out.ts). Each probe answers false when it cannot tell, so the shell never claims a
// change it has not seen.
import { callServer, type Server } from "./session.ts";

export async function hasUser(server: Server, name: string): Promise<boolean> {
  const result = await callServer(server, "list-users", {}, false);
  return result.ok && result.data.users.some((u) => u.name.toLowerCase() === name.toLowerCase());
}

export async function lacksUser(server: Server, name: string): Promise<boolean> {
  const result = await callServer(server, "list-users", {}, false);
  return result.ok && !result.data.users.some((u) => u.name.toLowerCase() === name.toLowerCase());
}

export async function hasMValue(server: Server, service: number, value: number): Promise<boolean> {
  const result = await callServer(server, "get-m-value", { service }, false);
  return result.ok && result.data.value === value;
}
