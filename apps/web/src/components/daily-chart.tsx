import { formatUsd } from '../format.ts';
import type { DailySpend } from '../types.ts';

/** Spend per UTC day as bars (SVG), with the same numbers as a table for screen readers. */
export function DailyChart({ days }: { days: DailySpend[] }) {
  const max = Math.max(...days.map((day) => day.spend), 0);
  const width = 600;
  const height = 160;
  const gap = 2;
  const barWidth = width / Math.max(days.length, 1) - gap;
  const total = days.reduce((sum, day) => sum + day.spend, 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height + 20}`}
        role="img"
        aria-label={`Spend per day for the last ${days.length} days: ${formatUsd(total)} in all`}
      >
        <line x1={0} x2={width} y1={height} y2={height} className="axis" />
        {days.map((day, index) => {
          const barHeight =
            max === 0 ? 0 : Math.max(day.spend > 0 ? 2 : 0, (day.spend / max) * (height - 10));
          return (
            <rect
              key={day.date}
              x={index * (barWidth + gap)}
              y={height - barHeight}
              width={barWidth}
              height={barHeight}
              className="bar-day"
            >
              <title>{`${day.date} (UTC): ${formatUsd(day.spend)}, ${day.requests} requests`}</title>
            </rect>
          );
        })}
        <text x={0} y={height + 16} className="tick">
          {days[0]?.date}
        </text>
        <text x={width} y={height + 16} className="tick" textAnchor="end">
          {days[days.length - 1]?.date}
        </text>
      </svg>
      <figcaption>
        Spend per UTC day, last {days.length} days: {formatUsd(total)} in all
        {max > 0 ? `, highest ${formatUsd(max)}` : ''}.
      </figcaption>
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
    </figure>
  );
}
