import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { QUEUES, queuePrefix } from '@keyfence/jobs';
import { REDIS_URL, type System, startSystem, waitFor } from '@keyfence/testkit';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The README's walkthrough ("From zero to a working curl", through the gateway side), run as written: every
// ```bash block between the readme-test markers, in order, in one bash session at the checkout, against a
// started system (API and workers as processes). The one change: the address `http://127.0.0.1:8080` becomes
// the started API's. The ```json or ```text block after a command block is its documented answer: `…` stands
// for any value (inside a string: any text), `"…": "…"` for fields left out.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');
const README_ADDRESS = 'http://127.0.0.1:8080';

interface Step {
  readonly script: string;
  readonly expected: { readonly kind: 'json' | 'text'; readonly body: string } | null;
}

/** The walkthrough's command blocks, each with the answer shown after it. */
export function readmeSteps(markdown: string): Step[] {
  const start = markdown.indexOf('<!-- readme-test: start -->');
  const end = markdown.indexOf('<!-- readme-test: end -->');
  if (start < 0 || end < start) throw new Error('README has no readme-test markers');
  const blocks = [...markdown.slice(start, end).matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((match) => ({
    lang: match[1] ?? '',
    body: match[2] ?? '',
  }));
  const steps: Step[] = [];
  for (const block of blocks) {
    if (block.lang === 'bash') steps.push({ script: block.body, expected: null });
    else if (block.lang === 'json' || block.lang === 'text') {
      const last = steps.at(-1);
      if (last === undefined || last.expected !== null)
        throw new Error(`an answer with no command:\n${block.body}`);
      steps[steps.length - 1] = { ...last, expected: { kind: block.lang, body: block.body } };
    } else throw new Error(`a \`\`\`${block.lang} block inside the walkthrough`);
  }
  return steps;
}

const WILDCARD = '…';
const pattern = (text: string) =>
  new RegExp(
    `^${text
      .split(WILDCARD)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );

/** Where `actual` differs from the documented `expected`, as readable lines (none when it matches). */
export function differences(expected: unknown, actual: unknown, path = '$'): string[] {
  if (expected === WILDCARD) return [];
  if (typeof expected === 'string' && expected.includes(WILDCARD)) {
    return typeof actual === 'string' && pattern(expected).test(actual)
      ? []
      : [`${path}: ${JSON.stringify(actual)} is not like ${JSON.stringify(expected)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return [`${path}: ${JSON.stringify(actual)} is not an array of ${expected.length}`];
    return expected.flatMap((item, index) => differences(item, actual[index], `${path}[${index}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual))
      return [`${path}: ${JSON.stringify(actual)} is not an object`];
    const open = WILDCARD in expected;
    const wanted = Object.keys(expected).filter((key) => key !== WILDCARD);
    const extra = open ? [] : Object.keys(actual).filter((key) => !(key in expected));
    return [
      ...extra.map((key) => `${path}.${key}: answered but not documented`),
      ...wanted.flatMap((key) =>
        key in actual
          ? differences(
              (expected as Record<string, unknown>)[key],
              (actual as Record<string, unknown>)[key],
              `${path}.${key}`,
            )
          : [`${path}.${key}: documented but not answered`],
      ),
    ];
  }
  return Object.is(expected, actual)
    ? []
    : [`${path}: ${JSON.stringify(actual)}, documented ${JSON.stringify(expected)}`];
}

/** One bash session: a block at a time, its stdout and exit status, variables and functions kept between. */
class Shell {
  private readonly child: ChildProcess;
  private stdout = '';
  stderr = '';
  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd: ROOT, env, stdio: 'pipe' });
    this.child.stdout?.on('data', (chunk) => {
      this.stdout += String(chunk);
    });
    this.child.stderr?.on('data', (chunk) => {
      this.stderr += String(chunk);
    });
    this.child.stdin?.write(`set -o pipefail\ntrap 'echo "failed ($?): $BASH_COMMAND" >&2' ERR\n`);
  }
  async run(script: string): Promise<{ stdout: string; status: number; stderr: string }> {
    const marker = `__readme_${randomUUID()}__`;
    this.stderr = '';
    this.child.stdin?.write(`${script}\nprintf '\\n${marker} %s\\n' "$?"\n`);
    await waitFor(
      async () => this.stdout.includes(`${marker} `),
      (done) => done,
      120_000,
      () => `${this.stdout}\n${this.stderr}`,
    );
    const at = this.stdout.indexOf(`\n${marker} `);
    const rest = this.stdout.slice(at + marker.length + 2);
    const newline = rest.indexOf('\n');
    const result = {
      stdout: this.stdout.slice(0, at),
      status: Number(rest.slice(0, newline)),
      stderr: this.stderr,
    };
    this.stdout = rest.slice(newline + 1);
    return result;
  }
  close() {
    this.child.stdin?.end();
    this.child.kill();
  }
}

let system: System;
let shell: Shell;
let queues: Queue[];

beforeAll(async () => {
  system = await startSystem();
  shell = new Shell({ ...process.env, DATABASE_URL: system.databaseUrl });
  queues = [QUEUES.usage, QUEUES.limits].map(
    (name) => new Queue(name, { connection: { url: REDIS_URL }, prefix: queuePrefix(system.queuePrefix) }),
  );
});
afterAll(async () => {
  shell?.close();
  await Promise.all((queues ?? []).map((queue) => queue.close()));
  await system?.close();
});

/** Waits until the workers have done every job so far (not the scheduled ones), so a step never races the one before. */
async function settle(): Promise<void> {
  await waitFor(
    async () => {
      const counts = await Promise.all(
        queues.map((queue) => queue.getJobCounts('waiting', 'active', 'prioritized')),
      );
      return counts.reduce((sum, count) => sum + Object.values(count).reduce((a, b) => a + b, 0), 0);
    },
    (pending) => pending === 0,
  );
}

describe('the README walkthrough', () => {
  const steps = readmeSteps(README);

  it('has its steps, each command with its answer', () => {
    expect(steps.length).toBeGreaterThanOrEqual(10);
    expect(steps.filter((step) => step.expected !== null).length).toBeGreaterThanOrEqual(10);
  });

  it('answers every step as documented, from zero to a working curl and the gateway side', async () => {
    for (const [index, step] of steps.entries()) {
      await settle();
      const script = step.script.replaceAll(README_ADDRESS, system.baseUrl);
      const { stdout, status, stderr } = await shell.run(script);
      const where = `README step ${index + 1}:\n${step.script}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
      expect(status, where).toBe(0);
      expect(stderr, where).not.toMatch(/^failed \(/m);
      if (step.expected === null) {
        expect(stdout.trim(), where).toBe('');
      } else if (step.expected.kind === 'json') {
        expect(differences(JSON.parse(step.expected.body), JSON.parse(stdout)), where).toEqual([]);
      } else {
        const lines = stdout.trimEnd().split('\n');
        const wanted = step.expected.body.trimEnd().split('\n');
        expect(lines.length, where).toBe(wanted.length);
        for (const [line, text] of wanted.entries()) expect(lines[line], where).toMatch(pattern(text));
      }
    }
    // The walkthrough's promise: one account, its dashboard user and its keys together.
    const { stdout } = await shell.run('pnpm exec keyfence user list --account "$ACCOUNT" --json');
    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({ email: 'you@example.com' })]);
  });
});

describe('the README test itself', () => {
  it('tells a documented answer from a different one', () => {
    expect(differences({ a: '…', b: [1], c: 'kfm_…' }, { a: 3, b: [1], c: 'kfm_x' })).toEqual([]);
    expect(differences({ a: 1, '…': '…' }, { a: 1, z: 2 })).toEqual([]);
    expect(differences({ a: 1 }, { a: 1, z: 2 })).toEqual(['$.z: answered but not documented']);
    expect(differences({ a: 1, b: 2 }, { a: 2 })).toEqual([
      '$.a: 2, documented 1',
      '$.b: documented but not answered',
    ]);
    expect(differences({ c: 'kfm_…' }, { c: 'x' })).toHaveLength(1);
    expect(differences([1, 2], [1])).toHaveLength(1);
  });
});
