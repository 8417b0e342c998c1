/**
 * The few pieces every chart document is written with: XML escaping that always yields a
 * well-formed document (whatever a title holds), coordinates written the same way on every
 * machine, and elements built as strings. No DOM: the same code runs in Node and in the page.
 */

// Code units XML 1.0 does not allow at all (C0 controls but tab, LF and CR; U+FFFE, U+FFFF);
// an escape would not help, so they become U+FFFD. Lone surrogates are handled apart.
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SPECIAL: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * `text` made safe for XML character data and attribute values alike: markup characters are
 * escaped, and characters XML cannot carry at all are replaced (a stray control byte in a
 * chart title must not make the whole document unreadable).
 * @example xmlEscape('a < b & "c"') // 'a &lt; b &amp; &quot;c&quot;'
 */
export function xmlEscape(text: string): string {
  return text.replace(FORBIDDEN, '\ufffd').replace(LONE_SURROGATE, '\ufffd').replace(/[&<>"']/g, (c) => SPECIAL[c] as string);
}

/**
 * A coordinate or value as written in the document: at most two decimals, no exponent, no
 * `-0`, so the same data gives the same bytes on every run and platform.
 * @example num(1 / 3) // '0.33'
 */
export function num(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const r = Math.round(n * 100) / 100;
  return r === 0 ? '0' : r.toFixed(2).replace(/\.?0+$/, '');
}

/** Attribute values: strings are escaped, numbers written with {@link num}; undefined is left out. */
export type Attributes = Readonly<Record<string, string | number | undefined>>;

/**
 * One element as text. `children` are trusted markup (built with this function); text content
 * goes through {@link xmlEscape} first, or {@link textElement}.
 * @example el('rect', { x: 1, width: 2.5 }) // '<rect x="1" width="2.5"/>'
 */
export function el(name: string, attributes: Attributes = {}, ...children: string[]): string {
  let open = `<${name}`;
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    open += ` ${key}="${typeof value === 'number' ? num(value) : xmlEscape(value)}"`;
  }
  return children.length === 0 ? `${open}/>` : `${open}>${children.join('')}</${name}>`;
}

/**
 * An element holding `text` as escaped character data.
 * @example textElement('text', { x: 4 }, 'loss (%)') // '<text x="4">loss (%)</text>'
 */
export function textElement(name: string, attributes: Attributes, text: string): string {
  return el(name, attributes, xmlEscape(text));
}
