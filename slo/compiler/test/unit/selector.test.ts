import { expect } from 'chai';
import { formatSelector, parseSelector } from '../../src/index.js';

describe('series selectors', () => {
  it('parses a metric name with every matcher operator', () => {
    expect(parseSelector('chat_x_total{code=~"5..", route!~"/health/.*", le="0.5", a!="b"}')).to.deep.equal({
      metric: 'chat_x_total',
      matchers: [
        { name: 'code', op: '=~', value: '5..' },
        { name: 'route', op: '!~', value: '/health/.*' },
        { name: 'le', op: '=', value: '0.5' },
        { name: 'a', op: '!=', value: 'b' },
      ],
    });
    expect(parseSelector('  chat_x_total  ')).to.deep.equal({ metric: 'chat_x_total', matchers: [] });
  });

  it('decodes escapes the way PromQL does and writes them back', () => {
    const selector = parseSelector('m{path=~"a\\\\.b", q="say \\"hi\\""}');
    expect(selector.matchers.map((m) => m.value)).to.deep.equal(['a\\.b', 'say "hi"']);
    expect(formatSelector(selector)).to.equal('m{path=~"a\\\\.b",q="say \\"hi\\""}');
    expect(parseSelector(formatSelector(selector))).to.deep.equal(selector);
  });

  it('rejects anything that is not a plain selector, saying where', () => {
    expect(() => parseSelector('rate(m[5m])')).to.throw(/end of the selector.*character 5/);
    expect(() => parseSelector('m{code=5}')).to.throw(/quoted label value/);
    expect(() => parseSelector('m{code="5"')).to.throw(/, or \}/);
    expect(() => parseSelector('m{code~"5"}')).to.throw(/=, !=, =~ or !~/);
    expect(() => parseSelector('m{re="\\d"}')).to.throw(/known escape/);
    expect(() => parseSelector('5xx')).to.throw(/metric name/);
  });
});
