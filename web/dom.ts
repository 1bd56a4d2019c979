/**
 * The page's only way to make DOM: every string becomes a text node or an attribute value,
 * never markup, so a layer called `<img src=x onerror=…>` is shown, not parsed. Event
 * handler attributes and `style` are refused (the CSP forbids inline handlers and style
 * attributes; styles go through `el.style`, which the CSP allows).
 */

export type Child = Node | string | number | null | undefined | false | Child[];

export interface Props {
  class?: string;
  /** `data-testid`, the tests' stable hook. */
  testid?: string;
  /** Plain attributes (values set with setAttribute, so they are never parsed as markup). */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

function setAttrs(el: Element, attrs: Props["attrs"]): void {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (/^on/i.test(k) || k.toLowerCase() === "style") throw new Error(`attribute '${k}' is not allowed`);
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) {
      append(el, c);
      continue;
    }
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** An HTML element with text children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.testid) el.dataset.testid = props.testid;
  setAttrs(el, props.attrs);
  for (const [type, fn] of Object.entries(props.on ?? {})) el.addEventListener(type, fn as EventListener);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element; text goes in as text nodes of <text>/<title>. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Props["attrs"] = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Saves a blob under a file name (an <a download> click: no request leaves the machine). */
export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { attrs: { href: url, download: name } });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
