// isac web UI: alerts (注意喚起・対策情報, DOMAIN.md §7). The live banner every signed-in
// page shows when an alert arrives on the event stream, the alerts inbox, the alert page
// (recipients acknowledge it there; the issuer publishes, corrects and withdraws it), the
// compose form with its preview "as organisation X", and the delivery page. Same rules as
// app.js: h() only, localized bindings, no inline style or script.
import { h, tx, append, clear, bindText, uid, relocalize } from './dom.js';
import { t, has, lang, pick } from './i18n.js';
import { api, ApiError } from './api.js';
import {
  state, hasRole, itemsOf, loadRefData, banner, problemBanner, takeFlash, field, group, textInput,
  selectInput, clearFieldErrors, setFieldError, showProblem, setBusy, pageHead, setTitle, loadingEl,
  filterBox, filterForm, makeList,
} from './ui.js';
import {
  TLPS, tlpPill, obsTypeName, obsRoleName, observablesTable, markingPicker, audienceParts, listSep,
  timeEl, stackedTime, fmtTime, fromLocalDate, section, prop, isCoordinator, NO_AUDIENCE, OBS_TYPES,
  OBS_ROLES, MAX_OBSERVABLES,
} from './reports.js';
import { tlpBanner, canReadInbox } from './releases.js';

const URGENCIES = ['routine', 'urgent', 'critical'];
const CHANNELS = ['stream', 'inbox', 'webhook', 'email'];
// The issuer's lists: '' the latest published version of each series (as recipients see
// it), then drafts, every published version, everything.
const LIST_STATES = ['', 'draft', 'published', 'any'];
const MAX_LINKS = 50;
const MAX_LIVE = 3;            // banners shown at once; older ones stay in the inbox
const REFRESH_MS = 5000;       // the delivery page while it is open
const RETRY_MIN_MS = 2000;     // the stream, after the server closed it for good
const RETRY_MAX_MS = 60000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ---------------------------------------------------------------- who may do what

/** Alerts reach every content role (auditors read the audit log only, and no stream). */
export function canReadAlerts() { return canReadInbox(); }
function isHubAnalyst() { return !!(state.me && state.me.org && state.me.org.kind === 'sector_hub') && hasRole('analyst'); }
function isCoordAnalyst() { return isCoordinator() && (hasRole('analyst') || hasRole('admin')); }
/** Coordinator analysts issue to anyone; hub analysts to their own sectors (the server checks). */
export function canIssueAlerts() { return isCoordAnalyst() || isHubAnalyst(); }
/** The issuer side gets the full view (with the audience); recipients do not. */
function issuerView(a) { return !!a && a.audience !== undefined && a.audience !== null; }
function ownSectorCodes() { return ((state.me && state.me.sectors) || []).map((s) => s.code); }

// ---------------------------------------------------------------- labels and small pieces

function urgencyName(u) { return has('alert.urgency.' + u) ? t('alert.urgency.' + u) : String(u || ''); }
function urgencyBadge(u, big) {
  return h('span.urgency-badge' + (big ? '.urgency-badge-big' : ''), { 'data-urgency': u || '' }, () => urgencyName(u));
}
/** 「訓練」/ EXERCISE: on every alert that is a drill, wherever it shows. */
function exerciseTag() { return h('span.exercise-tag', () => t('alert.exercise_tag')); }
function kindTag(kind) {
  if (!kind || kind === 'alert') return null;
  return h('span.alert-kind', { 'data-kind': kind }, () => t('alert.kind.' + kind));
}
function stateBadge(s) { return h('span.rel-state', { 'data-state': s || '' }, () => t('alert.state.' + s)); }
function versionText(n) { return t('alert.version_n', { n }); }
function alertTitle(a) { return pick(a && a.title) || t('alert.untitled'); }
function issuerName(a) { return pick(a && a.issuer && a.issuer.name) || t('value.none'); }
function ownOrgIssued(a) { return !!(a && a.issuer && state.me && state.me.org && a.issuer.org_id === state.me.org.id); }

/** A text in the reader's language, else the other one (marked with its language). */
function localText(obj, cls) {
  const other = () => (lang() === 'ja' ? 'en' : 'ja');
  const which = () => (obj && obj[lang()] ? lang() : other());
  const el = h('p.text-block' + (cls ? '.' + cls : ''), { lang: () => which() });
  bindText(el, () => pick(obj) || t('value.empty'));
  if (!pick(obj)) el.classList.add('muted');
  return el;
}
/** "(English only)" when the reader's language is missing. */
function fallbackNote(obj) {
  return h('p.lang-fallback', { hidden: () => !(pick(obj) && !(obj && obj[lang()])) },
    () => t('alert.only_in', { lang: t('locale.' + (lang() === 'ja' ? 'en' : 'ja')) }));
}

const timeFmt = () => new Intl.DateTimeFormat(lang() === 'ja' ? 'ja-JP' : 'en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
function clockTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso || '') : timeFmt().format(d);
}

/** 850 ms, 1.5 s, 12 s, 3 min 4 s, 5 min, 2 h 5 min, 24 h (no zero parts). */
function fmtMs(ms) {
  if (ms === null || ms === undefined) return t('value.none');
  const n = Math.max(0, Number(ms) || 0);
  if (n < 1000) return t('alert.dur.ms', { n: Math.round(n) });
  if (n < 60000) return t('alert.dur.s', { n: n < 10000 ? (Math.round(n / 100) / 10).toLocaleString(locale()) : Math.round(n / 1000) });
  if (n < 3600000) {
    const m = Math.floor(n / 60000);
    const s = Math.round((n % 60000) / 1000);
    return s ? t('alert.dur.m_s', { m, s }) : t('alert.dur.m', { m });
  }
  const hh = Math.floor(n / 3600000);
  const m = Math.round((n % 3600000) / 60000);
  return m ? t('alert.dur.h_m', { h: hh, m }) : t('alert.dur.h', { h: hh });
}
function locale() { return lang() === 'ja' ? 'ja-JP' : 'en-GB'; }
function nOrgs(n) { return t(n === 1 ? 'delivery.n_orgs_one' : 'delivery.n_orgs', { n }); }
function pct(x) { return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(Number(x) || 0); }

function problemOrUnknown(err) {
  return err instanceof ApiError ? problemBanner(err) : banner('error', () => t('problem.unknown'));
}

/** Who receives it, as phrases: all members, sectors, tiers, named organisations. */
function audienceSummary(aud) {
  const parts = audienceParts({ ...NO_AUDIENCE, ...(aud || {}) }, false).map((fn) => fn());
  return parts.length ? t('alert.aud.summary', { audience: parts.join(listSep()) }) : t('alert.aud.nobody');
}

function audienceList(aud) {
  const a = { ...NO_AUDIENCE, ...(aud || {}) };
  const items = audienceParts({ ...a, orgs: [] }, false).map((fn) => h('li', fn));
  if (a.orgs.length) {
    items.push(h('li', tx(() => t('aud.orgs_list')), h('ul.aud-orgs', a.orgs.map((id) => h('li', h('code.org-id', id))))));
  }
  if (!items.length) items.push(h('li.muted', () => t('alert.aud.nobody')));
  return h('ul.aud-list', items);
}

// ---------------------------------------------------------------- unread badge

const badgeNum = h('span.nav-badge-num', { 'aria-hidden': 'true' });
const badgeText = h('span.visually-hidden');
const badge = h('span.nav-badge', { hidden: true }, badgeNum, badgeText);
let unread = new Map();   // alert id → series id, received on the stream and not opened yet

/** The badge on the menu's alerts link (app.js puts it there). */
export function navBadge() { return badge; }

function unreadKey() { return 'isac.alerts.unread.' + ((state.me && state.me.user && state.me.user.id) || ''); }
function loadUnread() {
  unread = new Map();
  try {
    const v = JSON.parse(sessionStorage.getItem(unreadKey()) || '[]');
    if (Array.isArray(v)) for (const [id, series] of v) if (typeof id === 'string') unread.set(id, String(series || ''));
  } catch { /* storage unavailable or garbled: start empty */ }
  updateBadge();
}
function saveUnread() {
  try { sessionStorage.setItem(unreadKey(), JSON.stringify([...unread])); } catch { /* keep in memory */ }
  updateBadge();
}
function updateBadge() {
  const n = unread.size;
  badge.hidden = n === 0;
  badgeNum.textContent = n > 99 ? '99+' : String(n);
  bindText(badgeText, () => t('alert.unread_n', { n }));
}
/** Opening an alert (any version of its series) takes it off the badge. */
function markSeen(a) {
  let changed = false;
  for (const [id, series] of [...unread]) {
    if (id === a.id || (a.series_id && series === a.series_id)) { unread.delete(id); changed = true; }
  }
  if (changed) saveUnread();
  for (const el of document.querySelectorAll('.live-alert')) {
    if (el.dataset.id === a.id || (a.series_id && el.dataset.series === a.series_id)) el.remove();
  }
}

// ---------------------------------------------------------------- the live stream and its banner

let live = null;

/**
 * Open the event stream for the signed-in user (the session cookie authenticates it).
 * EventSource reconnects by itself after a network error, sending Last-Event-ID; when
 * the server ends it for good (an HTTP error), try again later from the last event seen.
 * The last event seen is kept for the tab too, so that a reload misses nothing either.
 */
export function startLive(region) {
  stopLive();
  if (!canReadAlerts() || typeof EventSource === 'undefined') return;
  live = { region, lastId: loadLastId(), delay: RETRY_MIN_MS, es: null, timer: null };
  loadUnread();
  connect(live);
}

function lastIdKey() { return 'isac.alerts.last.' + ((state.me && state.me.user && state.me.user.id) || ''); }
function loadLastId() {
  try { return /^\d+$/.test(sessionStorage.getItem(lastIdKey()) || '') ? sessionStorage.getItem(lastIdKey()) : ''; } catch { return ''; }
}
function saveLastId(v) {
  try { sessionStorage.setItem(lastIdKey(), v); } catch { /* keep in memory */ }
}

export function stopLive() {
  if (!live) return;
  if (live.es) live.es.close();
  clearTimeout(live.timer);
  if (live.region) clear(live.region);
  live = null;
  unread = new Map();
  updateBadge();
}

function connect(l) {
  const url = '/api/v1/stream' + (l.lastId ? '?last_event_id=' + encodeURIComponent(l.lastId) : '');
  const es = new EventSource(url);
  l.es = es;
  es.addEventListener('open', () => { l.delay = RETRY_MIN_MS; });
  es.addEventListener('alert', (e) => onAlertEvent(l, e));
  es.addEventListener('error', () => {
    if (es.readyState !== EventSource.CLOSED || live !== l) return;
    l.timer = setTimeout(() => retry(l), l.delay);
    l.delay = Math.min(l.delay * 2, RETRY_MAX_MS);
  });
}

async function retry(l) {
  if (live !== l) return;
  try {
    // A 401 here ends the session (api.js → back to the login page → stopLive).
    await api('GET', '/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
  }
  if (live === l) connect(l);
}

function onAlertEvent(l, e) {
  if (live !== l) return;
  if (e.lastEventId) { l.lastId = e.lastEventId; saveLastId(e.lastEventId); }
  let a = null;
  try { a = JSON.parse(e.data); } catch { return; }
  if (!a || typeof a.id !== 'string') return;
  // Pages that list alerts refresh themselves.
  document.dispatchEvent(new CustomEvent('isac:alert', { detail: a }));
  // The issuer's own users published it: nothing to tell them.
  if (ownOrgIssued(a)) return;
  const here = /^#\/alerts\/([0-9a-f-]{36})(?:$|\?)/.exec(location.hash);
  if (here && here[1] === a.id) return;
  // One unread entry per series: a correction replaces the version it corrects.
  for (const [id, series] of [...unread]) if (a.series_id && series === a.series_id) unread.delete(id);
  unread.set(a.id, a.series_id || '');
  saveUnread();
  showLiveBanner(l.region, a);
}

function showLiveBanner(region, a) {
  if (!region) return;
  // A newer version of a series replaces the banner of the older one.
  for (const el of region.querySelectorAll('.live-alert')) {
    if (el.dataset.id === a.id || (a.series_id && el.dataset.series === a.series_id)) el.remove();
  }
  const id = uid('la');
  const dismiss = () => { el.remove(); };
  const loud = a.urgency === 'urgent' || a.urgency === 'critical';
  const href = '#/alerts/' + a.id;
  const el = h('section.live-alert', {
    'data-id': a.id, 'data-series': a.series_id || '', 'data-urgency': a.urgency || 'routine',
    'data-exercise': a.exercise ? 'true' : 'false', 'data-kind': a.kind || 'alert',
    role: loud ? 'alert' : 'status', 'aria-labelledby': id,
  },
  h('div.live-alert-inner',
    h('div.live-alert-tags',
      a.exercise ? exerciseTag() : null,
      urgencyBadge(a.urgency),
      kindTag(a.kind),
      h('span.live-alert-label', () => t(a.exercise ? 'alert.live_label_exercise' : 'alert.live_label'))),
    h('p.live-alert-title', { id }, h('a', { href, on: { click: dismiss } }, () => alertTitle(a))),
    h('p.live-alert-meta', () => t('alert.live_meta', { issuer: issuerName(a), time: a.published_at ? fmtTime(a.published_at) : '' })),
    a.exercise ? h('p.live-alert-exnote', () => t('alert.exercise_note')) : null,
    h('div.live-alert-actions',
      h('a.btn.btn-small.live-alert-open', { href, on: { click: dismiss } }, () => t('alert.open')),
      h('button.btn.btn-small.live-alert-close', { type: 'button', 'aria-label': () => t('alert.dismiss_n', { title: alertTitle(a) }), on: { click: dismiss } }, () => t('alert.dismiss')))));
  region.prepend(el);
  const all = region.querySelectorAll('.live-alert');
  for (let i = MAX_LIVE; i < all.length; i += 1) all[i].remove();
}

// ---------------------------------------------------------------- the inbox

export async function viewAlerts(page, params) {
  const issuerSide = isCoordinator() || canIssueAlerts();
  const actions = canIssueAlerts() ? h('a.btn.btn-primary', { href: '#/alerts/new' }, h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('alerts.new'))) : null;
  append(page, pageHead('alerts.title', () => t(issuerSide ? 'alerts.lead_issuer' : 'alerts.lead'), actions));
  takeFlash(page);
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  const loading = loadingEl();
  page.appendChild(loading);
  await loadRefData();
  loading.remove();

  // Exercises are kept apart: one list or the other, never mixed.
  let exercise = params.get('exercise') === 'true';
  const segName = uid('ex');
  const seg = h('fieldset.segmented.alert-kind-switch', h('legend.seg-legend', () => t('alerts.show')),
    h('div.seg-body', [false, true].map((ex) => {
      const id = uid('exs');
      const input = h('input.seg-input', { type: 'radio', name: segName, id, value: ex ? 'true' : 'false', checked: ex === exercise,
        on: { change: () => { exercise = ex; syncHash(); exNote.hidden = !exercise; list.reset(); } } });
      return h('span.seg-item', input, h('label.seg-label', { for: id }, () => t(ex ? 'alerts.show_exercises' : 'alerts.show_real')));
    })));
  const exNote = h('p.exercise-strip.exercise-strip-small', { hidden: !exercise, role: 'note' }, exerciseTag(), tx(() => t('alerts.exercise_list_note')));
  page.appendChild(h('div.due-toolbar', seg));
  page.appendChild(exNote);

  const any = { value: '', text: () => t('filter.any') };
  const qIn = textInput({ name: 'q', type: 'search', autocomplete: 'off' });
  const urgSel = selectInput([any, ...URGENCIES.map((u) => ({ value: u, text: () => urgencyName(u) }))], { name: 'urgency' });
  const sinceIn = h('input.input', { type: 'date', name: 'since' });
  const untilIn = h('input.input', { type: 'date', name: 'until' });
  const stateSel = issuerSide ? selectInput(LIST_STATES.map((s) => ({ value: s, text: () => t('alerts.state.' + (s || 'latest')) })), { name: 'state' }) : null;
  if (stateSel) stateSel.value = LIST_STATES.includes(params.get('state')) ? params.get('state') : '';
  const filters = filterForm(() => { syncHash(); list.reset(); }, [
    field({ label: () => t('alerts.filter.q'), input: qIn, cls: 'filter-field filter-wide' }).el,
    field({ label: () => t('alert.urgency'), input: urgSel, cls: 'filter-field' }).el,
    stateSel ? field({ label: () => t('alert.state'), input: stateSel, cls: 'filter-field' }).el : null,
    field({ label: () => t('inbox.filter.since'), input: sinceIn, cls: 'filter-field' }).el,
    field({ label: () => t('inbox.filter.until'), input: untilIn, cls: 'filter-field' }).el,
  ]);
  page.appendChild(filterBox(filters));

  const list = makeList({
    caption: () => t('alerts.caption'),
    empty: () => t(exercise ? 'alerts.empty_exercises' : 'alerts.empty'),
    rowClass: (a) => ['alert-row', a.exercise ? 'row-exercise' : '', a.urgency !== 'routine' && a.kind !== 'withdrawal' ? 'row-' + a.urgency : '', a.kind === 'withdrawal' ? 'row-withdrawn' : ''].join(' '),
    columns: [
      { label: () => t('alert.title'), cls: 'col-name', cell: titleCell },
      { label: () => t('alert.urgency'), cls: 'col-nowrap', cell: (a) => urgencyBadge(a.urgency) },
      { label: () => t('report.tlp'), cls: 'col-nowrap col-tlp', cell: (a) => tlpPill(a.tlp, true) },
      { label: () => t('alert.issuer'), cls: 'col-provider', cell: (a) => tx(() => issuerName(a)) },
      { label: () => t('alert.published_at'), cls: 'col-nowrap', cell: (a) => (a.published_at ? stackedTime(a.published_at) : h('span.muted', () => t('alert.not_published'))) },
    ],
    fetch: (cursor) => api('GET', '/alerts', undefined, { query: { ...filterQuery(), cursor, limit: 50 } }),
    slot,
  });
  page.appendChild(list.el);
  // A new alert on the stream: show it here too (the list is short and cheap to redo).
  const onLive = () => { if (!page.isConnected) { document.removeEventListener('isac:alert', onLive); return; } list.reset(); };
  document.addEventListener('isac:alert', onLive);
  await list.reset();

  function filterQuery() {
    return { exercise: exercise ? 'true' : 'false', urgency: urgSel.value, q: qIn.value.trim(),
      since: fromLocalDate(sinceIn.value, false), until: fromLocalDate(untilIn.value, true), state: stateSel ? stateSel.value : '' };
  }
  function syncHash() {
    const qs = new URLSearchParams();
    if (exercise) qs.set('exercise', 'true');
    if (stateSel && stateSel.value) qs.set('state', stateSel.value);
    const s = qs.toString();
    history.replaceState(null, '', '#/alerts' + (s ? '?' + s : ''));
  }
}

function titleCell(a) {
  return h('div.name-cell',
    h('a.name-primary.report-link', { href: '#/alerts/' + a.id }, () => alertTitle(a)),
    h('span.alert-tags', a.exercise ? exerciseTag() : null, kindTag(a.kind),
      a.version > 1 ? h('span.name-secondary', () => versionText(a.version)) : null,
      a.state === 'draft' ? stateBadge('draft') : null));
}

// ---------------------------------------------------------------- the alert page

export async function viewAlert(page, params, id) {
  const loading = loadingEl();
  page.appendChild(loading);
  setTitle(() => t('alert.page_title'));
  const [a] = await Promise.all([api('GET', '/alerts/' + encodeURIComponent(id)), loadRefData()]);
  loading.remove();
  page.classList.add('page-report', 'page-alert');
  markSeen(a);
  if (issuerView(a)) return issuerPage(page, a);
  return recipientPage(page, a);
}

/** A drill is marked before anything else on the page. */
function exerciseStrip(a) {
  if (!a.exercise) return null;
  return h('div.exercise-strip', { role: 'note' }, exerciseTag(), h('span.exercise-strip-text', () => t('alert.exercise_note')));
}

function alertHead(a, kicker, actions, level) {
  if (level !== 2) setTitle(() => (a.exercise ? t('alert.exercise_prefix') : '') + alertTitle(a));
  const title = level === 2 ? h('h2.page-title.preview-title', () => alertTitle(a)) : h('h1.page-title', { tabindex: '-1' }, () => alertTitle(a));
  return h('div.page-head.report-head.alert-head',
    h('div.page-head-text',
      kicker ? h('p.page-kicker', kicker) : null,
      h('div.report-title-row', urgencyBadge(a.urgency, true), title),
      h('ul.report-badges', { 'aria-label': () => t('alert.about') },
        a.exercise ? h('li', exerciseTag()) : null,
        a.kind !== 'alert' ? h('li', kindTag(a.kind)) : null,
        issuerView(a) ? h('li', stateBadge(a.state)) : null,
        h('li.rel-version', () => versionText(a.version)),
        h('li.rel-provider', () => t('alert.from', { issuer: issuerName(a) })),
        a.published_at ? h('li.report-event', timeEl(a.published_at, true)) : null)),
    actions && actions.length ? h('div.page-actions', actions) : null);
}

/** Correction and withdrawal say so above the text. */
function kindNote(a) {
  if (a.kind === 'withdrawal') {
    return h('div.state-note', banner('error', () => t('alert.withdrawn_title'),
      [h('p.banner-detail', () => t('alert.withdrawn_text')), pick(a.summary) ? h('div.banner-detail', h('p.tl-reason-label', () => t('alert.withdrawn_reason')), localText(a.summary)) : null]));
  }
  if (a.kind === 'correction') {
    return h('div.state-note', banner('info', () => t('alert.corrected_title', { n: a.version }), h('p.banner-detail', () => t('alert.corrected_text'))));
  }
  return null;
}

/** The recommended actions: what the reader should do, first and large (struck out once withdrawn). */
function actionsSection(a) {
  const id = uid('act');
  const withdrawn = a.kind === 'withdrawal';
  return h('section.alert-actions', { 'aria-labelledby': id, 'data-urgency': a.urgency, 'data-withdrawn': withdrawn ? 'true' : 'false' },
    h('h2.alert-actions-title', { id }, () => t(withdrawn ? 'alert.actions_withdrawn' : 'alert.actions')),
    localText(a.actions, 'alert-actions-text'),
    fallbackNote(a.actions));
}

function linksSection(a) {
  const ids = (a.links && a.links.releases) || [];
  const body = ids.length ? h('ul.alert-links', ids.map((rid) => {
    const link = h('a.report-link', { href: '#/releases/' + rid }, h('code', rid));
    // The release's title, when the reader may see it.
    api('GET', '/releases/' + encodeURIComponent(rid)).then((r) => {
      if (r && r.content && r.content.title) { clear(link); link.appendChild(document.createTextNode(r.content.title)); }
    }).catch(() => { link.classList.add('muted'); });
    return h('li', link);
  })) : h('p.muted', () => t('alert.no_links'));
  return section('alert.sec.links', body);
}

function historyText(a) {
  if (a.kind === 'correction') return t('alert.history.correction', { n: a.version });
  if (a.kind === 'withdrawal') return t('alert.history.withdrawal', { n: a.version });
  return a.version > 1 ? t('alert.history.later', { n: a.version }) : t('alert.history.first');
}

function recordSection(a) {
  return section('alert.sec.record', h('dl.props',
    prop('alert.urgency', urgencyBadge(a.urgency)),
    prop('alert.exercise', a.exercise ? exerciseTag() : () => t('alert.real')),
    prop('report.tlp', tlpPill(a.tlp, true)),
    prop('alert.issuer', () => issuerName(a)),
    prop('alert.version', () => historyText(a)),
    prop('alert.published_at', a.published_at ? timeEl(a.published_at, true) : () => t('alert.not_published'), !a.published_at),
    prop('alert.id', h('code.report-id', a.id))));
}

/**
 * What recipients read (the page, the preview): content and marking, `afterActions` below
 * the actions. Empty sections are left out, except for the issuer (`showEmpty`), who
 * should notice what is missing before publishing.
 */
function alertDocument(a, afterActions, side, showEmpty) {
  const links = (a.links && a.links.releases) || [];
  const obs = a.observables || [];
  return [
    kindNote(a),
    tlpBanner(a.tlp),
    h('div.report-grid',
      h('div.report-main',
        actionsSection(a),
        afterActions || null,
        a.kind !== 'withdrawal' && (showEmpty || pick(a.summary)) ? section('alert.sec.summary', h('div', localText(a.summary), fallbackNote(a.summary))) : null,
        showEmpty || links.length ? linksSection(a) : null,
        showEmpty || obs.length ? section('report.observables', observablesTable(obs)) : null),
      h('div.report-side', side || null, recordSection(a))),
  ];
}

// ---------------------------------------------------------------- recipients: read and acted

function recipientPage(page, a) {
  append(page, [exerciseStrip(a)]);
  page.appendChild(alertHead(a, h('a', { href: '#/alerts' + (a.exercise ? '?exercise=true' : '') }, '← ', tx(() => t('alerts.title')))));
  takeFlash(page);
  const receipt = receiptPanel(a);
  append(page, alertDocument(a, receipt.el));
  // Opening the page is the read receipt (once; the server keeps the first time).
  if (a.state === 'published' && !(a.receipt && a.receipt.read_at)) receipt.send('read');
}

function receiptPanel(a) {
  let r = { delivered_at: null, read_at: null, acted_at: null, note: null, ...(a.receipt || {}) };
  const id = uid('rc');
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  const status = h('dl.props.receipt-props');
  const noteIn = h('textarea.input.textarea', { name: 'note', rows: 3, maxlength: 4000 });
  noteIn.value = r.note || '';
  const reg = new Map();
  const fNote = field({ label: () => t('alert.acted_note'), input: noteIn, optional: true, hint: () => t('alert.acted_note_hint'), reg, name: 'note' });
  const btn = h('button.btn.btn-primary.acted-btn', { type: 'button', on: { click: () => send('acted') } });
  // Nothing to act on in a withdrawal: it is only read.
  const withdrawn = a.kind === 'withdrawal';
  const el = h('section.action-panel.receipt-panel', { 'aria-labelledby': id },
    h('h2.panel-title', { id }, () => t('alert.receipt_title')),
    h('p.panel-text', () => t(withdrawn ? 'alert.receipt_text_withdrawn' : 'alert.receipt_text')),
    status, slot, withdrawn ? null : fNote.el, withdrawn ? null : h('div.form-actions', btn));
  render();

  function render() {
    clear(status);
    const row = (key, at) => h('div.prop', h('dt', () => t(key)), h('dd', { class: at ? '' : 'muted' }, at ? timeEl(at, true) : () => t('alert.receipt_not_yet')));
    append(status, [row('alert.receipt.delivered', r.delivered_at), row('alert.receipt.read', r.read_at), row('alert.receipt.acted', r.acted_at)]);
    if (r.acted_at && r.note) status.appendChild(h('div.prop', h('dt', () => t('alert.acted_note')), h('dd', h('span.text-block', r.note))));
    el.classList.toggle('is-acted', !!r.acted_at);
    bindText(btn, () => t(r.acted_at ? 'alert.acted_update' : 'alert.acted'));
  }

  async function send(kind) {
    clear(slot);
    clearFieldErrors(reg);
    const body = { kind };
    if (kind === 'acted' && noteIn.value.trim()) body.note = noteIn.value.trim();
    if (kind === 'acted') setBusy(btn, true, 'form.saving', r.acted_at ? 'alert.acted_update' : 'alert.acted');
    try {
      r = { ...r, ...(await api('POST', '/alerts/' + encodeURIComponent(a.id) + '/receipts', body)) };
      if (kind === 'acted') slot.appendChild(banner('success', () => t('alert.acted_done')));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showProblem(err, reg, slot);
    } finally {
      btn.disabled = false;
      btn.setAttribute('aria-busy', 'false');
      render();
    }
  }
  return { el, send };
}

// ---------------------------------------------------------------- issuer: publish, correct, withdraw

function issuerPage(page, a) {
  const canAct = canIssueAlerts();
  const panel = h('div.action-panel-slot');
  const actions = [];
  if (a.state === 'published') {
    actions.push(h('a.btn.btn-primary', { href: '#/alerts/' + a.id + '/delivery' }, () => t('alert.delivery')));
  }
  if (canAct && a.state === 'draft') {
    actions.push(h('button.btn.btn-primary', { type: 'button', 'data-action': 'publish', on: { click: () => openPublish(panel, a) } }, () => t('alert.publish')));
    actions.push(h('a.btn.btn-secondary', { href: '#/alerts/' + a.id + '/edit' }, () => t('alert.edit')));
  }
  if (canAct && a.state === 'published' && a.kind !== 'withdrawal') {
    actions.push(h('a.btn.btn-secondary', { href: '#/alerts/' + a.id + '/correct' }, () => t('alert.correct')));
    actions.push(h('button.btn.btn-danger', { type: 'button', on: { click: () => openWithdraw(panel, a) } }, () => t('alert.withdraw')));
  }
  append(page, [exerciseStrip(a)]);
  page.appendChild(alertHead(a, h('a', { href: '#/alerts' + (a.state === 'draft' ? '?state=draft' : a.exercise ? '?exercise=true' : '') }, '← ', tx(() => t('alerts.title'))), actions));
  takeFlash(page);
  const note = a.state === 'draft'
    ? banner('info', () => t('alert.note.draft'), h('p.banner-detail', () => audienceSummary(a.audience)))
    : banner('success', () => t('alert.note.published'), h('p.banner-detail', () => audienceSummary(a.audience)));
  page.appendChild(h('div.state-note', note));
  page.appendChild(panel);
  const audience = section('alert.sec.audience', h('dl.props.props-wide', prop('alert.audience', audienceList(a.audience)),
    prop('alert.created_at', timeEl(a.created_at, true)), prop('alert.updated_at', timeEl(a.updated_at, true))));
  append(page, alertDocument(a, null, audience, true));
  page.appendChild(previewSection(a));
}

function openPublish(panel, a) {
  clear(panel);
  const slot = h('div.banner-slot');
  const go = h('button.btn.btn-primary', { type: 'button', 'data-action': 'publish-confirm', on: { click: publish } }, () => t('alert.publish_confirm'));
  const el = h('section.action-panel.publish-panel', { 'aria-labelledby': 'pub-h', 'data-urgency': a.urgency },
    h('h2.panel-title#pub-h', { tabindex: '-1' }, () => t('alert.publish_title')),
    h('p.panel-text', () => t('alert.publish_text')),
    h('dl.props.props-wide',
      prop('alert.title', () => alertTitle(a)),
      prop('alert.urgency', urgencyBadge(a.urgency)),
      prop('alert.exercise', a.exercise ? exerciseTag() : () => t('alert.real')),
      prop('report.tlp', tlpPill(a.tlp, true)),
      prop('alert.audience', () => audienceSummary(a.audience))),
    slot,
    h('div.form-actions', go, h('button.btn.btn-quiet', { type: 'button', on: { click: () => clear(panel) } }, () => t('form.cancel'))));
  panel.appendChild(el);
  el.querySelector('h2').focus();
  async function publish() {
    clear(slot);
    setBusy(go, true, 'alert.publishing', 'alert.publish_confirm');
    try {
      await api('POST', '/alerts/' + encodeURIComponent(a.id) + '/publish', {});
      state.flash = { kind: 'success', text: () => t('alert.published') };
      location.hash = '#/alerts/' + a.id + '/delivery';
    } catch (err) {
      setBusy(go, false, 'alert.publishing', 'alert.publish_confirm');
      if (err instanceof ApiError && err.status === 409) { slot.appendChild(banner('error', () => t('alert.state_changed'))); return; }
      showProblem(err, new Map(), slot);
    }
  }
}

function openWithdraw(panel, a) {
  clear(panel);
  const reg = new Map();
  const slot = h('div.banner-slot');
  const reasonIn = h('textarea.input.textarea', { name: 'reason', rows: 3, maxlength: 4000 });
  const fReason = field({ label: () => t('alert.withdraw_reason'), input: reasonIn, hint: () => t('alert.withdraw_hint'), reg, name: 'reason' });
  const go = h('button.btn.btn-danger', { type: 'submit' }, () => t('alert.withdraw_make'));
  const form = h('form.action-panel', { novalidate: true, 'aria-labelledby': 'wd-h', on: { submit: onGo } },
    h('h2.panel-title#wd-h', { tabindex: '-1' }, () => t('alert.withdraw_title')),
    h('p.panel-text', () => t('alert.withdraw_text')),
    slot, fReason.el,
    h('div.form-actions', go, h('button.btn.btn-quiet', { type: 'button', on: { click: () => clear(panel) } }, () => t('form.cancel'))));
  panel.appendChild(form);
  reasonIn.focus();
  async function onGo(ev) {
    ev.preventDefault();
    clearFieldErrors(reg);
    clear(slot);
    if (!reasonIn.value.trim()) { setFieldError(fReason, () => t('alert.withdraw_reason_needed')); reasonIn.focus(); return; }
    setBusy(go, true, 'form.saving', 'alert.withdraw_make');
    try {
      const v = await api('POST', '/alerts/' + encodeURIComponent(a.id) + '/versions', { kind: 'withdrawal', reason: reasonIn.value.trim() });
      state.flash = { kind: 'success', text: () => t('alert.version_made_withdrawal') };
      location.hash = '#/alerts/' + v.id;
    } catch (err) {
      setBusy(go, false, 'form.saving', 'alert.withdraw_make');
      if (err instanceof ApiError && err.status === 409) { slot.appendChild(banner('error', () => t('alert.version_conflict'))); return; }
      showProblem(err, reg, slot);
    }
  }
}

// ---------------------------------------------------------------- preview "as organisation X"

function previewSection(a) {
  const id = uid('pv');
  const reg = new Map();
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  const listId = uid('orgs');
  const datalist = h('datalist', { id: listId });
  const orgIn = textInput({ name: 'org_id', list: listId, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
  const fOrg = field({ label: () => t('alert.preview_org'), input: orgIn, hint: () => t('alert.preview_org_hint'), reg, name: 'org_id' });
  const go = h('button.btn.btn-secondary', { type: 'submit' }, () => t('alert.preview_show'));
  const result = h('div.preview-result');
  const form = h('form.preview-form', { novalidate: true, on: { submit: onGo } }, fOrg.el, datalist, h('div.preview-go', go));
  const sec = h('section.alert-preview', { 'aria-labelledby': id },
    h('h2.section-title', { id }, () => t('alert.preview_title')),
    h('p.section-lead', () => t('alert.preview_lead')),
    slot, form, result);
  loadOrgOptions();

  async function loadOrgOptions() {
    const seen = new Set();
    const add = (oid, name) => {
      if (seen.has(oid)) return;
      seen.add(oid);
      datalist.appendChild(h('option', { value: oid }, name || oid));
    };
    try {
      const data = await api('GET', '/orgs', undefined, { query: { limit: 200 } });
      for (const o of itemsOf(data)) {
        state.orgCache.set(o.id, o);
        if (o.id !== (a.issuer && a.issuer.org_id)) add(o.id, pick(o.name));
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
    }
    for (const oid of (a.audience && a.audience.orgs) || []) add(oid, oid);
  }

  async function onGo(ev) {
    ev.preventDefault();
    clearFieldErrors(reg);
    clear(slot);
    const oid = orgIn.value.trim();
    if (!UUID_RE.test(oid)) { setFieldError(fOrg, () => t('alert.preview_org_invalid')); orgIn.focus(); return; }
    setBusy(go, true, 'loading', 'alert.preview_show');
    try {
      const p = await api('GET', '/alerts/' + encodeURIComponent(a.id) + '/preview', undefined, { query: { org_id: oid } });
      showResult(oid, p);
    } catch (err) {
      clear(result);
      if (!(err instanceof ApiError && err.status === 401)) showProblem(err, reg, slot);
    } finally {
      setBusy(go, false, 'loading', 'alert.preview_show');
    }
  }

  function showResult(oid, p) {
    clear(result);
    const o = state.orgCache.get(oid);
    const name = () => (o ? pick(o.name) : oid);
    const channels = p.channels || [];
    result.appendChild(h('div.preview-verdict', { 'data-targeted': p.targeted ? 'true' : 'false' },
      h('p.preview-verdict-title', () => t(p.targeted ? 'alert.preview_targeted' : 'alert.preview_not_targeted', { org: name() })),
      h('div.preview-channels', h('span.preview-channels-label', () => t('alert.preview_channels')),
        channels.length ? h('ul.chips.chips-compact', channels.map((c) => h('li.chip.chip-channel', { 'data-channel': c }, () => t('alert.channel.' + c))))
          : h('span.muted', () => t('value.none')))));
    if (!p.alert) return;
    const frame = h('div.preview-frame', { role: 'region', 'aria-label': () => t('alert.preview_frame', { org: name() }) },
      h('p.preview-frame-label', () => t('alert.preview_frame', { org: name() })),
      exerciseStrip(p.alert), alertHead(p.alert, null, null, 2), alertDocument(p.alert));
    result.appendChild(frame);
  }
  return sec;
}

// ---------------------------------------------------------------- compose, edit, correct

export async function viewAlertNew(page) {
  page.classList.add('page-form');
  append(page, pageHead('alert.new_title', () => t(isHubAnalyst() && !isCoordAnalyst() ? 'alert.new_lead_hub' : 'alert.new_lead')));
  const loading = loadingEl();
  page.appendChild(loading);
  await loadRefData();
  loading.remove();
  alertForm(page, 'new', null);
}

export async function viewAlertEdit(page, params, id) {
  return viewAlertRevise(page, id, 'edit');
}

export async function viewAlertCorrect(page, params, id) {
  return viewAlertRevise(page, id, 'correct');
}

async function viewAlertRevise(page, id, mode) {
  page.classList.add('page-form');
  const loading = loadingEl();
  page.appendChild(loading);
  const [a] = await Promise.all([api('GET', '/alerts/' + encodeURIComponent(id)), loadRefData()]);
  loading.remove();
  append(page, pageHead(mode === 'edit' ? 'alert.edit_title' : 'alert.correct_title',
    () => t(mode === 'edit' ? 'alert.edit_lead' : 'alert.correct_lead', { title: alertTitle(a), n: a.version })));
  const wrong = mode === 'edit' ? a.state !== 'draft' : a.state !== 'published';
  if (wrong || !issuerView(a)) {
    page.appendChild(banner('error', () => t(mode === 'edit' ? 'alert.edit_not_draft' : 'alert.correct_not_published'),
      h('p.banner-detail', h('a', { href: '#/alerts/' + a.id }, () => t('alert.back_to_alert')))));
    return;
  }
  alertForm(page, mode, a);
}

/** Two inputs (Japanese, English) for one text; the API names them `name.ja`, `name.en`. */
function langPair(reg, name, legendKey, hintKey, opts) {
  const mk = (l) => {
    const input = opts.rows
      ? h('textarea.input.textarea', { name: name + '.' + l, rows: opts.rows, maxlength: opts.max, lang: l })
      : textInput({ name: name + '.' + l, maxlength: opts.max, lang: l, autocomplete: 'off' });
    input.value = (opts.cur && opts.cur[l]) || '';
    return { input, f: field({ label: () => t('alert.form.in_' + l), input, reg, name: name + '.' + l }) };
  };
  const ja = mk('ja');
  const en = mk('en');
  const legend = [() => t(legendKey), opts.required ? h('span.field-tag.field-tag-req', () => t('form.required')) : h('span.field-tag', () => t('form.optional'))];
  const g = group({ legend, hint: hintKey ? () => t(hintKey) : null, reg, name, children: [ja.f.el, en.f.el], bodyCls: 'two-col' });
  g.focus = ja.input;
  return { el: g.el, value() {
    const o = {};
    for (const [l, x] of [['ja', ja], ['en', en]]) {
      const v = opts.rows ? x.input.value.replace(/^\s*\n/, '').replace(/\s+$/, '') : x.input.value.trim();
      if (v.trim()) o[l] = v;
    }
    return o;
  } };
}

function alertForm(page, mode, cur) {
  const c = cur || {};
  const reg = new Map();
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  const hubOnly = isHubAnalyst() && !isCoordAnalyst();

  const title = langPair(reg, 'title', 'alert.title', 'alert.form.title_hint', { max: 200, required: true, cur: c.title });
  const actions = langPair(reg, 'actions', 'alert.actions', 'alert.form.actions_hint', { max: 4000, rows: 5, required: true, cur: c.actions });
  const summary = langPair(reg, 'summary', 'alert.summary', 'alert.form.summary_hint', { max: 4000, rows: 4, cur: c.summary });

  // -- urgency and exercise
  const urgName = uid('urg');
  const urgRadios = URGENCIES.map((u) => {
    const id = uid('u');
    const input = h('input.radio', { type: 'radio', name: urgName, id, value: u, checked: (c.urgency || 'routine') === u });
    return { input, el: h('div.check-item.urgency-item', input, h('label.urgency-option', { for: id }, urgencyBadge(u), h('span.urgency-desc', () => t('alert.urgency_desc.' + u)))) };
  });
  const gUrg = group({ legend: () => t('alert.urgency'), reg, name: 'urgency', children: urgRadios.map((x) => x.el), bodyCls: 'urgency-grid' });
  gUrg.focus = urgRadios[0].input;
  const exId = uid('ex');
  // A series stays an exercise or real traffic: a correction cannot change it.
  const exCb = h('input.checkbox', { type: 'checkbox', id: exId, name: 'exercise', checked: !!c.exercise, disabled: mode === 'correct' });
  const exItem = h('div.check-item.exercise-item', exCb, h('label', { for: exId }, exerciseTag(), ' ', tx(() => t('alert.form.exercise'))));
  const gEx = group({ legend: () => t('alert.exercise'), hint: () => t(mode === 'correct' ? 'alert.form.exercise_fixed' : 'alert.form.exercise_hint'), reg, name: 'exercise', children: [exItem] });
  gEx.focus = exCb;

  // -- audience and TLP: the report form's picker, worded for alerts
  const own = ownSectorCodes();
  const marking = markingPicker({ audience: { ...NO_AUDIENCE, ...(c.audience || {}) }, tlp: c.tlp || 'AMBER' }, reg, mode === 'new', {
    noShare: true, noPurpose: true, titleKey: 'alert.sec.marking', legendKey: 'alert.aud_legend', tlpHintKey: 'alert.tlp_hint',
    hintKey: hubOnly ? 'alert.aud_hint_hub' : 'alert.aud_hint', summary: audienceSummary,
    ...(hubOnly ? { sectors: own, sectorsOnly: true, tlps: TLPS.filter((x) => x !== 'RED') } : {}),
  });
  marking.open(true);

  // -- related releases, picked from the inbox
  const links = releasePicker(reg, (c.links && c.links.releases) || []);

  // -- observables
  const obs = observableRows(reg, c.observables || []);

  const submitKey = { new: 'alert.form.save_new', edit: 'alert.form.save_edit', correct: 'alert.form.save_correct' }[mode];
  const submit = h('button.btn.btn-primary', { type: 'submit' }, () => t(submitKey));
  const actionsErr = h('p.field-error', { hidden: true });
  const cancel = h('a.btn.btn-quiet', { href: cur ? '#/alerts/' + cur.id : '#/alerts' }, () => t('form.cancel'));
  const actionsBox = h('div.form-actions-box', actionsErr, h('div.form-actions', submit, cancel));
  reg.set('kind', { el: actionsBox, err: actionsErr, focus: submit });
  const note = mode === 'correct' ? h('p.form-note', () => t('alert.form.correct_note')) : h('p.form-note', () => t('alert.form.draft_note'));

  const form = h('form.form.alert-form', { novalidate: true, on: { submit: onSubmit } },
    note,
    title.el, actions.el, summary.el,
    h('div.two-col.alert-form-flags', gUrg.el, gEx.el),
    marking.el,
    links.el,
    obs.el,
    actionsBox);
  page.appendChild(form);

  function collect() {
    const m = marking.collect();
    return {
      title: title.value(), summary: summary.value(), actions: actions.value(),
      urgency: (urgRadios.find((x) => x.input.checked) || urgRadios[0]).input.value,
      exercise: exCb.checked,
      links: { releases: links.ids(), reports: (c.links && c.links.reports) || [] },
      observables: obs.values(),
      audience: m.audience, tlp: m.tlp,
    };
  }
  const baseline = JSON.stringify(collect());
  const base = JSON.parse(baseline);

  async function onSubmit(ev) {
    ev.preventDefault();
    marking.registerOrgs();
    obs.register();
    links.register();
    clearFieldErrors(reg);
    clear(slot);
    const body = collect();
    let req;
    if (mode === 'new') {
      req = api('POST', '/alerts', body);
    } else if (mode === 'edit') {
      req = api('PATCH', '/alerts/' + encodeURIComponent(cur.id), body);
    } else {
      // A correction carries what changed; the server merges it over the published version.
      const changes = { kind: 'correction' };
      for (const k of Object.keys(body)) if (JSON.stringify(body[k]) !== JSON.stringify(base[k])) changes[k] = body[k];
      if (Object.keys(changes).length === 1) {
        setFieldError(reg.get('kind'), () => t('alert.form.nothing_changed'));
        slot.appendChild(banner('error', () => t('alert.form.nothing_changed')));
        return;
      }
      req = api('POST', '/alerts/' + encodeURIComponent(cur.id) + '/versions', changes);
    }
    setBusy(submit, true, 'form.saving', submitKey);
    try {
      const a = await req;
      state.flash = { kind: 'success', text: () => t(mode === 'correct' ? 'alert.version_made_correction' : 'alert.saved') };
      location.hash = '#/alerts/' + a.id;
    } catch (err) {
      setBusy(submit, false, 'form.saving', submitKey);
      marking.open(true);
      if (err instanceof ApiError && err.status === 409) {
        slot.appendChild(banner('error', () => t(mode === 'correct' ? 'alert.version_conflict' : 'alert.state_changed')));
        slot.scrollIntoView({ block: 'nearest' });
        return;
      }
      showProblem(err, reg, slot);
      marking.orgLineErrors(err);
    }
  }
}

/** Releases the alert is about: search the inbox, add, remove. */
function releasePicker(reg, initial) {
  const picked = [];
  const pickedEl = h('ul.link-picked');
  const none = h('p.muted.rows-none', () => t('alert.form.links_none'));
  const qIn = textInput({ name: 'release_q', type: 'search', autocomplete: 'off' });
  const fQ = field({ label: () => t('alert.form.links_search'), input: qIn, cls: 'link-search-field' });
  const findBtn = h('button.btn.btn-secondary', { type: 'button', on: { click: find } }, () => t('alert.form.links_find'));
  qIn.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); find(); } });
  const results = h('div.link-results', { 'aria-live': 'polite' });
  const g = group({ legend: [() => t('alert.sec.links'), h('span.field-tag', () => t('form.optional'))], hint: () => t('alert.form.links_hint', { n: MAX_LINKS }), reg, name: 'links',
    children: [none, pickedEl, h('div.link-search', fQ.el, findBtn), results] });
  g.focus = qIn;
  reg.set('links.releases', g);
  for (const rid of initial) add(rid, null);

  function add(rid, title) {
    if (picked.some((x) => x.id === rid) || picked.length >= MAX_LINKS) return;
    const x = { id: rid, err: h('p.field-error', { hidden: true }) };
    const label = h('span.link-title', title ? title : h('code', rid));
    if (!title) {
      api('GET', '/releases/' + encodeURIComponent(rid)).then((r) => {
        if (r && r.content && r.content.title) { clear(label); label.appendChild(document.createTextNode(r.content.title)); }
      }).catch(() => {});
    }
    const remove = h('button.btn.btn-quiet.btn-small', { type: 'button', 'aria-label': () => t('alert.form.links_remove_n', { title: label.textContent }),
      on: { click: () => { picked.splice(picked.indexOf(x), 1); x.el.remove(); sync(); qIn.focus(); } } }, () => t('rform.remove'));
    x.el = h('li.link-item', h('div.link-item-row', h('a.report-link', { href: '#/releases/' + rid, target: '_blank', rel: 'noopener' }, label), remove), x.err);
    picked.push(x);
    pickedEl.appendChild(x.el);
    sync();
  }
  function sync() {
    none.hidden = picked.length > 0;
    for (const b of results.querySelectorAll('button[data-rid]')) {
      const on = picked.some((x) => x.id === b.dataset.rid);
      b.disabled = on || picked.length >= MAX_LINKS;
      bindText(b, () => t(on ? 'alert.form.links_added' : 'alert.form.links_add'));
    }
  }
  async function find() {
    clear(results);
    results.appendChild(loadingEl());
    try {
      const data = await api('GET', '/releases', undefined, { query: { q: qIn.value.trim(), limit: 10 } });
      const items = itemsOf(data);
      clear(results);
      if (!items.length) { results.appendChild(h('p.muted', () => t('alert.form.links_no_match'))); return; }
      results.appendChild(h('ul.link-result-list', items.map((r) => h('li.link-result',
        h('span.link-result-title', tlpPill(r.tlp, true), ' ', (r.content && r.content.title) || r.id),
        r.published_at ? h('span.link-result-at', stackedTime(r.published_at)) : null,
        h('button.btn.btn-secondary.btn-small', { type: 'button', 'data-rid': r.id, on: { click: () => add(r.id, (r.content && r.content.title) || null) } }, () => t('alert.form.links_add'))))));
      sync();
    } catch (err) {
      clear(results);
      if (!(err instanceof ApiError && err.status === 401)) results.appendChild(problemOrUnknown(err));
    }
  }
  return {
    el: g.el,
    ids: () => picked.map((x) => x.id),
    register() {
      for (const key of [...reg.keys()]) if (/^links\.releases\[/.test(key)) reg.delete(key);
      picked.forEach((x, i) => reg.set(`links.releases[${i}]`, { el: x.el, err: x.err, focus: qIn }));
    },
  };
}

/** Observable rows (type, value, role), as on the report form. */
function observableRows(reg, initial) {
  const rows = [];
  const rowsEl = h('div.rows');
  const addBtn = h('button.btn.btn-secondary.btn-small', { type: 'button', on: { click: () => { const r = add(); r.type.focus(); } } },
    h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('rform.obs_add')));
  const none = h('p.muted.rows-none', () => t('rform.obs_none'));
  const g = group({ legend: [() => t('report.observables'), h('span.field-tag', () => t('form.optional'))], hint: () => t('alert.form.obs_hint'), reg, name: 'observables', children: [none, rowsEl, h('div.rows-add', addBtn)] });
  function renumber() {
    rows.forEach((r, i) => { r.index = i; relocalize(r.el); });
    none.hidden = rows.length > 0;
    addBtn.disabled = rows.length >= MAX_OBSERVABLES;
  }
  function add(o) {
    const r = { index: rows.length };
    r.type = selectInput(OBS_TYPES.map((k) => ({ value: k, text: () => obsTypeName(k) })), {});
    r.value = textInput({ autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
    r.role = selectInput(OBS_ROLES.map((k) => ({ value: k, text: () => obsRoleName(k) })), {});
    r.type.value = (o && o.type) || 'ipv4';
    r.value.value = (o && o.value) || '';
    r.role.value = (o && o.role) || 'attacker';
    r.fType = field({ label: () => t('rform.obs_type'), input: r.type, cls: 'row-code' });
    r.fValue = field({ label: () => t('rform.obs_value'), input: r.value, cls: 'row-wide' });
    r.fRole = field({ label: () => t('rform.obs_role'), input: r.role, cls: 'row-role' });
    const remove = h('button.btn.btn-quiet.btn-small.row-remove', { type: 'button', 'aria-label': () => t('rform.obs_remove_n', { n: r.index + 1 }),
      on: { click: () => { const i = rows.indexOf(r); rows.splice(i, 1); r.el.remove(); renumber(); (rows[i] || rows[i - 1] || { type: addBtn }).type.focus(); } } },
    () => t('rform.remove'));
    r.rowErr = h('p.field-error', { hidden: true });
    r.el = h('div.row-box', { role: 'group', 'aria-label': () => t('rform.obs_n', { n: r.index + 1 }) },
      h('div.row-fields.row-fields-obs', r.fType.el, r.fValue.el, r.fRole.el, h('div.row-actions', remove)), r.rowErr);
    rows.push(r);
    rowsEl.appendChild(r.el);
    renumber();
    return r;
  }
  for (const o of initial) add(o);
  renumber();
  return {
    el: g.el,
    values: () => rows.map((r) => ({ type: r.type.value, value: r.value.value.trim(), role: r.role.value })),
    register() {
      for (const key of [...reg.keys()]) if (/^observables\[/.test(key)) reg.delete(key);
      rows.forEach((r, i) => {
        reg.set(`observables[${i}].type`, r.fType);
        reg.set(`observables[${i}].value`, r.fValue);
        reg.set(`observables[${i}].role`, r.fRole);
        reg.set(`observables[${i}]`, { el: r.el, err: r.rowErr, focus: r.value });
      });
    },
  };
}

// ---------------------------------------------------------------- the delivery page

export async function viewAlertDelivery(page, params, id) {
  const loading = loadingEl();
  page.appendChild(loading);
  setTitle(() => t('delivery.title'));
  const [a] = await Promise.all([api('GET', '/alerts/' + encodeURIComponent(id)), loadRefData()]);
  loading.remove();
  page.classList.add('page-delivery');
  setTitle(() => t('delivery.title') + ' — ' + alertTitle(a));
  append(page, [exerciseStrip(a)]);
  page.appendChild(h('div.page-head.report-head',
    h('div.page-head-text',
      h('p.page-kicker', h('a', { href: '#/alerts/' + a.id }, '← ', tx(() => alertTitle(a)))),
      h('h1.page-title', { tabindex: '-1' }, () => t('delivery.title')),
      h('ul.report-badges', h('li', urgencyBadge(a.urgency)), a.exercise ? h('li', exerciseTag()) : null,
        a.kind !== 'alert' ? h('li', kindTag(a.kind)) : null,
        h('li.rel-version', () => versionText(a.version)), h('li', tlpPill(a.tlp, true))))));
  takeFlash(page);
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  page.appendChild(slot);
  if (a.state !== 'published') {
    page.appendChild(banner('info', () => t('delivery.not_published')));
    return;
  }
  const stamp = h('p.delivery-stamp');
  const body = h('div.delivery-body', loadingEl());
  append(page, [stamp, body]);
  let last = '';

  async function refresh() {
    try {
      const d = await api('GET', '/alerts/' + encodeURIComponent(a.id) + '/delivery');
      clear(slot);
      const at = new Date().toISOString();
      bindText(stamp, () => t('delivery.stamp', { time: clockTime(at), n: REFRESH_MS / 1000 }));
      const s = JSON.stringify(d);
      if (s === last) return;   // unchanged: leave the page (and the reader's focus) alone
      last = s;
      clear(body);
      append(body, deliveryView(d));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      clear(slot);
      slot.appendChild(problemOrUnknown(err));
    }
  }
  await refresh();
  const timer = setInterval(() => {
    if (!page.isConnected) { clearInterval(timer); return; }
    if (!document.hidden) refresh();
  }, REFRESH_MS);
}

function statTile(key, n, of, rate, rateKey) {
  return h('div.stat-tile', { 'data-stat': key },
    h('p.stat-label', () => t('delivery.' + key)),
    h('p.stat-value', h('span.stat-n', String(n)), of === 'unit' ? h('span.stat-of', () => t('delivery.orgs_unit'))
      : of !== null ? h('span.stat-of', () => t('delivery.of_n', { n: of })) : null),
    rate !== null ? h('p.stat-rate', h('span.stat-rate-label', () => t(rateKey)), ' ', h('span.stat-rate-value', () => pct(rate))) : null,
    rate !== null ? h('progress.stat-bar', { max: 1000, value: Math.round((Number(rate) || 0) * 1000), 'aria-hidden': 'true' }) : null);
}

function deliveryView(d) {
  const out = [];
  out.push(h('div.stat-tiles',
    statTile('targeted', d.targeted, 'unit', null),
    statTile('reached', d.reached, d.targeted, d.reachability, 'delivery.reachability'),
    statTile('read', d.read, d.targeted, d.read_rate, 'delivery.read_rate'),
    statTile('acted', d.acted, d.targeted, d.acted_rate, 'delivery.acted_rate')));

  const nr = d.not_reached || [];
  const nrId = uid('nr');
  out.push(h('section.card.not-reached', { 'aria-labelledby': nrId, 'data-count': String(nr.length) },
    h('h2.card-title', { id: nrId }, () => t('delivery.not_reached_title'), h('span.section-count', () => nOrgs(nr.length))),
    nr.length ? h('ul.not-reached-list', nr.map((o) => h('li', () => pick(o.name) || o.org_id)))
      : h('p.not-reached-none', () => t(d.targeted ? 'delivery.all_reached' : 'delivery.nobody_targeted'))));

  out.push(timesSection(d.time_to_receipt || {}));
  out.push(orgTable(d.orgs || []));
  return out;
}

function timesSection(tt) {
  const id = uid('ttr');
  // Empty buckets past the slowest receipt say nothing: the chart stops there.
  const all = tt.buckets || [];
  let last = all.length - 1;
  while (last >= 4 && !(all[last].count > 0)) last -= 1;
  const buckets = all.slice(0, last + 1);
  const max = Math.max(1, ...buckets.map((b) => b.count || 0));
  const chart = buckets.length ? h('div.ttr-chart', { role: 'table', 'aria-label': () => t('delivery.ttr_chart') },
    buckets.map((b, i) => {
      const prev = i > 0 ? buckets[i - 1].le_ms : null;
      const label = () => (b.le_ms === null || b.le_ms === undefined ? t('delivery.bucket_over', { ms: fmtMs(prev) }) : t('delivery.bucket_le', { ms: fmtMs(b.le_ms) }));
      return h('div.ttr-row', { role: 'row' },
        h('span.ttr-label', { role: 'rowheader' }, label),
        h('span.ttr-bar-cell', { role: 'cell' }, h('progress.ttr-bar', { max, value: b.count || 0, 'aria-hidden': 'true' }),
          h('span.ttr-count', () => nOrgs(b.count || 0))));
    })) : h('p.muted', () => t('delivery.no_receipts'));
  return h('section.card.ttr', { 'aria-labelledby': id },
    h('h2.card-title', { id }, () => t('delivery.ttr_title')),
    h('p.card-note', () => t('delivery.ttr_note')),
    h('dl.ttr-stats', ['p50_ms', 'p90_ms', 'p99_ms', 'max_ms'].map((k) => h('div.ttr-stat', h('dt', () => t('delivery.' + k)), h('dd', () => fmtMs(tt[k]))))),
    chart);
}

function orgTable(orgs) {
  const id = uid('dorg');
  const chans = (o) => {
    const got = CHANNELS.filter((c) => o.delivered && o.delivered[c]);
    const list = got.length ? h('ul.chips.chips-compact.chan-list', got.map((c) => h('li.chip.chip-channel', { 'data-channel': c, title: () => fmtTime(o.delivered[c], true) },
      tx(() => t('alert.channel.' + c)), ' ', h('time.chan-time', { datetime: o.delivered[c] }, () => clockTime(o.delivered[c])))))
      : h('span.unreached', () => t('delivery.unreached'));
    return h('div.chan-cell', list, o.escalated_at ? h('span.escalated', () => t('delivery.escalated', { time: clockTime(o.escalated_at) })) : null);
  };
  const at = (v) => (v ? h('span.at-yes', timeEl(v)) : h('span.muted', () => t('delivery.not_yet')));
  const table = orgs.length ? h('div.table-wrap', h('table.table.table-compact.delivery-table',
    h('caption.visually-hidden', () => t('delivery.orgs_title')),
    h('thead', h('tr', ['delivery.col_org', 'delivery.col_channels', 'delivery.col_read', 'delivery.col_acted', 'delivery.col_note'].map((k) => h('th', { scope: 'col' }, () => t(k))))),
    h('tbody', orgs.map((o) => {
      const reached = CHANNELS.some((c) => o.delivered && o.delivered[c]);
      return h('tr', { class: reached ? '' : 'row-unreached', 'data-org': o.org_id },
        h('td.col-name', { 'data-label': () => t('delivery.col_org') }, h('span.name-primary', () => pick(o.name) || o.org_id)),
        h('td', { 'data-label': () => t('delivery.col_channels') }, chans(o)),
        h('td.col-nowrap', { 'data-label': () => t('delivery.col_read') }, at(o.read_at)),
        h('td.col-nowrap', { 'data-label': () => t('delivery.col_acted') }, at(o.acted_at)),
        h('td', { 'data-label': () => t('delivery.col_note') }, o.note ? h('span.text-block', o.note) : h('span.muted', () => t('value.none'))));
    })))) : h('p.empty', () => t('delivery.nobody_targeted'));
  return h('section.delivery-orgs', { 'aria-labelledby': id },
    h('h2.section-title', { id }, () => t('delivery.orgs_title')),
    h('p.section-lead', () => t('delivery.orgs_lead')),
    table);
}
