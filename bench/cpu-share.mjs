// Where the CPU goes while a command runs: samples /proc every second and prints, per group of processes
// (PostgreSQL, Redis, the keyfence API, the workers, the benchmark client, other), the share of the
// machine's CPU time each used. Evidence for what bounds a benchmark on a small machine:
//   node bench/cpu-share.mjs -- pnpm bench ingest
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const separator = process.argv.indexOf('--');
const command = process.argv.slice(separator + 1);
if (separator < 0 || command.length === 0) {
  console.error('usage: node bench/cpu-share.mjs -- <command …>');
  process.exit(2);
}

const TICKS = 100; // USER_HZ on Linux

/** Which group a process belongs to, or null when it has gone. */
function groupOf(pid) {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (comm.startsWith('postgres') || cmdline.startsWith('postgres')) return 'postgresql';
    if (comm.startsWith('redis')) return 'redis';
    // The services run their TypeScript through tsx (src/main.ts) or compiled (dist/main.mjs).
    if (cmdline.includes('src/main.ts') || cmdline.includes('dist/main.mjs')) {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.endsWith('apps/worker')) return 'keyfence worker';
      if (cwd.endsWith('apps/api')) return 'keyfence api';
    }
    if (comm.startsWith('node') || comm === 'MainThread') return 'node (bench client, tools)';
    return 'other';
  } catch {
    return null;
  }
}

function sample() {
  const ticks = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const used = Number(fields[11]) + Number(fields[12]);
      const group = groupOf(entry);
      if (group !== null) ticks.set(entry, { group, used });
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks;
}

const totals = new Map();
let previous = sample();
let seconds = 0;
const timer = setInterval(() => {
  const current = sample();
  for (const [pid, { group, used }] of current) {
    const before = previous.get(pid)?.used ?? used;
    totals.set(group, (totals.get(group) ?? 0) + (used - before));
  }
  previous = current;
  seconds += 1;
}, 1000);

const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
child.on('exit', (code) => {
  clearInterval(timer);
  const capacity = seconds * TICKS * availableParallelism();
  const rows = [...totals].sort((a, b) => b[1] - a[1]);
  console.log(`\nCPU over ${seconds} s (${availableParallelism()} cores = 100%):`);
  for (const [group, used] of rows)
    console.log(`  ${group.padEnd(28)} ${((100 * used) / capacity).toFixed(1)}%`);
  const busy = rows.reduce((sum, [, used]) => sum + used, 0);
  console.log(`  ${'all'.padEnd(28)} ${((100 * busy) / capacity).toFixed(1)}%`);
  process.exit(code ?? 1);
});
