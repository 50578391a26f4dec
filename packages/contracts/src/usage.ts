import { isTimeZoneName } from '@keyfence/domain';
import { z } from 'zod';

const ONLY_ON_DETAIL = 'is accepted on /v2/usage/detail only: /v2/usage answers a flat total';

const windowParameters = {
  key_prefix: z.string().max(64).optional(),
  period: z.string().max(16).optional(),
  start: z.string().max(64).optional(),
  end: z.string().max(64).optional(),
};

/** `GET /v2/usage`. The window rules are the domain's `resolveUsageWindow`. */
export const usageQuerySchema = z.strictObject({
  ...windowParameters,
  group_by: z.undefined({ message: `group_by ${ONLY_ON_DETAIL}` }).optional(),
  tz: z.undefined({ message: `tz ${ONLY_ON_DETAIL}` }).optional(),
});

/** How `GET /v2/usage/detail` may group. */
export const USAGE_GROUPINGS = ['day', 'model', 'day,model'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

/** `GET /v2/usage/detail`. */
export const usageDetailQuerySchema = z.strictObject({
  ...windowParameters,
  group_by: z.enum(USAGE_GROUPINGS, { message: 'group_by must be day, model or day,model' }).optional(),
  tz: z
    .string()
    .max(64)
    .refine(isTimeZoneName, 'tz must be an IANA time zone name spelled exactly, such as UTC or Europe/Berlin')
    .optional(),
});

const usageFields = {
  api_key_prefix: z.string().nullable().meta({
    description: 'The key_prefix asked for; null when it was omitted and this is the calling key itself',
  }),
  start: z.iso.datetime().meta({ description: 'Window start in UTC, resolved to a quarter hour (down)' }),
  end: z.iso.datetime().meta({ description: 'Window end in UTC, resolved to a quarter hour (up)' }),
  spend: z.number().meta({ description: 'USD over [start, end), exact to 1e-9' }),
  currency: z.literal('USD'),
  requests: z.number().int().meta({ description: 'Charged requests (failed calls are not charged)' }),
};

/** `GET /v2/usage`: AI/ML API's fields at the top level, no envelope. */
export const usageResultSchema = z.object(usageFields).meta({ id: 'Usage' });
export type UsageResult = z.infer<typeof usageResultSchema>;

export const modelUsageSchema = z
  .object({
    model: z.string().meta({ description: "The events' model; `unknown` for events that named none" }),
    spend: z.number(),
    requests: z.number().int().meta({ description: 'Charged requests' }),
  })
  .meta({ id: 'ModelUsage' });

export const usageGroupSchema = z
  .object({
    day: z.iso.date().optional().meta({ description: 'With group_by day: the calendar day in `tz`' }),
    model: z.string().optional().meta({ description: 'With group_by model' }),
    spend: z.number(),
    tokens: z.object({ input: z.number().int(), output: z.number().int(), total: z.number().int() }),
    requests: z
      .object({
        total: z.number().int(),
        charged: z.number().int(),
        succeeded: z.number().int(),
        failed: z.number().int(),
      })
      .meta({
        description:
          '`total` counts every call; failed calls are billed nothing, so they count in `total` and `failed`, not in `charged`',
      }),
  })
  .meta({ id: 'UsageGroup' });

/** `GET /v2/usage/detail`. */
export const usageDetailResultSchema = z
  .object({
    ...usageFields,
    models: z.array(modelUsageSchema).meta({ description: 'Per model, highest spend first' }),
    groups: z.array(usageGroupSchema).optional().meta({
      description:
        'With group_by only: days oldest first, models by spend (highest first); days without usage are left out',
    }),
  })
  .meta({ id: 'UsageDetail' });
export type UsageDetailResult = z.infer<typeof usageDetailResultSchema>;
