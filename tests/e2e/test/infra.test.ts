import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES as API, loadConfig as loadApiConfig } from '../../../apps/api/src/config.ts';
import { CONFIG_VARIABLES as CLI } from '../../../apps/cli/src/config.ts';
import {
  loadConfig as loadWorkerConfig,
  CONFIG_VARIABLES as WORKER,
} from '../../../apps/worker/src/config.ts';

const infra = (path: string) => readFileSync(new URL(`../../../infra/${path}`, import.meta.url), 'utf8');
const readByApps = new Set([...API, ...WORKER, ...CLI]);

type Env = Record<string, unknown>;
interface Container {
  env?: unknown;
  readinessProbe?: unknown;
  resources: { requests?: unknown };
}
interface Manifest {
  kind: string;
  data?: Env;
  stringData?: Env;
  spec?: { template: { spec: { initContainers?: Container[]; containers: Container[] } } };
}
const namesOf = (env: unknown): string[] =>
  Array.isArray(env) ? env.map((entry) => (entry as { name: string }).name) : Object.keys((env ?? {}) as Env);

describe('deployment files: the variables they set', () => {
  it("the image's ENV carries the services' runtime settings, as pnpm start and the testkit do", () => {
    const settings = JSON.parse(
      readFileSync(new URL('../../../scripts/lean-runtime-env.json', import.meta.url), 'utf8'),
    ) as Record<string, string>;
    const line = /^ENV ((?:.*\\\n)*.*)$/m.exec(infra('Dockerfile'))?.[1] ?? '';
    // NAME=value or NAME="a value with spaces", as the shell reads them.
    const env = [...line.replace(/\\\n/g, ' ').matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)].map(
      ([, name, quoted, bare]) => `${name}=${quoted ?? bare}`,
    );
    expect(Object.keys(settings).length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(settings)) expect(env).toContain(`${name}=${value}`);
  });

  it("the services' commands carry their own Node flags, as pnpm start and the testkit give them", () => {
    const flags = JSON.parse(
      readFileSync(new URL('../../../scripts/service-node-flags.json', import.meta.url), 'utf8'),
    ) as Record<string, string[]>;
    expect(flags['apps/api']?.length).toBeGreaterThan(0);
    const compose = parse(infra('compose.yaml'), { merge: true }) as {
      services: Record<string, { command?: string[] }>;
    };
    const k8s = (file: string) =>
      parseAllDocuments(infra(file))
        .map(
          (document) =>
            document.toJS() as Manifest & {
              spec?: { template: { spec: { containers: { command?: string[] }[] } } };
            },
        )
        .flatMap((object) =>
          object.kind === 'Deployment' ? (object.spec?.template.spec.containers ?? []) : [],
        )
        .map((container) => container.command ?? []);
    const commands: [string, string[] | undefined][] = [
      ['apps/api', compose.services.api?.command],
      ['apps/worker', compose.services.worker?.command],
      ...k8s('k8s/api.yaml').map((command) => ['apps/api', command] as [string, string[]]),
      ...k8s('k8s/worker.yaml').map((command) => ['apps/worker', command] as [string, string[]]),
    ];
    for (const [dir, command] of commands) {
      // node, the flags, then the service's module: the same order as scripts/start.mjs.
      expect(command).toEqual(['node', ...(flags[dir] ?? []), `${dir}/dist/main.mjs`]);
    }
  });

  it('compose.yaml parses and sets only variables the apps read', () => {
    const compose = parse(infra('compose.yaml'), { merge: true }) as {
      services: Record<string, { environment?: Env }>;
    };
    const apps = ['migrate', 'api', 'worker'];
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining([...apps, 'postgres', 'redis']));
    for (const name of apps) {
      const variables = namesOf(compose.services[name]?.environment);
      expect(variables.length).toBeGreaterThan(3);
      for (const variable of variables) expect(readByApps, `${name}: ${variable}`).toContain(variable);
    }
  });

  it('the Kubernetes manifests parse and set only variables the apps read', () => {
    const variables: string[] = [];
    for (const file of ['k8s/config.yaml', 'k8s/api.yaml', 'k8s/worker.yaml']) {
      for (const document of parseAllDocuments(infra(file))) {
        const object = document.toJS() as Manifest;
        expect(document.errors).toEqual([]);
        if (object.kind === 'ConfigMap') variables.push(...namesOf(object.data));
        if (object.kind === 'Secret') variables.push(...namesOf(object.stringData));
        if (object.kind === 'Deployment' && object.spec !== undefined) {
          const pod = object.spec.template.spec;
          for (const container of [...(pod.initContainers ?? []), ...pod.containers])
            variables.push(...namesOf(container.env));
          expect(pod.containers[0]?.readinessProbe).toBeDefined();
          expect(pod.containers[0]?.resources.requests).toBeDefined();
        }
      }
    }
    for (const variable of variables) expect(readByApps, variable).toContain(variable);
    expect(variables).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'KEYFENCE_ENCRYPTION_KEY']),
    );
  });

  it('the example Secret cannot be applied as is: the apps refuse its placeholders', () => {
    const secret = parseAllDocuments(infra('k8s/config.yaml'))
      .map((document) => document.toJS() as Manifest)
      .find((object) => object.kind === 'Secret');
    const token = secret?.stringData?.KEYFENCE_OPERATOR_TOKEN;
    expect(typeof token).toBe('string');
    for (const load of [loadApiConfig, loadWorkerConfig]) {
      expect(() => load({ KEYFENCE_OPERATOR_TOKEN: token as string })).toThrow(/KEYFENCE_OPERATOR_TOKEN/);
    }
    expect(() =>
      loadApiConfig({ KEYFENCE_ENCRYPTION_KEY: secret?.stringData?.KEYFENCE_ENCRYPTION_KEY as string }),
    ).toThrow(/KEYFENCE_ENCRYPTION_KEY/);
    // A generated token is taken.
    expect(
      loadApiConfig({ KEYFENCE_OPERATOR_TOKEN: 'bm9hwDkV2lTSz0kS8vXb1yJ+3QeP6rUo7TnGc4LfWa8=' })
        .KEYFENCE_OPERATOR_TOKEN,
    ).toBeDefined();
  });
});

describe('deployment files: PgBouncer, the Redis Cluster and Redis settings', () => {
  it('compose.cluster.yaml runs a Redis Cluster and PgBouncer with the settings the cluster tests prove', () => {
    const compose = parse(infra('compose.cluster.yaml'), { merge: true }) as {
      services: Record<string, { environment?: Env; command?: string[] }>;
    };
    for (const name of ['migrate', 'api', 'worker']) {
      for (const variable of namesOf(compose.services[name]?.environment))
        expect(readByApps, `${name}: ${variable}`).toContain(variable);
    }
    for (const name of ['api', 'worker']) {
      const env = compose.services[name]?.environment ?? {};
      expect(String(env.REDIS_CLUSTER_NODES).split(',')).toHaveLength(6);
      expect(String(env.DATABASE_URL)).toContain('@pgbouncer:6432/');
    }
    // Migrations go direct: the migrator's advisory lock is session state.
    expect(String(compose.services.migrate?.environment?.DATABASE_URL)).toContain('@postgres:5432/');
    expect(compose.services['redis-1']?.command).toEqual(
      expect.arrayContaining(['--cluster-enabled', 'yes', '--appendonly', 'yes', 'noeviction']),
    );
    expect(compose.services.pgbouncer?.environment).toMatchObject({
      PGBOUNCER_POOL_MODE: 'transaction',
      PGBOUNCER_IGNORE_STARTUP_PARAMETERS: 'options,extra_float_digits',
    });
  });

  it('the Kubernetes PgBouncer runs in transaction mode and migrations bypass it', () => {
    const documents = parseAllDocuments(infra('k8s/pgbouncer.yaml')).map((document) => {
      expect(document.errors).toEqual([]);
      return document.toJS() as Manifest;
    });
    const ini = String(documents.find((object) => object.kind === 'ConfigMap')?.data?.['pgbouncer.ini']);
    expect(ini).toMatch(/^pool_mode = transaction$/m);
    expect(ini).toMatch(/^ignore_startup_parameters = options,extra_float_digits$/m);
    const config = parseAllDocuments(infra('k8s/config.yaml')).map((document) => document.toJS() as Manifest);
    const secret = (name: string) =>
      config.find(
        (object) =>
          object.kind === 'Secret' && (object as { metadata?: { name?: string } }).metadata?.name === name,
      );
    expect(String(secret('keyfence')?.stringData?.DATABASE_URL)).toContain('keyfence-pgbouncer:6432');
    expect(String(secret('keyfence-migrate')?.stringData?.DATABASE_URL)).toContain('keyfence-postgres:5432');
    expect(infra('k8s/api.yaml')).toContain('secretRef: { name: keyfence-migrate }');
  });

  it('Redis keeps what it acknowledged and never evicts', () => {
    const conf = infra('redis/redis.conf');
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^appendfsync everysec$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
  });
});
