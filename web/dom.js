// Tiny DOM helpers. No innerHTML anywhere: all text goes in through textContent,
// so data from the server can never become markup.
//
// Text or attribute values given as functions are "localized bindings": they are
// evaluated now and again by relocalize() whenever the language changes, so a page
// (including a half-filled form) switches language without being rebuilt.

const bindings = new WeakMap();
const MARK = 'data-l10n';

function bind(el, kind, name, fn) {
  let b = bindings.get(el);
  if (!b) { b = { text: null, attrs: {} }; bindings.set(el, b); el.setAttribute(MARK, ''); }
  if (kind === 'text') b.text = fn; else b.attrs[name] = fn;
}

function setAttr(el, name, value) {
  if (value === false || value === null || value === undefined) { el.removeAttribute(name); return; }
  if (value === true) { el.setAttribute(name, ''); return; }
  el.setAttribute(name, String(value));
}

/**
 * h('tag.class1.class2#id', {attrs, on: {event: fn}}, ...children)
 * children: Node | string | number | function (localized text) | array | null/false (skipped).
 * attrs: value may be a function (localized attribute). Special keys: `on`, `props`.
 */
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  if (!m) throw new Error('bad element spec ' + spec);
  const el = document.createElement(m[1] || 'div');
  for (const part of m[2].match(/[.#][\w-]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs); attrs = null;
  }
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === 'props') {
        Object.assign(el, v);
      } else if (k === 'class') {
        for (const c of String(v).split(/\s+/).filter(Boolean)) el.classList.add(c);
      } else if (typeof v === 'function') {
        bind(el, 'attr', k, v); setAttr(el, k, v());
      } else {
        setAttr(el, k, v);
      }
    }
  }
  // A lone localized child binds the element's own text (needed for <option>, <title>...).
  if (children.length === 1 && typeof children[0] === 'function') bindText(el, children[0]);
  else append(el, children);
  return el;
}

export function append(el, children) {
  if (!Array.isArray(children)) children = [children];
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else if (typeof c === 'function') el.appendChild(tx(c));
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

/** A span whose text is a localized binding. */
export function tx(fn, cls) {
  const s = document.createElement('span');
  if (cls) s.className = cls;
  bindText(s, fn);
  return s;
}

/** Bind an element's whole text content to a function. */
export function bindText(el, fn) {
  bind(el, 'text', null, fn);
  el.textContent = fn();
  return el;
}

export function bindAttr(el, name, fn) {
  bind(el, 'attr', name, fn);
  setAttr(el, name, fn());
  return el;
}

/** Re-evaluate every localized binding under root. */
export function relocalize(root = document) {
  const els = root.querySelectorAll('[' + MARK + ']');
  for (const el of els) {
    const b = bindings.get(el);
    if (!b) continue;
    if (b.text) el.textContent = b.text();
    for (const [name, fn] of Object.entries(b.attrs)) setAttr(el, name, fn());
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let idSeq = 0;
export function uid(prefix) { idSeq += 1; return (prefix || 'id') + '-' + idSeq; }
