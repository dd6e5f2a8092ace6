// Node's module compile cache (NODE_COMPILE_CACHE; `npm test` turns it on): children inherit it
// from the test process, except those a test starts with an environment of their own (a runner's,
// Probot's). Spread this into such an environment so that they, too, start from cached code
// instead of stripping and compiling every TypeScript module again; it adds nothing when unset.
export function compileCacheEnv(): Record<string, string> {
  const dir = process.env["NODE_COMPILE_CACHE"];
  return dir === undefined || dir === "" ? {} : { NODE_COMPILE_CACHE: dir };
}
