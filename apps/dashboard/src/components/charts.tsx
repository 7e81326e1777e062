import { useId } from 'react';
import './charts.css';

/** One kind of value drawn in a chart (a bar colour, a legend entry). */
export interface ChartSeries {
  key: string;
  label: string;
  /** Palette colour (0–7); the series' position by default, so a filtered chart can keep its colours. */
  tone?: number;
}

/** One position on the x axis: its label, and a value per series key. */
export interface ChartColumn {
  /** Short label under the axis and in the bar's accessible name (e.g. `14:05`). */
  label: string;
  values: Record<string, number>;
}

export interface BarChartProps {
  /** Names the chart for assistive technology. */
  title: string;
  series: ChartSeries[];
  columns: ChartColumn[];
  /** `stacked`: a column's series on top of each other (parts of a whole); `grouped`: side by side. */
  layout?: 'stacked' | 'grouped';
  /** Word after a bar's value in its name: `LOGIN: 3 events at 14:05`. */
  unit?: string;
  /** Show a label under every nth column; 0 for none. */
  labelEvery?: number;
  height?: number;
}

const WIDTH = 600;
const GAP = 0.2;

/** A ceiling for the y axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceCeiling(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 || unit.endsWith('s') ? '' : 's'}`;
}

/**
 * A bar chart drawn as plain SVG. Every bar is an `img` named like `LOGIN: 3 events at 14:05` (with a
 * matching `<title>` for a mouse hover), and the figures are also in a table behind a disclosure.
 */
export function BarChart({
  title,
  series,
  columns,
  layout = 'stacked',
  unit = 'event',
  labelEvery = 0,
  height = 160,
}: BarChartProps) {
  const titleId = useId();
  const totals = columns.map((column) =>
    layout === 'stacked'
      ? series.reduce((sum, each) => sum + (column.values[each.key] ?? 0), 0)
      : Math.max(0, ...series.map((each) => column.values[each.key] ?? 0)),
  );
  const top = niceCeiling(Math.max(0, ...totals));
  const slot = WIDTH / Math.max(1, columns.length);
  const barWidth = slot * (1 - GAP);
  const scale = (value: number) => (value / top) * height;

  return (
    <figure className="chart" aria-labelledby={titleId}>
      <div className="chart-plot">
        <div className="chart-y" aria-hidden="true">
          <span>{top}</span>
          <span>{top / 2}</span>
          <span>0</span>
        </div>
        <svg
          viewBox={`0 0 ${WIDTH} ${height}`}
          preserveAspectRatio="none"
          className="chart-svg"
          style={{ height: `${height}px` }}
        >
          <title>{title}</title>
          {[0, 0.5, 1].map((fraction) => (
            <line
              key={fraction}
              className="chart-grid"
              x1={0}
              x2={WIDTH}
              y1={height - fraction * height}
              y2={height - fraction * height}
              vectorEffect="non-scaling-stroke"
            />
          ))}
          {columns.map((column, index) => {
            const x = index * slot + (slot - barWidth) / 2;
            let stackedBase = height;
            return series.map((each, seriesIndex) => {
              const value = column.values[each.key] ?? 0;
              if (value <= 0) return null;
              const barHeight = Math.max(1, scale(value));
              const name = `${each.label}: ${plural(value, unit)} at ${column.label}`;
              const width = layout === 'stacked' ? barWidth : barWidth / series.length;
              const left = layout === 'stacked' ? x : x + seriesIndex * width;
              const y = layout === 'stacked' ? stackedBase - barHeight : height - barHeight;
              if (layout === 'stacked') stackedBase -= barHeight;
              return (
                // biome-ignore lint/a11y/noInteractiveElementToNoninteractiveRole: an SVG group is not interactive; the role names the bar for assistive technology
                <g key={`${column.label}-${each.key}`} role="img" aria-label={name}>
                  <title>{name}</title>
                  <rect
                    className={`chart-bar chart-series-${(each.tone ?? seriesIndex) % 8}`}
                    x={left}
                    y={y}
                    width={width}
                    height={barHeight}
                  />
                </g>
              );
            });
          })}
        </svg>
      </div>
      {labelEvery > 0 ? (
        <div className="chart-x" aria-hidden="true">
          {columns.map((column, index) => (
            <span key={column.label}>{index % labelEvery === 0 ? column.label : ''}</span>
          ))}
        </div>
      ) : null}
      <figcaption className="chart-caption">
        <span id={titleId} className="visually-hidden">
          {title}
        </span>
        <ul className="chart-legend" aria-label="Legend">
          {series.map((each, index) => (
            <li key={each.key}>
              <span className={`chart-swatch chart-series-${(each.tone ?? index) % 8}`} aria-hidden="true" />
              {each.label}
            </li>
          ))}
        </ul>
        <details className="chart-table">
          <summary>Show as a table</summary>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  {series.map((each) => (
                    <th key={each.key} scope="col">
                      {each.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {columns
                  .filter((column) => series.some((each) => (column.values[each.key] ?? 0) > 0))
                  .map((column) => (
                    <tr key={column.label}>
                      <th scope="row">{column.label}</th>
                      {series.map((each) => (
                        <td key={each.key}>{column.values[each.key] ?? 0}</td>
                      ))}
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </details>
      </figcaption>
    </figure>
  );
}
