// Makes oracle.js from github/codeql-action's src/fingerprints.ts (given as
// fp.ts): its hash() with the TypeScript types stripped, for node without a
// compiler. It needs the npm package long (npm install long@5).
const fs = require("fs");
let s = fs.readFileSync("fp.ts", "utf8");
s = s.slice(0, s.indexOf("// Generate a hash callback"));
s = s.replace(/^import.*$/mg, "").replace(/^type hashCallback.*$/m, "");
s = s.replace("function computeFirstMod(): Long", "function computeFirstMod()");
s = s.replace("export async function hash(callback: hashCallback, filepath: string)", "async function hash(callback, filepath)");
s = s.replace("const window: number[] =", "const window =").replace("const lineNumbers: number[] =", "const lineNumbers =");
s = s.replace("const hashCounts: { [hashValue: string]: number } = {}", "const hashCounts = {}");
s = s.replace(/function \(current: number\)/g, "function (current)").replace("(data as string)", "data");
fs.writeFileSync("oracle.js", 'const Long = require("long");\nconst fs = require("fs");\n' + s + "\nmodule.exports = { hash };\n");
