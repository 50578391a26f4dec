import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  LEDGER_MONTHS_AHEAD,
  ledgerPartitionName,
  ledgerRetentionStart,
  MIN_LEDGER_RETENTION_MONTHS,
  monthStartOf,
  parseLedgerPartitionName,
  planLedgerPartitions,
} from './ledger-months.ts';
import { ledgerRetentionMonthsSetting } from './settings.ts';
import { DEFAULT_EVENT_TIME_POLICY } from './usage-event.ts';

const ms = (iso: string) => Date.parse(iso);
const iso = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

describe('monthStartOf', () => {
  it.each([
    ['2026-12-02T11:00:00Z', 0, '2026-12-01'],
    ['2026-12-31T23:59:59.999Z', 1, '2027-01-01'],
    ['2027-01-01T00:00:00Z', -1, '2026-12-01'],
    ['2026-03-31T12:00:00Z', -13, '2025-02-01'],
  ])('%s offset %i is %s', (instant, offset, expected) => {
    expect(iso(monthStartOf(ms(instant), offset))).toBe(expected);
  });
});

describe('partition names', () => {
  it('round-trips and refuses names that are not ours', () => {
    expect(ledgerPartitionName(ms('2027-01-01T00:00:00Z'))).toBe('usage_events_2027_01');
    expect(parseLedgerPartitionName('usage_events_2027_01')).toBe(ms('2027-01-01T00:00:00Z'));
    for (const name of [
      'usage_events_2027_13',
      'usage_events_2027_1',
      'usage_events',
      'usage_dead_letters',
    ]) {
      expect(parseLedgerPartitionName(name)).toBeNull();
    }
  });
});

describe('ledgerRetentionStart', () => {
  it('keeps the current month and the N before it', () => {
    expect(iso(ledgerRetentionStart(ms('2026-12-02T11:00:00Z'), 2) ?? 0)).toBe('2026-10-01');
    expect(ledgerRetentionStart(ms('2026-12-02T11:00:00Z'), null)).toBeNull();
    expect(() => ledgerRetentionStart(0, 1)).toThrow(/>= 2/);
  });

  it('never drops a month that can still receive an event, at any instant of four years', () => {
    // Every hour from 2027 to 2030 (a leap February included): the last dropped month ended before the
    // oldest occurred_at ingest accepts.
    for (let now = ms('2027-01-01T00:00:00Z'); now < ms('2031-01-01T00:00:00Z'); now += 3_600_000) {
      const keepFrom = ledgerRetentionStart(now, MIN_LEDGER_RETENTION_MONTHS) ?? 0;
      expect(keepFrom).toBeLessThanOrEqual(now - DEFAULT_EVENT_TIME_POLICY.maxAgeMs);
    }
  });

  it('agrees with the calendar (luxon)', () => {
    const now = ms('2028-03-01T00:00:00Z');
    const expected = DateTime.fromMillis(now, { zone: 'utc' }).startOf('month').minus({ months: 3 });
    expect(ledgerRetentionStart(now, 3)).toBe(expected.toMillis());
  });
});

describe('planLedgerPartitions', () => {
  const now = ms('2026-12-02T11:00:00Z');
  const months = (...dates: string[]) => dates.map((date) => ms(`${date}T00:00:00Z`));

  it.each([
    {
      name: 'a fresh ledger: every month ingest accepts, and two ahead',
      existing: [],
      retentionMonths: null,
      create: ['2026-11-01', '2026-12-01', '2027-01-01', '2027-02-01'],
      drop: [],
    },
    {
      name: 'months present are not created again; without retention nothing is dropped',
      existing: months('2025-01-01', '2026-11-01', '2026-12-01', '2027-01-01'),
      retentionMonths: null,
      create: ['2027-02-01'],
      drop: [],
    },
    {
      name: 'retention 2: September and older go, October stays',
      existing: months(
        '2026-07-01',
        '2026-09-01',
        '2026-10-01',
        '2026-11-01',
        '2026-12-01',
        '2027-01-01',
        '2027-02-01',
      ),
      retentionMonths: 2,
      create: [],
      drop: ['2026-07-01', '2026-09-01'],
    },
  ])('$name', ({ existing, retentionMonths, create, drop }) => {
    const plan = planLedgerPartitions({ nowMs: now, existing, retentionMonths });
    expect(plan.create.map(iso)).toEqual(create);
    expect(plan.drop.map(iso)).toEqual(drop);
  });

  it('creates months ahead of the future skew ingest allows', () => {
    const plan = planLedgerPartitions({
      nowMs: ms('2026-12-31T23:59:00Z'),
      existing: [],
      retentionMonths: 2,
    });
    expect(plan.create.at(-1)).toBe(monthStartOf(ms('2026-12-31T23:59:00Z'), LEDGER_MONTHS_AHEAD));
  });
});

describe('ledgerRetentionMonthsSetting', () => {
  it.each([
    [undefined, true],
    ['', true],
    ['2', true],
    ['24', true],
    ['1', false],
    ['0', false],
    ['1.5', false],
    ['forever', false],
  ])('%s valid: %s', (value, valid) => {
    expect(ledgerRetentionMonthsSetting.safeParse(value).success).toBe(valid);
  });
});
