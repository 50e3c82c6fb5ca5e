// Checks HTTP responses (and request bodies) against api/openapi.json with ajv (JSON Schema 2020-12).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';
import { REPO } from './server.mjs';

export const DOC_PATH = join(REPO, 'api/openapi.json');
export const doc = JSON.parse(readFileSync(DOC_PATH, 'utf8'));

const ajv = new Ajv2020({ strict: false, allErrors: true });
// Formats without the ajv-formats package: the schemas carry patterns too.
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
ajv.addSchema(doc, 'oas');

const cache = new Map();
function compilePointer(pointer) {
  if (!cache.has(pointer)) {
    const v = ajv.getSchema(`oas#${pointer}`);
    if (!v) throw new Error(`no schema at ${pointer}`);
    cache.set(pointer, v);
  }
  return cache.get(pointer);
}

const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function deref(obj) {
  let o = obj;
  while (o && o.$ref) {
    const parts = o.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    o = parts.reduce((a, k) => a[k], doc);
  }
  return o;
}

/** Validates `value` against components.schemas[name]; returns ajv errors or null. */
export function schemaErrors(name, value) {
  const v = compilePointer(`/components/schemas/${esc(name)}`);
  return v(value) ? null : v.errors;
}

export function assertSchema(name, value, msg = '') {
  const errs = schemaErrors(name, value);
  assert.equal(errs, null, `${msg} does not match schema ${name}: ${JSON.stringify(errs)}\nvalue: ${JSON.stringify(value)}`);
}

/** The operation object of doc.paths[template][method]. */
export function operation(method, template) {
  const p = doc.paths[template];
  assert.ok(p, `path ${template} not in openapi.json`);
  const o = p[method.toLowerCase()];
  assert.ok(o, `${method} ${template} not in openapi.json`);
  return o;
}

/**
 * Asserts that the response status is documented for the operation and that the body matches
 * the documented schema of its media type (problem+json for errors).
 */
export function assertResponse(method, template, res) {
  const o = operation(method, template);
  const resp = deref(o.responses[String(res.status)]);
  assert.ok(resp, `${method} ${template}: status ${res.status} is not documented (body ${res.text.slice(0, 300)})`);
  if (!resp.content) {
    assert.equal(res.text, '', `${method} ${template} ${res.status}: documented without a body, got ${res.text.slice(0, 200)}`);
    return;
  }
  const mt = Object.keys(resp.content)[0];
  assert.ok(res.contentType.startsWith(mt), `${method} ${template} ${res.status}: Content-Type ${res.contentType}, want ${mt}`);
  assert.notEqual(res.json, undefined, `${method} ${template} ${res.status}: body is not JSON: ${res.text.slice(0, 200)}`);
  // Validate through a pointer into the document so $refs resolve.
  const key = o.responses[String(res.status)].$ref
    ? o.responses[String(res.status)].$ref.replace(/^#/, '')
    : `/paths/${esc(template)}/${method.toLowerCase()}/responses/${res.status}`;
  const v = compilePointer(`${key}/content/${esc(mt)}/schema`);
  assert.ok(v(res.json), `${method} ${template} ${res.status}: body does not match the document: ` +
    `${JSON.stringify(v.errors)}\nbody: ${res.text.slice(0, 1000)}`);
}

/** Whether the documented request-body schema of an operation accepts `body`. */
export function requestAccepts(method, template, body) {
  const o = operation(method, template);
  const rb = deref(o.requestBody);
  assert.ok(rb, `${method} ${template} has no requestBody`);
  const v = compilePointer(`/paths/${esc(template)}/${method.toLowerCase()}/requestBody/content/application~1json/schema`);
  return v(body);
}
