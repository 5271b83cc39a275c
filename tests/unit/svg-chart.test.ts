import { barChart } from '../../src/modules/reports/svg-chart';

/** The tick labels of the y axis: the text elements anchored at the end (right-aligned to the axis). */
function ticks(svg: string): string[] {
  return [...svg.matchAll(/<text [^>]*text-anchor="end"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

const chart = (values: number[]) =>
  barChart({
    id: 'c',
    title: 't',
    description: 'd',
    labels: values.map((_, i) => `m${i}`),
    series: [{ name: 'n', color: '#1f6feb', values }],
  });

describe('barChart axis', () => {
  it.each([[[0]], [[1]], [[2, 1]], [[3]], [[0, 7]], [[13, 2]], [[99]], [[1234]]])(
    'when every value is a count (%j), then every tick is a whole number and the top tick covers the largest',
    (values) => {
      const labels = ticks(chart(values));
      expect(labels).toHaveLength(5);
      for (const l of labels) expect(l).toMatch(/^\d+$/);
      expect(Number(labels[4])).toBeGreaterThanOrEqual(Math.max(...values));
    },
  );

  it('when one notice is the largest count, then the axis reads 0 1 2 3 4, not quarters', () => {
    expect(ticks(chart([1, 0]))).toEqual(['0', '1', '2', '3', '4']);
  });

  it('when values are a measure with fractions (hours), then fractional ticks stay', () => {
    const labels = ticks(chart([0.4, 0.2]));
    expect(labels[4]).toBe('0.5');
    expect(labels.filter((l) => l.includes('.')).length).toBeGreaterThan(0);
  });
});
