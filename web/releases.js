// isac web UI: releases, the anonymized versions of reports that reach others than the
// provider and the coordinator (DOMAIN.md §6). The inbox of every member, the release page
// (recipients, provider, coordinator analyst), the analyst's redaction editor with the
// original text beside the release text, the provider's approvals and the coordinator's
// work queue. Same rules as app.js: h() only, localized bindings, no inline style or script.
import { h, tx, append, clear, bindText, uid } from './dom.js';
import { t, has, lang, pick } from './i18n.js';
import { api, ApiError } from './api.js';
import {
  state, hasRole, itemsOf, loadRefData, banner, problemBanner, takeFlash, field,
  textInput, selectInput, clearFieldErrors, showProblem, setBusy, pageHead, setTitle, loadingEl,
  filterBox, filterForm, makeList,
} from './ui.js';
import {
  EVENT_TYPES, TLPS, contentAt, tlpPill, severityBadge, eventName, eventShort, levelShort, causeName,
  layerName, statusName, reportKindName, obsTypeName, obsRoleName, sectorList, listSep, timeEl, stackedTime,
  fromLocalDate, section, prop, severityTable, textBlock, observablesTable, markingPicker, audienceParts,
  isCoordinator, TIME_FIELDS, NO_AUDIENCE,
} from './reports.js';

const OPEN_STATES = ['draft', 'pending', 'approved'];
const QUEUE_STATES = ['draft', 'pending', 'approved', 'refused', 'published', 'any'];
// Free-text fields the anonymizer redacts, in the order of the report page.
const TEXT_FIELDS = ['title', 'service', 'description', 'followup'];
// Kinds an analyst may give a redaction made by hand (the placeholder's prefix).
const MANUAL_KINDS = ['', 'org', 'person', 'host', 'ip', 'email', 'phone', 'url', 'other'];
// Placeholders of the anonymizer (anon.h): "[org]", "[email-1a2b3c]".
const PLACEHOLDER = /\[(?:org|[a-z][a-z0-9_]{0,15}-[0-9a-f]{6})\]/g;

// ---------------------------------------------------------------- who may do what

/** Every content role reads the inbox (auditors read the audit log only). */
export function canReadInbox() { return ['member', 'analyst', 'org_admin', 'admin'].some(hasRole); }
/** Coordinator analysts (and the coordinator's administrators) prepare and publish releases. */
export function isCoordinatorAnalyst() { return isCoordinator() && (hasRole('analyst') || hasRole('admin')); }
/** Users of a providing organisation decide on its releases (member or org_admin role). */
export function canApprove() { return !isCoordinator() && (hasRole('member') || hasRole('org_admin')); }
function ownOrg(id) { return !!(state.me && state.me.org && state.me.org.id === id); }

export function canPrepareRelease(r) { return isCoordinatorAnalyst() && r.stage !== 'draft'; }

// ---------------------------------------------------------------- labels and small pieces

function stateName(s) { return has('rel.state.' + s) ? t('rel.state.' + s) : String(s || ''); }
function stateBadge(s) { return h('span.rel-state', { 'data-state': s || '' }, () => stateName(s)); }
function versionText(n) { return t('rel.version_n', { n }); }
function providerText(r) { return pick(r && r.content && r.content.provider) || t('rel.provider_unknown'); }

/** Release times are RFC 3339 strings; accept epoch seconds too, should a client send them. */
function iso(v) {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number') return new Date(v * 1000).toISOString();
  return String(v);
}

function fmtDate(v) {
  const d = new Date(iso(v));
  if (Number.isNaN(d.getTime())) return String(v || '');
  return new Intl.DateTimeFormat(lang() === 'ja' ? 'ja-JP' : 'en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

function ruleName(rule) {
  if (!rule || rule === 'manual') return t('rule.manual');
  if (rule.startsWith('org:')) {
    const k = 'rule.org.' + rule.slice(4);
    return has(k) ? t(k) : rule;
  }
  return has('rule.' + rule) ? t('rule.' + rule) : rule;
}

function fieldLabel(f) {
  let m = /^causes\[(\d+)\]\.detail$/.exec(f);
  if (m) return t('rel.field.cause', { n: Number(m[1]) + 1 });
  m = /^observables\[(\d+)\]\.value$/.exec(f);
  if (m) return t('rel.field.observable', { n: Number(m[1]) + 1 });
  return has('report.' + f) ? t('report.' + f) : f;
}

/** Who receives a release, as phrases (the coordinator and the provider always do). */
function releaseAudienceItems(aud) {
  const a = { ...NO_AUDIENCE, hub: false, ...(aud || {}) };
  const items = [h('li', () => t('rel.aud.coordinator_provider'))];
  if (a.hub) items.push(h('li', () => t('aud.hub_report')));
  for (const fn of audienceParts({ ...a, orgs: [] }, false)) items.push(h('li', fn));
  if (a.orgs.length) {
    items.push(h('li', tx(() => t('aud.orgs_list')), h('ul.aud-orgs', a.orgs.map((id) => h('li',
      ownOrg(id) ? tx(() => pick(state.me.org.name)) : h('code.org-id', id))))));
  }
  if (items.length === 1) items.push(h('li.muted', () => t('rel.aud.nobody_else')));
  return h('ul.aud-list', items);
}

function releaseAudienceText(aud) {
  const a = { ...NO_AUDIENCE, hub: false, ...(aud || {}) };
  const parts = audienceParts(a, a.hub, 'aud.hub_report').map((fn) => fn());
  return parts.length ? parts.join(listSep()) : t('rel.aud.nobody_else');
}

/** The TLP label across the page, as FIRST shows it (coloured on black, never translated; alerts.js too). */
export function tlpBanner(tlp) {
  const v = TLPS.includes(tlp) ? tlp : 'AMBER';
  return h('div.tlp-banner', { 'data-tlp': v, role: 'note', 'aria-label': () => t('rel.tlp_banner_label') },
    h('span.tlp-banner-label', 'TLP:' + v),
    h('span.tlp-banner-desc', () => t('tlp.desc.' + v)));
}

/** Purpose and handling, and the rule that comes with every marking. */
function handlingBox(r) {
  const id = uid('hd');
  return h('section.handling-box', { 'aria-labelledby': id },
    h('h2.handling-title', { id }, () => t('rel.handling_title')),
    h('p.handling-rule', () => t('rel.handling_rule', { tlp: 'TLP:' + (TLPS.includes(r.tlp) ? r.tlp : 'AMBER') })),
    h('dl.props.props-wide',
      prop('report.purpose', textBlock(r.purpose), !r.purpose),
      prop('report.handling', textBlock(r.handling), !r.handling)));
}

/** Release text with its placeholders marked, so a reader sees what was hidden. */
function placeholderText(s, cls) {
  const el = h('p.text-block' + (cls ? '.' + cls : ''));
  if (s === null || s === undefined || s === '') {
    el.classList.add('muted');
    bindText(el, () => t('value.empty'));
    return el;
  }
  let pos = 0;
  for (const m of String(s).matchAll(PLACEHOLDER)) {
    if (m.index > pos) el.appendChild(document.createTextNode(s.slice(pos, m.index)));
    el.appendChild(h('mark.ph', { title: () => t('rel.placeholder_title') }, m[0]));
    pos = m.index + m[0].length;
  }
  if (pos < s.length) el.appendChild(document.createTextNode(s.slice(pos)));
  return el;
}

/**
 * The release as its recipients read it: content only, no trace of the provider beyond
 * its pseudonym.
 */
function releaseBody(r) {
  const c = r.content || {};
  const main = h('div.report-main',
    section('report.sec.summary', h('dl.props.props-wide',
      prop('rel.provider', () => providerText(r)),
      prop('report.event_type', () => eventName(c.event_type)),
      prop('report.kind', () => reportKindName(c.kind)),
      prop('report.layer', () => (c.layer ? layerName(c.layer) : t('value.empty')), !c.layer),
      prop('report.sectors', () => sectorList(c.sectors)),
      prop('report.service', placeholderText(c.service), !c.service),
      prop('report.status', () => statusName(c.status)))),
    section('report.severity', severityTable(c.severity || {})),
    section('rform.sec.times', h('dl.props.props-wide', TIME_FIELDS.map((k) => prop('report.' + k, c[k] ? timeEl(c[k], true) : () => t('value.empty'), !c[k])))),
    section('report.causes', (c.causes || []).length
      ? h('ul.cause-list', c.causes.map((x) => h('li', h('span.cause-code', () => causeName(x.code)), x.detail ? placeholderText(x.detail, 'cause-detail') : null)))
      : h('p.muted', () => t('value.empty'))),
    section('report.description', placeholderText(c.description)),
    section('report.followup', placeholderText(c.followup)),
    section('report.observables', observablesTable(c.observables || [])));
  return main;
}

function releaseRecord(r) {
  return section('rel.sec.record', h('dl.props',
    prop('rel.version', () => versionText(r.version)),
    prop('rel.state', stateBadge(r.state)),
    prop('rel.published_at', r.published_at ? timeEl(iso(r.published_at), true) : () => t('rel.not_published'), !r.published_at),
    prop('rel.id', h('code.report-id', r.id))));
}

function releaseHead(r, kicker, actions) {
  setTitle(() => (r.content && r.content.title) || t('rel.page_title'));
  return h('div.page-head.report-head',
    h('div.page-head-text',
      kicker ? h('p.page-kicker', kicker) : null,
      h('div.report-title-row', tlpPill(r.tlp), h('h1.page-title', { tabindex: '-1' }, (r.content && r.content.title) || '')),
      h('ul.report-badges', { 'aria-label': () => t('report.summary') },
        h('li', stateBadge(r.state)),
        h('li.rel-version', () => versionText(r.version)),
        h('li', severityBadge(r.content && r.content.severity && r.content.severity.overall)),
        h('li.report-event', () => eventName(r.content && r.content.event_type)),
        h('li.rel-provider', () => providerText(r)))),
    actions && actions.length ? h('div.page-actions', actions) : null);
}

function problemOrUnknown(err) {
  return err instanceof ApiError ? problemBanner(err) : banner('error', () => t('problem.unknown'));
}

/** Render the current page again from the server (same hash). */
function reload() { window.dispatchEvent(new HashChangeEvent('hashchange')); }

// ---------------------------------------------------------------- inbox

export async function viewInbox(page) {
  // The same filters as the list, as a STIX 2.1 bundle (a plain download: the session cookie goes along).
  const exportLink = h('a.btn.btn-secondary', { href: '/api/v1/releases/export?format=stix', download: 'isac-releases.stix.json' }, () => t('inbox.export'));
  append(page, pageHead('inbox.title', () => t('inbox.lead'), exportLink));
  takeFlash(page);
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  const loading = loadingEl();
  page.appendChild(loading);
  await loadRefData();
  loading.remove();

  const any = { value: '', text: () => t('filter.any') };
  const qIn = textInput({ name: 'q', type: 'search', autocomplete: 'off' });
  const eventSel = selectInput([any, ...EVENT_TYPES.map((k) => ({ value: k, text: () => eventName(k) }))], { name: 'event_type' });
  const sevSel = selectInput([any, ...[1, 2, 3, 4].map((n) => ({ value: String(n), text: () => t('filter.min_level', { level: levelShort(n) }) }))], { name: 'min_severity' });
  const sectorSel = selectInput([any, ...state.sectors.map((s) => ({ value: s.code, text: () => pick(s.name) || s.code }))], { name: 'sector' });
  // TLP labels are never translated.
  const tlpSel = selectInput([any, ...TLPS.map((x) => ({ value: x, text: 'TLP:' + x }))], { name: 'tlp' });
  const sinceIn = h('input.input', { type: 'date', name: 'since' });
  const untilIn = h('input.input', { type: 'date', name: 'until' });

  const filters = filterForm(() => list.reset(), [
    field({ label: () => t('inbox.filter.q'), input: qIn, cls: 'filter-field filter-wide' }).el,
    field({ label: () => t('report.event_type'), input: eventSel, cls: 'filter-field' }).el,
    field({ label: () => t('reports.filter.min_severity'), input: sevSel, cls: 'filter-field' }).el,
    field({ label: () => t('field.sector'), input: sectorSel, cls: 'filter-field' }).el,
    field({ label: () => t('report.tlp'), input: tlpSel, cls: 'filter-field' }).el,
    field({ label: () => t('inbox.filter.since'), input: sinceIn, cls: 'filter-field' }).el,
    field({ label: () => t('inbox.filter.until'), input: untilIn, cls: 'filter-field' }).el,
  ]);
  page.appendChild(filterBox(filters));

  const list = makeList({
    caption: () => t('inbox.caption'),
    empty: () => t('inbox.empty'),
    columns: [
      { label: () => t('report.title'), cls: 'col-name', cell: (r) => h('div.name-cell',
        h('a.name-primary.report-link', { href: '#/releases/' + r.id }, (r.content && r.content.title) || r.id),
        r.version > 1 ? h('span.name-secondary', () => versionText(r.version)) : null) },
      { label: () => t('report.tlp'), cls: 'col-nowrap col-tlp', cell: (r) => tlpPill(r.tlp, true) },
      { label: () => t('report.event_type'), cls: 'col-event', cell: (r) => h('span.event-short', { title: () => eventName(r.content.event_type) }, () => eventShort(r.content.event_type)) },
      { label: () => t('report.severity_overall'), cls: 'col-nowrap', cell: (r) => severityBadge(r.content.severity && r.content.severity.overall) },
      { label: () => t('rel.provider'), cls: 'col-provider', cell: (r) => tx(() => providerText(r)) },
      { label: () => t('rel.published_at'), cls: 'col-nowrap', cell: (r) => stackedTime(iso(r.published_at)) },
    ],
    fetch: (cursor) => {
      const qs = new URLSearchParams({ format: 'stix' });
      for (const [k, v] of Object.entries(filterQuery())) if (v) qs.append(k, v);
      exportLink.setAttribute('href', '/api/v1/releases/export?' + qs.toString());
      return api('GET', '/releases', undefined, { query: { ...filterQuery(), cursor, limit: 50 } });
    },
    slot,
  });
  page.appendChild(list.el);
  await list.reset();

  function filterQuery() {
    return { q: qIn.value.trim(), event_type: eventSel.value, min_severity: sevSel.value, sector: sectorSel.value,
      tlp: tlpSel.value, since: fromLocalDate(sinceIn.value, false), until: fromLocalDate(untilIn.value, true) };
  }
}

// ---------------------------------------------------------------- work queue (coordinator)

export async function viewQueue(page, params) {
  append(page, pageHead('queue.title', () => t('queue.lead')));
  takeFlash(page);
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  let cur = QUEUE_STATES.includes(params.get('state')) ? params.get('state') : 'draft';
  const name = uid('qstate');
  const radios = QUEUE_STATES.map((s) => {
    const id = uid('qs');
    const input = h('input.seg-input', { type: 'radio', name, id, value: s, checked: s === cur,
      on: { change: () => { cur = s; history.replaceState(null, '', '#/release-queue?state=' + s); list.reset(); } } });
    return h('span.seg-item', input, h('label.seg-label', { for: id }, () => (s === 'any' ? t('queue.any') : stateName(s))));
  });
  page.appendChild(h('div.due-toolbar', h('fieldset.segmented', h('legend.seg-legend', () => t('queue.state')), h('div.seg-body', radios))));

  const list = makeList({
    caption: () => t('queue.caption'),
    empty: () => t('queue.empty'),
    columns: [
      { label: () => t('report.title'), cls: 'col-name', cell: (r) => h('div.name-cell',
        h('a.name-primary.report-link', { href: '#/releases/' + r.id }, (r.content && r.content.title) || r.id),
        r.report_id ? h('a.name-secondary', { href: '#/reports/' + r.report_id }, () => t('queue.open_report')) : null) },
      { label: () => t('rel.state'), cls: 'col-nowrap', cell: (r) => stateBadge(r.state) },
      { label: () => t('rel.version'), cls: 'col-nowrap', cell: (r) => tx(() => versionText(r.version)) },
      { label: () => t('report.tlp'), cls: 'col-nowrap col-tlp', cell: (r) => tlpPill(r.tlp, true) },
      { label: () => t('rel.provider'), cls: 'col-provider', cell: (r) => tx(() => providerText(r)) },
      { label: () => t('rel.updated_at'), cls: 'col-nowrap', cell: (r) => stackedTime(iso(r.updated_at || r.created_at)) },
    ],
    fetch: (cursor) => api('GET', '/releases', undefined, { query: { state: cur, cursor, limit: 50 } }),
    slot,
  });
  page.appendChild(list.el);
  await list.reset();
}

// ---------------------------------------------------------------- the report page: its releases

/** "Prepare release" on the report page; releasesSection() hides it while a version is open. */
export function prepareReleaseButton(r) {
  const btn = h('button.btn.btn-primary.prepare-release', { type: 'button', on: { click: go } }, () => t('rel.prepare'));
  async function go() {
    const slot = document.querySelector('.release-versions .banner-slot') || document.querySelector('.banner-slot');
    if (slot) clear(slot);
    setBusy(btn, true, 'rel.preparing', 'rel.prepare');
    try {
      const rel = await api('POST', '/reports/' + encodeURIComponent(r.id) + '/releases', {});
      state.flash = { kind: 'success', text: () => t('rel.prepared', { n: rel.version }) };
      location.hash = '#/releases/' + rel.id;
    } catch (err) {
      setBusy(btn, false, 'rel.preparing', 'rel.prepare');
      if (slot && !(err instanceof ApiError && err.status === 401)) {
        slot.appendChild(err instanceof ApiError && err.status === 409 ? banner('error', () => t('rel.prepare_conflict')) : problemOrUnknown(err));
        slot.scrollIntoView({ block: 'nearest' });
      }
    }
  }
  return btn;
}

/**
 * The report's release versions with their states (coordinator and provider). Returns
 * null for everyone else and for drafts.
 */
export function releasesSection(r, prepareBtn) {
  const mine = ownReport(r);
  if (r.stage === 'draft' || !(isCoordinator() || mine)) return null;
  const id = uid('rv');
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  const body = h('div.release-versions-body', loadingEl());
  const el = h('section.release-versions', { 'aria-labelledby': id },
    h('h2.section-title', { id }, () => t('rel.versions_title')),
    h('p.section-lead', () => t(mine ? 'rel.versions_lead_provider' : 'rel.versions_lead')),
    slot, body);
  (async () => {
    let items = [];
    try {
      items = itemsOf(await api('GET', '/reports/' + encodeURIComponent(r.id) + '/releases'));
    } catch (err) {
      clear(body);
      if (!(err instanceof ApiError && err.status === 401)) slot.appendChild(problemOrUnknown(err));
      return;
    }
    clear(body);
    const open = items.find((x) => OPEN_STATES.includes(x.state));
    if (prepareBtn && open) {
      prepareBtn.hidden = true;
      prepareBtn.after(h('a.btn.btn-secondary', { href: '#/releases/' + open.id }, () => t('rel.open_current', { n: open.version })));
    }
    if (!items.length) {
      body.appendChild(h('p.empty', () => t(mine ? 'rel.versions_none_provider' : 'rel.versions_none')));
      return;
    }
    items.sort((a, b) => b.version - a.version);
    body.appendChild(h('div.table-wrap', h('table.table.table-compact.release-table',
      h('caption.visually-hidden', () => t('rel.versions_title')),
      h('thead', h('tr', ['rel.version', 'rel.state', 'report.tlp', 'rel.audience', 'rel.created_at', 'rel.published_at']
        .map((k) => h('th', { scope: 'col' }, () => t(k))))),
      h('tbody', items.map((x) => h('tr',
        h('td.col-nowrap', { 'data-label': () => t('rel.version') }, h('a.report-link', { href: '#/releases/' + x.id }, () => versionText(x.version))),
        h('td.col-nowrap', { 'data-label': () => t('rel.state') }, stateBadge(x.state)),
        h('td.col-nowrap', { 'data-label': () => t('report.tlp') }, tlpPill(x.tlp, true)),
        h('td', { 'data-label': () => t('rel.audience') }, () => releaseAudienceText(x.audience)),
        h('td.col-nowrap', { 'data-label': () => t('rel.created_at') }, stackedTime(iso(x.created_at))),
        h('td.col-nowrap', { 'data-label': () => t('rel.published_at') }, x.published_at ? stackedTime(iso(x.published_at)) : h('span.muted', () => t('value.none')))))))));
  })();
  return el;
}

function ownReport(r) { return ownOrg(r.org_id); }

// ---------------------------------------------------------------- the release page

export async function viewRelease(page, params, id) {
  const loading = loadingEl();
  page.appendChild(loading);
  setTitle(() => t('rel.page_title'));
  const [r] = await Promise.all([api('GET', '/releases/' + encodeURIComponent(id)), loadRefData()]);
  loading.remove();
  page.classList.add('page-report', 'page-release');
  const full = Array.isArray(r.redactions);
  if (full && isCoordinator()) return analystView(page, r);
  if (full && ownOrg(r.org_id)) return providerView(page, r);
  return recipientView(page, r);
}

function recipientView(page, r) {
  page.appendChild(releaseHead(r, h('a', { href: '#/inbox' }, '← ', tx(() => t('inbox.title')))));
  takeFlash(page);
  page.appendChild(tlpBanner(r.tlp));
  page.appendChild(handlingBox(r));
  page.appendChild(h('div.report-grid', releaseBody(r), h('div.report-side', releaseRecord(r))));
}

// ---------------------------------------------------------------- provider: approve or refuse

function providerView(page, r) {
  page.appendChild(releaseHead(r, h('a', { href: '#/approvals' }, '← ', tx(() => t('appr.title')))));
  takeFlash(page);
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  page.appendChild(slot);
  // The decision comes after the text it is about; the note on top says where it is.
  const panel = r.state === 'pending' && canApprove() ? decisionPanel(r, slot) : null;
  if (panel) {
    const jump = h('button.btn.btn-secondary.btn-small', { type: 'button', on: { click: () => { panel.scrollIntoView({ block: 'start' }); panel.querySelector('h2').focus(); } } }, () => t('appr.jump'));
    page.appendChild(h('div.state-note', banner('info', () => t('rel.note.provider.pending'), h('div.banner-detail.banner-actions', tx(() => t('appr.review_below')), jump))));
  } else {
    page.appendChild(stateNote(r, 'provider'));
  }

  const id = uid('pv');
  page.appendChild(h('section.release-preview', { 'aria-labelledby': id },
    h('h2.section-title', { id }, () => t('rel.preview_title')),
    h('p.section-lead', () => t('rel.preview_lead_provider')),
    audienceCard(r),
    tlpBanner(r.tlp),
    handlingBox(r),
    h('div.report-grid', releaseBody(r), h('div.report-side', releaseRecord(r), hiddenCard(r)))));
  if (panel) page.appendChild(panel);
  page.appendChild(consentSection(r, 'provider'));
}

/** Who will receive it (the provider consents to this as much as to the text). */
function audienceCard(r) {
  return section('rel.audience_title', h('dl.props.props-wide', prop('rel.audience', releaseAudienceItems(r.audience))));
}

/** Approve (with an optional note) or refuse (a reason is required): one text, two buttons. */
function decisionPanel(r, slot) {
  const reg = new Map();
  const noteIn = h('textarea.input.textarea', { name: 'note', rows: 3, maxlength: 1000 });
  const fNote = field({ label: () => t('appr.note'), input: noteIn, optional: true, hint: () => t('appr.note_hint'), reg, name: 'note' });
  reg.set('reason', fNote);
  const errSlot = h('div.banner-slot');
  const approve = h('button.btn.btn-primary', { type: 'button', on: { click: () => decide('approve') } }, () => t('appr.approve'));
  const refuse = h('button.btn.btn-danger', { type: 'button', on: { click: () => decide('refuse') } }, () => t('appr.refuse'));
  const panel = h('section.action-panel.decision-panel', { 'aria-labelledby': 'decide-h' },
    h('h2.panel-title#decide-h', { tabindex: '-1' }, () => t('appr.panel_title')),
    h('p.panel-text', () => t('appr.panel_text')),
    h('ul.decision-checks', ['appr.check_names', 'appr.check_hosts', 'appr.check_marking'].map((k) => h('li', () => t(k)))),
    errSlot, fNote.el,
    h('div.form-actions', approve, refuse));

  async function decide(kind) {
    clearFieldErrors(reg);
    clear(errSlot);
    const text = noteIn.value.trim();
    if (kind === 'refuse' && !text) {
      showProblem(new ApiError(422, { errors: [{ field: 'reason', reason: 'required' }] }), reg, errSlot);
      clear(errSlot);
      errSlot.appendChild(banner('error', () => t('appr.reason_needed')));
      noteIn.focus();
      return;
    }
    const body = kind === 'approve' ? (text ? { note: text } : {}) : { reason: text };
    const btn = kind === 'approve' ? approve : refuse;
    approve.disabled = true; refuse.disabled = true;
    setBusy(btn, true, 'form.saving', kind === 'approve' ? 'appr.approve' : 'appr.refuse');
    try {
      await api('POST', '/releases/' + encodeURIComponent(r.id) + '/' + kind, body);
      state.flash = { kind: 'success', text: () => t(kind === 'approve' ? 'appr.approved' : 'appr.refused') };
      reload();
    } catch (err) {
      approve.disabled = false; refuse.disabled = false;
      setBusy(btn, false, 'form.saving', kind === 'approve' ? 'appr.approve' : 'appr.refuse');
      if (err instanceof ApiError && err.status === 409) { errSlot.appendChild(banner('error', () => t('rel.state_changed'))); return; }
      showProblem(err, reg, errSlot);
    }
  }
  return panel;
}

/** TLP, audience, purpose and handling: what the provider agrees to. */
function markingCard(r) {
  return section('rel.sec.marking', h('dl.props.props-wide',
    prop('report.tlp', h('span.tlp-line', tlpPill(r.tlp), ' ', h('span.tlp-desc', () => t('tlp.desc.' + (TLPS.includes(r.tlp) ? r.tlp : 'AMBER'))))),
    prop('rel.audience', releaseAudienceItems(r.audience)),
    prop('report.purpose', textBlock(r.purpose), !r.purpose),
    prop('report.handling', textBlock(r.handling), !r.handling)));
}

/** What was hidden, for the provider: each original text and what replaced it. */
function hiddenCard(r) {
  const reds = r.redactions || [];
  const id = uid('hid');
  return h('section.card.report-section', { 'aria-labelledby': id },
    h('h2.card-title', { id }, () => t('rel.hidden_title')),
    reds.length
      ? h('details.hidden-list', h('summary', () => t('rel.hidden_summary', { n: reds.length })),
        h('ul.hidden-items', reds.map((x) => h('li',
          h('span.hidden-field', () => fieldLabel(x.field)),
          h('span.hidden-pair', h('del.hidden-orig', x.original), ' → ', x.placeholder ? h('mark.ph', x.placeholder) : h('span.muted', () => t('rel.removed')))))))
      : h('p.muted', () => t('rel.hidden_none')));
}

function stateNote(r, who) {
  const key = 'rel.note.' + who + '.' + r.state;
  const extra = [];
  if (r.decision_note && (r.state === 'refused' || r.state === 'approved' || r.state === 'published')) {
    extra.push(h('p.banner-detail', tx(() => t(r.state === 'refused' ? 'rel.refusal_reason' : 'rel.decision_note')), ' ', h('span.text-block', r.decision_note)));
  }
  if (r.decided_at) extra.push(h('p.banner-detail.muted', () => t('rel.decided_at'), ' ', timeEl(iso(r.decided_at), true)));
  const kind = r.state === 'refused' ? 'error' : r.state === 'published' || r.state === 'approved' ? 'success' : 'info';
  return h('div.state-note', banner(kind, () => (has(key) ? t(key) : stateName(r.state)), extra.length ? extra : null));
}

// ---------------------------------------------------------------- coordinator analyst

async function analystView(page, r0) {
  const report = await api('GET', '/reports/' + encodeURIComponent(r0.report_id));
  const original = report.revision === r0.report_revision ? { ...report } : contentAt(report, r0.report_revision);
  const canEdit = isCoordinatorAnalyst();
  let r = r0;
  const headSlot = h('div');
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  const noteSlot = h('div');
  const panel = h('div.action-panel-slot');
  const editorSlot = h('div');
  const markingSlot = h('div');
  const consentSlot = h('div');
  const previewSlot = h('div');
  append(page, [headSlot]);
  takeFlash(page);
  append(page, [slot, noteSlot, panel, editorSlot, markingSlot, consentSlot, previewSlot]);
  render();

  function render() {
    clear(headSlot);
    const kicker = h('a', { href: '#/reports/' + r.report_id }, '← ', report.title);
    headSlot.appendChild(releaseHead(r, kicker, canEdit ? stateActions() : []));
    clear(noteSlot);
    noteSlot.appendChild(analystNote());
    clear(editorSlot);
    editorSlot.appendChild(redactionEditor(r, original, canEdit && editable(), apply));
    clear(markingSlot);
    markingSlot.appendChild(markingEditor());
    clear(consentSlot);
    consentSlot.appendChild(consentSection(r, canEdit ? 'analyst' : 'view'));
    clear(previewSlot);
    const pid = uid('pv');
    previewSlot.appendChild(h('section.release-preview', { 'aria-labelledby': pid },
      h('details.preview-details',
        h('summary.preview-summary', h('h2.section-title', { id: pid }, () => t('rel.preview_title')), h('span.details-hint', () => t('rel.preview_hint'))),
        tlpBanner(r.tlp), handlingBox(r),
        h('div.report-grid', releaseBody(r), h('div.report-side', releaseRecord(r))))));
  }

  function editable() { return r.state === 'draft' || r.state === 'refused'; }

  function analystNote() {
    const extra = [];
    if (r.state === 'pending') extra.push(h('p.banner-detail', () => t('rel.note.analyst.pending_org', { org: pick(report.org_name) })));
    const note = stateNote(r, 'analyst');
    if (extra.length) note.querySelector('.banner').append(...extra);
    return note;
  }

  function stateActions() {
    const out = [];
    if (r.state === 'draft') out.push(actionButton('rel.submit', 'submit', 'rel.submitted'));
    if (r.state === 'approved') out.push(actionButton('rel.publish', 'publish', 'rel.published'));
    if (r.state === 'published') {
      out.push(h('button.btn.btn-secondary', { type: 'button', on: { click: openWithdraw } }, () => t('rel.withdraw')));
    }
    if (r.state !== 'withdrawn' && r.state !== 'superseded') {
      out.push(h('button.btn.btn-secondary', { type: 'button', on: { click: openConsent } }, () => t('rel.widen')));
    }
    return out;
  }

  function actionButton(key, path, doneKey) {
    const btn = h('button.btn.btn-primary', { type: 'button', 'data-action': path, on: { click: go } }, () => t(key));
    async function go() {
      clear(slot);
      setBusy(btn, true, 'form.saving', key);
      try {
        const res = await api('POST', '/releases/' + encodeURIComponent(r.id) + '/' + path, {});
        const pre = path === 'submit' && res && res.state === 'approved';
        state.flash = { kind: 'success', text: () => t(pre ? 'rel.submitted_preapproved' : doneKey) };
        reload();
      } catch (err) {
        setBusy(btn, false, 'form.saving', key);
        if (err instanceof ApiError && err.status === 409) { slot.appendChild(banner('error', () => t('rel.state_changed'))); return; }
        slot.appendChild(problemOrUnknown(err));
      }
    }
    return btn;
  }

  /** Send a new list of redactions; on success the page shows the new release text. */
  async function apply(list, doneText) {
    const body = { redactions: list.map((x) => {
      const o = { field: x.field, start: x.start, end: x.end };
      for (const k of ['id', 'original', 'rule', 'kind']) if (x[k] !== undefined && x[k] !== null && x[k] !== '') o[k] = x[k];
      return o;
    }) };
    r = await api('PATCH', '/releases/' + encodeURIComponent(r.id), body);
    render();
    clear(slot);
    // The message goes where the analyst is working (the editor's status line, announced);
    // the page stays where it was.
    const status = editorSlot.querySelector('.redact-status');
    if (doneText && status) status.appendChild(banner('success', doneText(r)));
    const head = editorSlot.querySelector('.redaction-editor .section-title');
    if (head) head.focus({ preventScroll: true });
  }

  function openWithdraw() {
    clear(panel);
    clear(slot);
    const reg = new Map();
    const reasonIn = h('textarea.input.textarea', { name: 'reason', rows: 3 });
    const fReason = field({ label: () => t('rel.withdraw_reason'), input: reasonIn, hint: () => t('rel.withdraw_hint'), reg, name: 'reason' });
    const errSlot = h('div.banner-slot');
    const go = h('button.btn.btn-danger', { type: 'submit' }, () => t('rel.withdraw'));
    const form = h('form.action-panel', { novalidate: true, 'aria-labelledby': 'wd-h', on: { submit: onGo } },
      h('h2.panel-title#wd-h', { tabindex: '-1' }, () => t('rel.withdraw_title')),
      h('p.panel-text', () => t('rel.withdraw_text')),
      errSlot, fReason.el,
      h('div.form-actions', go, h('button.btn.btn-quiet', { type: 'button', on: { click: () => clear(panel) } }, () => t('form.cancel'))));
    panel.appendChild(form);
    reasonIn.focus();
    async function onGo(ev) {
      ev.preventDefault();
      clearFieldErrors(reg);
      clear(errSlot);
      setBusy(go, true, 'form.saving', 'rel.withdraw');
      try {
        await api('POST', '/releases/' + encodeURIComponent(r.id) + '/withdraw', { reason: reasonIn.value.trim() });
        state.flash = { kind: 'success', text: () => t('rel.withdrawn') };
        reload();
      } catch (err) {
        setBusy(go, false, 'form.saving', 'rel.withdraw');
        showProblem(err, reg, errSlot);
      }
    }
  }

  function openConsent() {
    clear(panel);
    clear(slot);
    const reg = new Map();
    const marking = releaseMarkingPicker(r, reg);
    marking.open(true);
    const reasonIn = h('textarea.input.textarea', { name: 'reason', rows: 3 });
    const fReason = field({ label: () => t('rel.widen_reason'), input: reasonIn, hint: () => t('rel.widen_reason_hint'), reg, name: 'reason' });
    const errSlot = h('div.banner-slot');
    const go = h('button.btn.btn-primary', { type: 'submit' }, () => t('rel.widen_send'));
    const form = h('form.action-panel.consent-panel', { novalidate: true, 'aria-labelledby': 'wr-h', on: { submit: onGo } },
      h('h2.panel-title#wr-h', { tabindex: '-1' }, () => t('rel.widen_title')),
      h('p.panel-text', () => t('rel.widen_text')),
      errSlot, marking.el, fReason.el,
      h('div.form-actions', go, h('button.btn.btn-quiet', { type: 'button', on: { click: () => clear(panel) } }, () => t('form.cancel'))));
    panel.appendChild(form);
    form.querySelector('h2').focus();
    async function onGo(ev) {
      ev.preventDefault();
      marking.registerOrgs();
      clearFieldErrors(reg);
      clear(errSlot);
      const m = marking.collect();
      const body = { audience: m.audience, reason: reasonIn.value.trim() };
      if (m.tlp !== r.tlp) body.tlp = m.tlp;
      setBusy(go, true, 'form.saving', 'rel.widen_send');
      try {
        await api('POST', '/releases/' + encodeURIComponent(r.id) + '/audience-requests', body);
        state.flash = { kind: 'success', text: () => t('rel.widen_sent') };
        reload();
      } catch (err) {
        setBusy(go, false, 'form.saving', 'rel.widen_send');
        showProblem(err, reg, errSlot);
        marking.orgLineErrors(err);
      }
    }
  }

  /** TLP and audience may only narrow (and purpose/handling change) without the provider. */
  function markingEditor() {
    const id = uid('mk');
    const sec = h('section.release-marking', { 'aria-labelledby': id },
      h('h2.section-title', { id }, () => t('rel.sec.marking')));
    const published = r.state === 'published';
    if (!canEdit || !(editable() || published)) {
      sec.appendChild(markingCard(r));
      return sec;
    }
    sec.appendChild(h('p.section-lead', () => t(published ? 'rel.marking_lead_published' : 'rel.marking_lead')));
    const reg = new Map();
    const mslot = h('div.banner-slot', { 'aria-live': 'polite' });
    const marking = releaseMarkingPicker(r, reg);
    if (published) {
      // What the server would refuse is not offered: only the audience changes now.
      for (const x of marking.el.querySelectorAll('input[type="radio"], textarea[name="purpose"], textarea[name="handling"]')) x.disabled = true;
    }
    const save = h('button.btn.btn-secondary', { type: 'submit' }, () => t('rel.marking_save'));
    const form = h('form.form.release-marking-form', { novalidate: true, on: { submit: onSave } },
      mslot, marking.el, h('div.form-actions', save));
    sec.appendChild(form);
    async function onSave(ev) {
      ev.preventDefault();
      marking.registerOrgs();
      clearFieldErrors(reg);
      clear(mslot);
      const m = marking.collect();
      const body = published ? { audience: m.audience } : m;
      setBusy(save, true, 'form.saving', 'rel.marking_save');
      try {
        r = await api('PATCH', '/releases/' + encodeURIComponent(r.id), body);
        render();
        clear(slot);
        slot.appendChild(banner('success', () => t('rel.marking_saved')));
        slot.scrollIntoView({ block: 'nearest' });
      } catch (err) {
        setBusy(save, false, 'form.saving', 'rel.marking_save');
        marking.open(true);
        showProblem(err, reg, mslot);
        marking.orgLineErrors(err);
      }
    }
    return sec;
  }
}

/**
 * The report form's TLP/audience picker, worded for a release: "hub" is the provider's
 * sector hub. collect() returns {audience (with hub), tlp, purpose, handling}.
 */
function releaseMarkingPicker(r, reg) {
  const aud = { ...NO_AUDIENCE, hub: false, ...(r.audience || {}) };
  const cur = { share_with_hub: aud.hub, audience: aud, tlp: r.tlp, purpose: r.purpose, handling: r.handling };
  const m = markingPicker(cur, reg, false, { shareKey: 'rel.aud_hub_label', hintKey: 'rel.aud_hint', hubKey: 'aud.hub_report' });
  reg.set('audience.hub', reg.get('share_with_hub'));
  return {
    ...m,
    collect() {
      const c = m.collect();
      return { ...c, audience: { hub: m.shareCb.checked, ...c.audience } };
    },
  };
}

// ---------------------------------------------------------------- the redaction editor

const utf8 = new TextEncoder();
function byteLen(s) { return utf8.encode(s).length; }

/** The index in s (UTF-16) where the UTF-8 prefix reaches `bytes` bytes. */
function indexAtByte(s, bytes) {
  let b = 0;
  let i = 0;
  while (i < s.length && b < bytes) {
    const cp = s.codePointAt(i);
    b += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp > 0xffff ? 2 : 1;
  }
  return i;
}

/** The redactable text fields of a report revision: [{field, text}]. */
function textFieldsOf(c) {
  const out = [];
  for (const f of TEXT_FIELDS) if (typeof c[f] === 'string' && c[f]) out.push({ field: f, text: c[f] });
  (c.causes || []).forEach((x, i) => { if (x && x.detail) out.push({ field: `causes[${i}].detail`, text: x.detail }); });
  return out;
}

/** Fields in the order the page shows them: text fields, causes, observables. */
function fieldRank(f) {
  const i = TEXT_FIELDS.indexOf(f);
  if (i >= 0) return i;
  const m = /^(causes|observables)\[(\d+)\]/.exec(f);
  if (!m) return 1e6;
  return (m[1] === 'causes' ? 100 : 10000) + Number(m[2]);
}

function releaseValue(content, f) {
  const m = /^causes\[(\d+)\]\.detail$/.exec(f);
  if (m) { const x = (content.causes || [])[Number(m[1])]; return x ? x.detail : null; }
  return content[f];
}

/**
 * For each field: the provider's original with the redacted spans marked, next to the
 * release text. Text selected in an original can be hidden ("add a redaction"; offsets
 * are UTF-8 bytes into the original, as the API counts), any redaction undone, and a
 * word hidden wherever it occurs. apply(list, doneText) sends the whole new list.
 */
function redactionEditor(r, original, editable, apply) {
  const reds = (r.redactions || []).slice().sort((a, b) => fieldRank(a.field) - fieldRank(b.field) || a.start - b.start);
  const fields = textFieldsOf(original);
  const texts = new Map(fields.map((x) => [x.field, x.text]));
  const id = uid('red');
  const slot = h('div.banner-slot.redact-status', { 'aria-live': 'polite' });
  let pending = null;

  async function send(list, doneText, btn) {
    clear(slot);
    if (btn) btn.disabled = true;
    try {
      await apply(list, doneText);
    } catch (err) {
      if (btn) btn.disabled = false;
      if (err instanceof ApiError && err.status === 409) { slot.appendChild(banner('error', () => t('rel.state_changed'))); return; }
      showProblem(err, new Map(), slot);
    }
  }

  function undo(x, btn) {
    const orig = x.original;
    send(reds.filter((y) => y !== x), () => () => t('rel.undone', { text: short(orig) }), btn);
  }

  function add(entries, btn) {
    const kind = kindSel.value;
    const list = reds.concat(entries.map((e) => (kind ? { ...e, kind } : e)));
    const first = entries[0];
    send(list, (nr) => () => {
      const made = (nr.redactions || []).find((y) => y.field === first.field && y.start === first.start);
      return entries.length > 1 ? t('rel.added_n', { n: entries.length, text: short(first.original) })
        : t('rel.added', { text: short(first.original), ph: made && made.placeholder ? made.placeholder : '…' });
    }, btn);
  }

  // -- the fields, original beside release
  const rows = fields.map(({ field: f, text }) => {
    const mine = reds.filter((x) => x.field === f);
    const orig = h('p.text-block.redact-text', { 'data-field': f });
    let pos = 0;
    for (const x of mine) {
      const a = indexAtByte(text, x.start);
      const b = indexAtByte(text, x.end);
      if (a < pos || b <= a) continue;
      if (a > pos) orig.appendChild(document.createTextNode(text.slice(pos, a)));
      orig.appendChild(h('mark.redact-span', { 'data-rid': x.id, title: () => (x.placeholder || '') + ' · ' + ruleName(x.rule) }, text.slice(a, b)));
      pos = b;
    }
    if (pos < text.length) orig.appendChild(document.createTextNode(text.slice(pos)));
    return h('div.redact-field',
      h('h3.redact-field-title', () => fieldLabel(f), mine.length ? h('span.section-count', () => t('rel.n_hidden', { n: mine.length })) : null),
      h('div.redact-cols',
        h('div.redact-col.redact-col-orig', h('p.redact-col-label', () => t('rel.col_original')), orig),
        h('div.redact-col.redact-col-rel', h('p.redact-col-label', () => t('rel.col_release')), placeholderText(releaseValue(r.content || {}, f), 'redact-result'))));
  });

  // -- the selection toolbar
  const kindSel = selectInput(MANUAL_KINDS.map((k) => ({ value: k, text: () => t('rel.kind.' + (k || 'auto')) })), { name: 'kind' });
  const selText = h('p.redact-selection');
  const addBtn = h('button.btn.btn-primary.btn-small.redact-add', { type: 'button', disabled: true,
    // Keep the text selection: a press on the button must not clear it before the click.
    on: { mousedown: (e) => e.preventDefault(), click: () => { if (pending && !pending.overlap) add([{ field: pending.field, start: pending.start, end: pending.end, original: pending.text }], addBtn); } } },
  () => t('rel.add_selection'));
  const findIn = textInput({ name: 'find', autocomplete: 'off', spellcheck: 'false' });
  const findBtn = h('button.btn.btn-secondary.btn-small', { type: 'button', on: { click: hideEverywhere } }, () => t('rel.find_hide'));
  findIn.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); hideEverywhere(); } });
  const fFind = field({ label: () => t('rel.find_label'), input: findIn, hint: () => t('rel.find_hint') });
  const fKind = field({ label: () => t('rel.kind_label'), input: kindSel, cls: 'redact-kind' });
  const toolbar = editable ? h('div.redact-toolbar', { role: 'group', 'aria-label': () => t('rel.toolbar') },
    slot,
    h('div.redact-toolbar-sel', selText, addBtn),
    h('div.redact-toolbar-more', fKind.el, h('div.redact-find', fFind.el, findBtn))) : null;
  updateSelection(null);

  function updateSelection(p) {
    pending = p;
    addBtn.disabled = !p || !!p.overlap;
    if (!p) bindText(selText, () => t('rel.select_hint'));
    else if (p.overlap) bindText(selText, () => t('rel.selection_overlap', { text: short(p.text) }));
    else bindText(selText, () => t('rel.selection', { text: short(p.text), field: fieldLabel(p.field) }));
    selText.classList.toggle('has-selection', !!p && !p.overlap);
  }

  function onSelection() {
    if (!el.isConnected) { document.removeEventListener('selectionchange', onSelection); return; }
    const sel = document.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) { updateSelection(null); return; }
    const range = sel.getRangeAt(0);
    // One field at a time; a selection running past either end of it is cut there.
    const boxes = [...el.querySelectorAll('.redact-text')].filter((b) => range.intersectsNode(b));
    if (boxes.length !== 1) { updateSelection(null); return; }
    const box = boxes[0];
    const f = box.dataset.field;
    const text = texts.get(f) || '';
    const upTo = (node, offset) => {
      const pre = document.createRange();
      pre.selectNodeContents(box);
      pre.setEnd(node, offset);
      return pre.toString().length;
    };
    let a = box.contains(range.startContainer) ? upTo(range.startContainer, range.startOffset) : 0;
    let b = box.contains(range.endContainer) ? upTo(range.endContainer, range.endOffset) : text.length;
    // Whitespace at either end is never worth a placeholder; nor may a pair be split.
    while (a < b && /\s/.test(text[a])) a += 1;
    while (b > a && /\s/.test(text[b - 1])) b -= 1;
    if (a > 0 && /[\udc00-\udfff]/.test(text[a] || '')) a -= 1;
    if (b < text.length && /[\udc00-\udfff]/.test(text[b] || '')) b += 1;
    if (a >= b) { updateSelection(null); return; }
    const start = byteLen(text.slice(0, a));
    const end = byteLen(text.slice(0, b));
    const overlap = reds.some((x) => x.field === f && x.start < end && start < x.end);
    updateSelection({ field: f, start, end, text: text.slice(a, b), overlap });
  }

  /** Every occurrence of the typed text in every field, less those already hidden. */
  function hideEverywhere() {
    clear(slot);
    const needle = findIn.value.trim();
    if (!needle) { findIn.focus(); return; }
    const entries = [];
    for (const { field: f, text } of fields) {
      let i = text.indexOf(needle);
      while (i >= 0) {
        const start = byteLen(text.slice(0, i));
        const end = start + byteLen(needle);
        const clash = reds.some((x) => x.field === f && x.start < end && start < x.end)
          || entries.some((x) => x.field === f && x.start < end && start < x.end);
        if (!clash) entries.push({ field: f, start, end, original: needle });
        i = text.indexOf(needle, i + needle.length);
      }
    }
    if (!entries.length) {
      slot.appendChild(banner('info', () => t('rel.find_none', { text: short(needle) })));
      return;
    }
    add(entries, findBtn);
  }

  // -- observables: kept or removed, and why
  const obs = original.observables || [];
  const obsTable = obs.length ? h('div.table-wrap.table-wrap-flat', h('table.table.table-compact.obs-table.redact-obs',
    h('caption.visually-hidden', () => t('report.observables')),
    h('thead', h('tr', ['rform.obs_type', 'rform.obs_value', 'rform.obs_role', 'rel.obs_in_release', ...(editable ? ['rel.col_action'] : [])].map((k) => h('th', { scope: 'col' }, () => t(k))))),
    h('tbody', obs.map((o, i) => {
      const f = `observables[${i}].value`;
      const red = reds.find((x) => x.field === f);
      const victim = o.role === 'victim';
      const status = red ? h('span.obs-removed', () => t('rel.obs_removed_by', { rule: ruleName(red.rule) }))
        : victim ? h('span.obs-removed', () => t('rel.obs_removed_victim')) : h('span.obs-kept', () => t('rel.obs_kept'));
      let action = null;
      if (editable && red) {
        action = h('button.btn.btn-quiet.btn-small', { type: 'button', 'aria-label': () => t('rel.undo_n', { text: o.value }), on: { click: (e) => undo(red, e.currentTarget) } }, () => t('rel.undo'));
      } else if (editable && !victim) {
        action = h('button.btn.btn-quiet.btn-small', { type: 'button', 'aria-label': () => t('rel.obs_remove_n', { text: o.value }),
          on: { click: (e) => add([{ field: f, start: 0, end: byteLen(o.value), original: o.value }], e.currentTarget) } }, () => t('rel.obs_remove'));
      }
      return h('tr', { class: red || victim ? 'obs-row-removed' : '' },
        h('td.col-nowrap', { 'data-label': () => t('rform.obs_type') }, () => obsTypeName(o.type)),
        h('td.obs-value', { 'data-label': () => t('rform.obs_value') }, h('code', o.value)),
        h('td.col-nowrap', { 'data-label': () => t('rform.obs_role') }, () => obsRoleName(o.role)),
        h('td', { 'data-label': () => t('rel.obs_in_release') }, status),
        editable ? h('td.col-nowrap', { 'data-label': () => t('rel.col_action') }, action) : null);
    })))) : null;

  // -- the list of redactions
  const listId = uid('rl');
  const listTable = reds.length ? h('div.table-wrap', h('table.table.table-compact.redact-list',
    h('caption.visually-hidden', () => t('rel.list_title')),
    h('thead', h('tr', ['rel.col_field', 'rel.col_hidden', 'rel.col_placeholder', 'rel.col_rule', ...(editable ? ['rel.col_action'] : [])].map((k) => h('th', { scope: 'col' }, () => t(k))))),
    h('tbody', reds.map((x) => h('tr', { 'data-rid': x.id },
      h('td.col-nowrap', { 'data-label': () => t('rel.col_field') }, () => fieldLabel(x.field)),
      h('td.redact-orig-cell', { 'data-label': () => t('rel.col_hidden') }, h('span.redact-orig', x.original)),
      h('td.col-nowrap', { 'data-label': () => t('rel.col_placeholder') }, x.placeholder ? h('code.ph-code', x.placeholder) : h('span.muted', () => t('rel.removed'))),
      h('td', { 'data-label': () => t('rel.col_rule') }, h('div.rule-cell', h('span.rule-name', () => ruleName(x.rule)),
        // A custom rule has no name of its own in the UI: its id says which one it was.
        x.rule && !x.rule.startsWith('org:') && x.rule !== 'manual' && !has('rule.' + x.rule) ? h('code.rule-id', x.rule) : null)),
      editable ? h('td.col-nowrap', { 'data-label': () => t('rel.col_action') },
        h('button.btn.btn-quiet.btn-small.redact-undo', { type: 'button', 'aria-label': () => t('rel.undo_n', { text: x.original }), on: { click: (e) => undo(x, e.currentTarget) } }, () => t('rel.undo')))
        : null))))) : h('p.empty', () => t('rel.list_empty'));

  const el = h('section.redaction-editor', { 'aria-labelledby': id },
    h('h2.section-title', { id, tabindex: '-1' }, () => t('rel.editor_title'), h('span.section-count', () => t('rel.n_hidden', { n: reds.length }))),
    h('p.section-lead', () => t(editable ? 'rel.editor_lead' : 'rel.editor_lead_ro')),
    toolbar || slot,
    h('div.redact-fields', rows.length ? rows : h('p.muted', () => t('rel.no_text'))),
    obsTable ? h('div.redact-field', h('h3.redact-field-title', () => t('report.observables')), obsTable) : null,
    h('h3.redact-list-title', { id: listId, tabindex: '-1' }, () => t('rel.list_title')),
    listTable);
  if (editable) document.addEventListener('selectionchange', onSelection);
  return el;
}

function short(s) {
  const x = String(s || '');
  return x.length > 40 ? x.slice(0, 39) + '…' : x;
}

// ---------------------------------------------------------------- consent requests

/**
 * A release's requests to widen its audience: the analyst sees them, the provider also
 * decides the pending ones here.
 */
function consentSection(r, who) {
  const id = uid('cr');
  const body = h('div.consent-body', loadingEl());
  const sec = h('section.consent-section', { 'aria-labelledby': id },
    h('h2.section-title', { id }, () => t('consent.title')),
    h('p.section-lead', () => t(who === 'provider' ? 'consent.lead_provider' : 'consent.lead')),
    body);
  (async () => {
    let items = [];
    try {
      items = itemsOf(await api('GET', '/releases/' + encodeURIComponent(r.id) + '/audience-requests'));
    } catch (err) {
      clear(body);
      if (!(err instanceof ApiError && err.status === 401)) body.appendChild(problemOrUnknown(err));
      return;
    }
    clear(body);
    if (!items.length) { sec.hidden = who === 'provider'; body.appendChild(h('p.muted', () => t('consent.none'))); return; }
    items.sort((a, b) => String(b.requested_at).localeCompare(String(a.requested_at)));
    for (const q of items) body.appendChild(consentCard(q, r, who === 'provider', true));
  })();
  return sec;
}

/** One request; `onPage`: shown on its release's own page (no link to itself). */
function consentCard(q, rel, canDecide, onPage) {
  const id = uid('cq');
  let title;
  if (onPage) title = h('h3.consent-title', { id }, () => t('consent.request_at', { at: fmtDate(q.requested_at) }));
  else if (rel && rel.content) title = h('h3.consent-title', { id }, h('a', { href: '#/releases/' + q.release_id }, rel.content.title, tx(() => t('paren', { x: versionText(rel.version) }))));
  else title = h('h3.consent-title', { id }, h('a', { href: '#/releases/' + q.release_id }, () => t('consent.release_link')));
  const el = h('article.consent-card', { 'aria-labelledby': id, 'data-state': q.state },
    h('div.consent-head',
      title,
      h('span.consent-state', { 'data-state': q.state }, () => t('consent.state.' + q.state)),
      onPage ? null : h('span.consent-at', timeEl(iso(q.requested_at), true))),
    h('div.consent-compare',
      h('div.consent-side', h('p.redact-col-label', () => t('consent.now')),
        rel && rel.audience ? releaseAudienceItems(rel.audience) : h('p.muted', () => t('value.none')),
        rel ? h('p.consent-tlp', tlpPill(rel.tlp, true)) : null),
      h('div.consent-side.consent-side-new', h('p.redact-col-label', () => t('consent.requested')),
        releaseAudienceItems(q.audience),
        h('p.consent-tlp', q.tlp ? tlpPill(q.tlp, true) : h('span.muted', () => t('consent.tlp_same'))))),
    h('p.consent-reason', h('span.tl-reason-label', () => t('consent.reason')), h('span.text-block', q.reason || '')),
    q.decision_note ? h('p.consent-reason', h('span.tl-reason-label', () => t('consent.decision_note')), h('span.text-block', q.decision_note)) : null);
  if (canDecide && q.state === 'pending') el.appendChild(consentDecision(q));
  return el;
}

function consentDecision(q) {
  const reg = new Map();
  const noteIn = h('textarea.input.textarea', { name: 'note', rows: 2, maxlength: 1000 });
  const fNote = field({ label: () => t('appr.note'), input: noteIn, optional: true, hint: () => t('consent.note_hint'), reg, name: 'note' });
  reg.set('reason', fNote);
  const errSlot = h('div.banner-slot');
  const approve = h('button.btn.btn-primary.btn-small', { type: 'button', on: { click: () => decide('approve') } }, () => t('consent.approve'));
  const refuse = h('button.btn.btn-danger.btn-small', { type: 'button', on: { click: () => decide('refuse') } }, () => t('consent.refuse'));
  async function decide(kind) {
    clearFieldErrors(reg);
    clear(errSlot);
    const text = noteIn.value.trim();
    if (kind === 'refuse' && !text) {
      errSlot.appendChild(banner('error', () => t('appr.reason_needed')));
      noteIn.focus();
      return;
    }
    approve.disabled = true; refuse.disabled = true;
    try {
      await api('POST', '/audience-requests/' + encodeURIComponent(q.id) + '/' + kind, kind === 'approve' ? (text ? { note: text } : {}) : { reason: text });
      state.flash = { kind: 'success', text: () => t(kind === 'approve' ? 'consent.approved' : 'consent.refused') };
      reload();
    } catch (err) {
      approve.disabled = false; refuse.disabled = false;
      showProblem(err, reg, errSlot);
    }
  }
  return h('div.consent-decide', errSlot, fNote.el, h('div.form-actions', approve, refuse));
}

// ---------------------------------------------------------------- provider: approvals page

export async function viewApprovals(page) {
  append(page, pageHead('appr.title', () => t('appr.lead')));
  takeFlash(page);
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  await loadRefData();

  const relId = uid('ap');
  const list = makeList({
    caption: () => t('appr.pending_title'),
    empty: () => t('appr.pending_empty'),
    columns: [
      { label: () => t('report.title'), cls: 'col-name', cell: (r) => h('div.name-cell',
        h('a.name-primary.report-link', { href: '#/releases/' + r.id }, (r.content && r.content.title) || r.id),
        h('span.name-secondary', () => versionText(r.version))) },
      { label: () => t('report.tlp'), cls: 'col-nowrap col-tlp', cell: (r) => tlpPill(r.tlp, true) },
      { label: () => t('rel.audience'), cell: (r) => tx(() => releaseAudienceText(r.audience)) },
      { label: () => t('rel.submitted_at'), cls: 'col-nowrap', cell: (r) => stackedTime(iso(r.submitted_at)) },
      { label: () => t('rel.col_action'), cls: 'col-nowrap', cell: (r) => h('a.btn.btn-secondary.btn-small', { href: '#/releases/' + r.id }, () => t('appr.review')) },
    ],
    fetch: (cursor) => api('GET', '/releases', undefined, { query: { state: 'pending', cursor, limit: 50 } }),
    slot,
  });
  page.appendChild(h('section.appr-section', { 'aria-labelledby': relId },
    h('h2.section-title', { id: relId }, () => t('appr.pending_title')),
    h('p.section-lead', () => t('appr.pending_lead')),
    list.el));

  const reqId = uid('ar');
  const reqBody = h('div.consent-body', loadingEl());
  page.appendChild(h('section.appr-section', { 'aria-labelledby': reqId },
    h('h2.section-title', { id: reqId }, () => t('consent.pending_title')),
    h('p.section-lead', () => t('consent.pending_lead')),
    reqBody));

  await Promise.all([list.reset(), loadRequests()]);

  async function loadRequests() {
    let items = [];
    try {
      items = itemsOf(await api('GET', '/audience-requests', undefined, { query: { state: 'pending' } }));
    } catch (err) {
      clear(reqBody);
      if (!(err instanceof ApiError && err.status === 401)) reqBody.appendChild(problemOrUnknown(err));
      return;
    }
    // The release of each request, for its title and present audience.
    const rels = new Map();
    await Promise.all([...new Set(items.map((q) => q.release_id))].map(async (rid) => {
      try { rels.set(rid, await api('GET', '/releases/' + encodeURIComponent(rid))); } catch (err) { if (err instanceof ApiError && err.status === 401) throw err; }
    }));
    clear(reqBody);
    if (!items.length) { reqBody.appendChild(h('p.empty', () => t('consent.pending_empty'))); return; }
    for (const q of items) reqBody.appendChild(consentCard(q, rels.get(q.release_id), true));
  }
}

