import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleOf } from '../helpers/prometheus-text.js';

/** The strict parser the /metrics test relies on must itself reject what Prometheus would. */
describe('parsePrometheusText', () => {
  it('reads families, types, escaped label values and special values', () => {
    const families = parsePrometheusText(
      [
        '# HELP x_seconds When, with a \\\\ and a \\n.',
        '# TYPE x_seconds gauge',
        'x_seconds{name="a\\"b\\\\c\\nd",id="1"} 1.5e9',
        'x_seconds{name="",id="2"} Nan',
        '# TYPE h histogram',
        'h_bucket{le="0.5"} 1',
        'h_bucket{le="+Inf"} 2',
        'h_sum 0.7',
        'h_count 2',
        '',
      ].join('\n'),
    );
    expect(families.get('x_seconds')).toMatchObject({ type: 'gauge', help: 'When, with a \\ and a \n.' });
    expect(sampleOf(families, 'x_seconds', { id: '1' })).toEqual({ name: 'x_seconds', labels: { name: 'a"b\\c\nd', id: '1' }, value: 1.5e9 });
    expect(sampleOf(families, 'x_seconds', { id: '2' }).value).toBeNaN();
    expect(sampleOf(families, 'h', { le: '+Inf' }, 'h_bucket').value).toBe(2);
  });

  it.each([
    ['no final newline', 'a 1'],
    ['a bad metric name', '1a 1\n'],
    ['a bad label escape', 'a{l="\\t"} 1\n'],
    ['an unterminated label value', 'a{l="x} 1\n'],
    ['a reserved label name', 'a{__name__="x"} 1\n'],
    ['an unparseable value', 'a one\n'],
    ['a TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['one family in two groups', 'a{x="1"} 1\nb 1\na{x="2"} 1\n'],
    ['a duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a bucket without le', '# TYPE h histogram\nh_bucket 1\n'],
    ['a second TYPE', '# TYPE a gauge\n# TYPE a counter\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
