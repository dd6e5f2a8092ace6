// Preloaded into a server a test starts as a child process (`node --import <this file> ...`): the
// child exits when its stdin closes, which happens when the test process holding the other end
// ends, however it ends. So a crashed or killed test never leaves a server running.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
