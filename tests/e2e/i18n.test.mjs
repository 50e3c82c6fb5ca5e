// Every UI string exists in Japanese and English (web/i18n.js): the same keys, no empty text,
// and the same {placeholders} in both, so no screen falls back to a key or loses a value.
import { test } from 'node:test';
import assert from 'node:assert/strict';

globalThis.navigator ??= { language: 'ja' };
globalThis.localStorage ??= { getItem() { return null; }, setItem() {} };
const { messages, LANGS } = await import('../../web/i18n.js');

const placeholders = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('ja and en have the same keys, none empty, with the same placeholders', () => {
  assert.deepEqual(LANGS, ['ja', 'en']);
  const ja = Object.keys(messages.ja).sort();
  const en = Object.keys(messages.en).sort();
  assert.ok(ja.length > 100, `${ja.length} strings`);
  assert.deepEqual(ja.filter((k) => !(k in messages.en)), [], 'keys only in Japanese');
  assert.deepEqual(en.filter((k) => !(k in messages.ja)), [], 'keys only in English');
  for (const k of ja) {
    for (const l of LANGS) {
      const v = messages[l][k];
      assert.ok(typeof v === 'string' ? v.trim() !== '' : v !== undefined, `${l}.${k} is empty`);
    }
    if (typeof messages.ja[k] === 'string' && typeof messages.en[k] === 'string') {
      assert.deepEqual(placeholders(messages.ja[k]), placeholders(messages.en[k]), `placeholders of ${k}`);
    }
  }
});
