/**
 * A strict reader for the XML our chart writer emits (no dependency here parses XML): it
 * throws on anything not well-formed (unclosed or crossed tags, a raw `<` or stray `&` in text
 * or attributes, characters XML forbids, duplicate attributes, more than one root) and returns
 * the element tree so tests can find series and bars. No DTDs, comments or CDATA: the writer
 * never emits them, so meeting one is an error too.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** Character data directly inside, entities decoded. */
  text: string;
}

const NAME = /^[A-Za-z_][\w.:-]*/;
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`raw < at ${where}`);
  return raw.replace(/&([^;]*);?/g, (m, ref: string) => {
    if (!m.endsWith(';')) throw new Error(`stray & at ${where}`);
    if (ref in ENTITIES) return ENTITIES[ref] as string;
    const code = /^#x[0-9a-fA-F]+$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#\d+$/.test(ref) ? Number(ref.slice(1)) : NaN;
    if (!Number.isFinite(code)) throw new Error(`unknown entity &${ref}; at ${where}`);
    return String.fromCodePoint(code);
  });
}

/** Parses `xml` (one document, or one element as HTML would inline it); throws when not well-formed. */
export function parseXml(xml: string): XmlElement {
  if (FORBIDDEN.test(xml)) throw new Error('a character XML does not allow');
  let i = 0;
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n?/.exec(xml);
  if (decl) i = decl[0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root at ${i}`);
    if (stack.length > 0) (stack[stack.length - 1] as XmlElement).text += decode(text, i);
    if (lt < 0) break;
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new Error(`unclosed tag at ${lt}`);
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (!open || open.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${open?.name ?? 'nothing'}> at ${lt}`);
      continue;
    }
    const name = NAME.exec(tag)?.[0];
    if (name === undefined) throw new Error(`bad tag <${tag.slice(0, 20)}> at ${lt}`);
    const selfClosing = tag.endsWith('/');
    let rest = tag.slice(name.length, selfClosing ? -1 : undefined);
    const attributes: Record<string, string> = {};
    for (;;) {
      const m = /^\s+([A-Za-z_][\w.:-]*)="([^"]*)"/.exec(rest);
      if (!m) break;
      if ((m[1] as string) in attributes) throw new Error(`attribute ${m[1]} twice at ${lt}`);
      attributes[m[1] as string] = decode(m[2] as string, lt);
      rest = rest.slice(m[0].length);
    }
    if (rest.trim() !== '') throw new Error(`bad attributes ${JSON.stringify(rest.slice(0, 30))} at ${lt}`);
    const element: XmlElement = { name, attributes, children: [], text: '' };
    if (stack.length > 0) (stack[stack.length - 1] as XmlElement).children.push(element);
    else if (root) throw new Error(`a second root <${name}> at ${lt}`);
    else root = element;
    if (!selfClosing) stack.push(element);
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1]?.name}> never closed`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element below `e` (depth first) for which `match` holds. */
export function findAll(e: XmlElement, match: (x: XmlElement) => boolean): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (x: XmlElement): void => {
    for (const c of x.children) {
      if (match(c)) found.push(c);
      walk(c);
    }
  };
  walk(e);
  return found;
}
