import { NO_USAGE, type WindowKind, type WindowUsage, windowsContaining } from '@keyfence/domain';
import { translatingErrors } from './errors.ts';
import type { PrismaClient } from './generated/prisma/client.ts';

/** Spend per key per window, as the metering workers aggregate it. */
export class UsageRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Each key's spend in the day, week, month and lifetime windows that contain `now`. */
  async currentUsage(keyIds: readonly string[], now: Date): Promise<Map<string, WindowUsage>> {
    const usage = new Map<string, WindowUsage>(keyIds.map((id) => [id, NO_USAGE]));
    if (keyIds.length === 0) return usage;
    const windows = windowsContaining(now);
    const rows = await translatingErrors(() =>
      this.prisma.keyUsage.findMany({
        where: {
          apiKeyId: { in: [...keyIds] },
          OR: windows.map((window) => ({ windowKind: window.kind, windowStart: window.start })),
        },
        select: { apiKeyId: true, windowKind: true, spend: true },
      }),
    );
    for (const row of rows) {
      const current = usage.get(row.apiKeyId) ?? NO_USAGE;
      usage.set(row.apiKeyId, { ...current, [row.windowKind as WindowKind]: row.spend });
    }
    return usage;
  }
}
