import { escapeHtml, html, SafeHtml, trustedHtml } from './html';

describe('html template helper', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const lot = '<script>alert("x")</script>';
    const out = html`<p title="${`a" onmouseover="x`}">${lot}</p>`.toString();
    expect(out).toBe('<p title="a&quot; onmouseover=&quot;x">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>');
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });

  it('nests templates without escaping twice, joins arrays, drops null, undefined and false', () => {
    const items = ['<a>', 'b&c'].map((x) => html`<li>${x}</li>`);
    const out = html`<ul>${items}</ul>${null}${undefined}${false}${0}`;
    expect(out).toBeInstanceOf(SafeHtml);
    expect(String(out)).toBe('<ul><li>&lt;a&gt;</li><li>b&amp;c</li></ul>0');
  });

  it('only trustedHtml passes markup through, and a string that looks like SafeHtml does not', () => {
    expect(html`${trustedHtml('<svg/>')}`.value).toBe('<svg/>');
    expect(html`${{ value: '<b>' }}`.value).toBe('[object Object]');
    expect(html`${'<b>'}`.value).toBe('&lt;b&gt;');
  });
});
