// Small DOM helpers over @xmldom/xmldom: the solution files are XML documents and we keep them as DOM,
// so packing and unpacking move nodes around without re-serialising by hand.
import { DOMParser, XMLSerializer, type Document, type Element, type Node } from "@xmldom/xmldom";

export type { Document, Element };

export class XmlError extends Error {}

export function parseXml(text: string, source: string): Document {
  const parser = new DOMParser({
    onError: (level, message) => {
      if (level !== "warning") throw new XmlError(`${source}: ${message}`);
    },
  });
  const doc = parser.parseFromString(stripBom(text), "text/xml");
  if (!doc.documentElement) throw new XmlError(`${source}: no root element`);
  return doc;
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function childElements(parent: Element | Document, name?: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (name === undefined || (n as Element).nodeName === name)) out.push(n as Element);
  }
  return out;
}

export function child(parent: Element | Document, name: string): Element | undefined {
  return childElements(parent, name)[0];
}

export function requireChild(parent: Element, name: string, source: string): Element {
  const found = child(parent, name);
  if (!found) throw new XmlError(`${source}: <${parent.nodeName}> has no <${name}>`);
  return found;
}

/** Follows a path of element names from `parent`, e.g. path(entity, "EntityInfo", "entity", "attributes"). */
export function path(parent: Element | Document, ...names: string[]): Element | undefined {
  let current: Element | Document | undefined = parent;
  for (const name of names) {
    if (!current) return undefined;
    current = child(current, name);
  }
  return current as Element | undefined;
}

export function text(element: Element | undefined): string | undefined {
  if (!element) return undefined;
  return element.textContent ?? "";
}

export function descendants(parent: Element | Document, name: string): Element[] {
  return Array.from(parent.getElementsByTagName(name)) as unknown as Element[];
}

/** en-US and nl-NL labels from a list element such as <displaynames> or <labels>. */
export function labelsOf(list: Element | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!list) return out;
  for (const item of childElements(list)) {
    const lang = item.getAttribute("languagecode");
    if (lang) out[lang] = item.getAttribute("description") ?? "";
  }
  return out;
}

/** Removes whitespace-only text nodes, so two documents can be compared by content. */
export function canonicalXml(text: string, source: string): string {
  const doc = parseXml(text, source);
  const strip = (node: Node): void => {
    for (let n = node.firstChild; n; ) {
      const next = n.nextSibling;
      if (n.nodeType === 3 && !(n.nodeValue ?? "").trim()) node.removeChild(n);
      else if (n.nodeType === 8) node.removeChild(n);
      else strip(n);
      n = next;
    }
  };
  strip(doc);
  // Namespace declarations move between the root and the split files; they do not change meaning here.
  const dropXsi = (el: Element): void => {
    el.removeAttribute("xmlns:xsi");
    childElements(el).forEach(dropXsi);
  };
  if (doc.documentElement) dropXsi(doc.documentElement as unknown as Element);
  return serializeXml(doc).replace(/^<\?xml[^>]*\?>/, "");
}
