// Percentiles and small formatting helpers.

/** Nearest-rank percentiles of a list of numbers; `ps` are fractions (0.5, 0.99). */
export function percentiles(values, ps) {
  if (values.length === 0) return Object.fromEntries(ps.map((p) => [p, null]));
  const sorted = Float64Array.from(values).sort();
  const out = {};
  for (const p of ps) {
    const rank = Math.max(1, Math.ceil(p * sorted.length));
    out[p] = sorted[rank - 1];
  }
  return out;
}

/** min, max, mean and the usual percentiles, in the unit of the input. */
export function summarize(values) {
  if (values.length === 0) return { count: 0, min: null, mean: null, p50: null, p90: null, p99: null, p999: null, max: null };
  const p = percentiles(values, [0.5, 0.9, 0.99, 0.999]);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { count: values.length, min, mean: sum / values.length, p50: p[0.5], p90: p[0.9], p99: p[0.99], p999: p[0.999], max };
}

export const round = (value, digits = 2) => (value === null || value === undefined ? null : Number(value.toFixed(digits)));
