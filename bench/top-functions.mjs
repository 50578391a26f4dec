// Lists the functions with the most self time in a .cpuprofile: `node bench/top-functions.mjs <file> [N]`.
import { readFileSync } from 'node:fs';

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
let total = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  total += delta;
  const frame = nodes.get(id).callFrame;
  const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-3).join('/')}:${frame.lineNumber}`;
  self.set(name, (self.get(name) ?? 0) + delta);
});
console.log(`${(total / 1e6).toFixed(1)} s sampled`);
for (const [name, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] ?? 25))) {
  console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${name}`);
}
