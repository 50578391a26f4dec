import { formatUsd } from '../format.ts';
import type { DailySpend } from '../types.ts';

/** The top of the value axis: the smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `max` ($1 when nothing was spent). */
export function axisTop(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * power >= max * (1 - 1e-12)) ?? 10;
  return step * power;
}

/** A UTC day (YYYY-MM-DD) as a short axis label: "3 Nov". */
export function dayLabel(date: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(
    new Date(`${date}T00:00:00Z`),
  );
}

/** Indexes of the days labelled under the bars: the first, the last, and two between. */
function labelledDays(count: number): number[] {
  if (count <= 1) return count === 1 ? [0] : [];
  return [...new Set([0, Math.round((count - 1) / 3), Math.round(((count - 1) * 2) / 3), count - 1])];
}

const WIDTH = 600;
const HEIGHT = 160;
const GAP = 2;

/**
 * Spend per UTC day as bars (SVG) on a dollar axis with its values and days under the bars, and the same
 * numbers as a table for screen readers.
 */
export function DailyChart({ days }: { days: DailySpend[] }) {
  const max = Math.max(...days.map((day) => day.spend), 0);
  const top = axisTop(max);
  const ticks = [top, top / 2, 0];
  const total = days.reduce((sum, day) => sum + day.spend, 0);
  return (
    <figure className="chart">
      <div className="chart-plot">
        <div className="chart-values" aria-hidden="true">
          {ticks.map((tick) => (
            <span key={tick}>{formatUsd(tick)}</span>
          ))}
        </div>
        <div className="chart-area">
          <ChartBars days={days} top={top} ticks={ticks} total={total} />
          <ChartDays days={days} />
        </div>
      </div>
      <figcaption>
        Spend per UTC day, last {days.length} days: {formatUsd(total)} in all
        {max > 0 ? `, highest ${formatUsd(max)}` : ''}.
      </figcaption>
      <DailySpendTable days={days} />
    </figure>
  );
}

/** The grid lines at the axis values, and a bar a day, each with its numbers as a tooltip. */
function ChartBars({
  days,
  top,
  ticks,
  total,
}: {
  days: DailySpend[];
  top: number;
  ticks: number[];
  total: number;
}) {
  const slot = WIDTH / Math.max(days.length, 1);
  return (
    <svg
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`Spend per day for the last ${days.length} days: ${formatUsd(total)} in all`}
    >
      {ticks.map((tick) => (
        <line
          key={tick}
          x1={0}
          x2={WIDTH}
          y1={HEIGHT - (tick / top) * HEIGHT}
          y2={HEIGHT - (tick / top) * HEIGHT}
          className={tick === 0 ? 'axis' : 'grid'}
          vectorEffect="non-scaling-stroke"
        />
      ))}
      {days.map((day, index) => {
        const barHeight = Math.max(day.spend > 0 ? 1.5 : 0, (day.spend / top) * HEIGHT);
        return (
          <rect
            key={day.date}
            x={index * slot + GAP / 2}
            y={HEIGHT - barHeight}
            width={slot - GAP}
            height={barHeight}
            className="bar-day"
          >
            <title>{`${day.date} (UTC): ${formatUsd(day.spend)}, ${day.requests} requests`}</title>
          </rect>
        );
      })}
    </svg>
  );
}

/** The labelled days under the bars. */
function ChartDays({ days }: { days: DailySpend[] }) {
  return (
    <div className="chart-days" aria-hidden="true">
      {labelledDays(days.length).map((index) => {
        const day = days[index];
        if (day === undefined) return null;
        const edge = index === 0 ? 'first' : index === days.length - 1 ? 'last' : '';
        return (
          <span key={day.date} className={edge} style={{ left: `${((index + 0.5) / days.length) * 100}%` }}>
            {dayLabel(day.date)}
          </span>
        );
      })}
    </div>
  );
}

/** The chart's numbers for screen readers. */
function DailySpendTable({ days }: { days: DailySpend[] }) {
  return (
    <table className="visually-hidden">
      <caption>Spend per day</caption>
      <thead>
        <tr>
          <th scope="col">Day (UTC)</th>
          <th scope="col">Spend</th>
          <th scope="col">Requests</th>
        </tr>
      </thead>
      <tbody>
        {days.map((day) => (
          <tr key={day.date}>
            <td>{day.date}</td>
            <td>{formatUsd(day.spend)}</td>
            <td>{day.requests}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
