// One runner per data directory. Two runners on the same node databases would each restart the
// nodes' sessions (bootNode) under the other's feet, so the second one is refused. The lock is a
// pid file created exclusively; a lock left by a runner that died is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "runner.pid";

export interface RunnerLock {
  release(): void;
}

export function acquireRunnerLock(dataDir: string): RunnerLock {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          // Only remove the lock if it is still ours.
          if (readPid(path) === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = readPid(path);
      if (owner !== null && isAlive(owner)) {
        throw new Error(`the cluster in ${dataDir} is already running (runner pid ${owner}); stop it first`);
      }
      rmSync(path, { force: true }); // stale: its runner is gone
    }
  }
  throw new Error(`cannot lock ${path}`);
}

function readPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed runner can linger as a zombie until it is reaped, and signal 0 still reaches it.
  // On Linux, /proc tells a zombie (state Z) from a live process.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}
