/** Import failures of work modules, explained (TypeScript work modules: README, "Example"). */

/** Turns Node's bare ERR_UNKNOWN_FILE_EXTENSION for a `.ts` work module into advice. */
export function explainImportError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && error instanceof Error && /\.m?ts\b/.test(error.message)) {
    const wrapped = new Error(
      `${error.message}. This runtime cannot load a TypeScript work module in a worker thread. Fixes: build ` +
        `the module to JavaScript (esbuild, tsc or your bundler) and list the .js file in \`modules\`; or run on ` +
        `Node >= 22.18, which strips types by itself; or pass a loader that works in workers on your Node ` +
        `version through \`workerOptions.execArgv\` (on Node 20, \`--import tsx\` does not apply to workers).`,
      { cause: error },
    );
    wrapped.name = 'TypeError';
    return wrapped;
  }
  return error;
}
