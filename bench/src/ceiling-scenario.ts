import { randomUUID } from 'node:crypto';
import { REDIS_URL } from '@keyfence/testkit';
import { Redis } from 'ioredis';
import { keyPicker } from './key-distribution.ts';

/**
 * The physical ceiling of the queue: the same events written raw into Redis, pipelined 1,000 deep with
 * 4 writers (`RPUSH` of each event's JSON), the way `redis-benchmark` measures a server. Nothing reads them.
 */
export async function runCeilingScenario(events: number, keys: number): Promise<{ eventsPerSecond: number }> {
  const list = `kf-bench-ceiling-${randomUUID()}`;
  const writers = Array.from({ length: 4 }, () => new Redis(REDIS_URL));
  const occurredAt = new Date().toISOString();
  // The ingest scenario's default key distribution. Built before the clock starts, as it builds its bodies.
  const pick = keyPicker('hot-1pct', keys);
  const payloads = Array.from({ length: events }, (_, i) =>
    JSON.stringify({
      id: `c${i}`,
      key_prefix: `k${pick(i)}`,
      endpoint: 'POST /v1/chat/completions',
      cost_usd: '0.000001234',
      occurred_at: occurredAt,
    }),
  );
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      writers.map(async (redis) => {
        for (;;) {
          const start = next;
          next += 1_000;
          if (start >= events) return;
          const pipeline = redis.pipeline();
          for (let i = start; i < Math.min(start + 1_000, events); i += 1) {
            pipeline.rpush(list, payloads[i] as string);
          }
          await pipeline.exec();
        }
      }),
    );
    return { eventsPerSecond: events / ((performance.now() - started) / 1000) };
  } finally {
    await writers[0]?.del(list);
    for (const redis of writers) redis.disconnect();
  }
}
