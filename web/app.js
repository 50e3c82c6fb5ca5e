// isac web UI. Plain ES modules, no framework, no build step; runs under a strict CSP
// (no inline script or style): every element is built with h() and styled by class.
import { h, tx, append, clear, relocalize, bindAttr, uid } from './dom.js';
import { t, has, lang, setLang, hasStoredChoice, pick, pickOther, LANGS } from './i18n.js';
import { api, ApiError, setCsrf, onUnauthenticated } from './api.js';
import {
  state, setTitle, updateTitle, hasRole, isAdmin, canListOrgs, canListUsers, canCreateUsers, canReadAudit,
  itemsOf, loadRefData, sectorName, tierName, kindName, roleName, localeName, orgName,
  banner, problemBanner, takeFlash, field, group, textInput, selectInput, setFieldError,
  clearFieldErrors, showProblem, setBusy, pageHead, loadingEl, filterBox, filterForm, makeList, reasonText,
} from './ui.js';
import { canReadReports, canFileReports, viewReports, viewReportNew, viewReport, viewReportRevise, viewDue, viewNearMiss } from './reports.js';
import { viewAudit } from './audit.js';
import { canReadInbox, canApprove, isCoordinatorAnalyst, viewInbox, viewRelease, viewApprovals, viewQueue } from './releases.js';
import {
  canReadAlerts, canIssueAlerts, navBadge, startLive, stopLive, viewAlerts, viewAlert, viewAlertNew, viewAlertEdit,
  viewAlertCorrect, viewAlertDelivery,
} from './alerts.js';
import { canManageWebhooks, webhooksSection } from './webhooks.js';

const KINDS = ['operator', 'sector_hub', 'coordinator', 'ministry', 'agency', 'vendor'];
const TIERS = ['class1', 'class2', 'general'];
const ROLES = ['member', 'analyst', 'org_admin', 'admin', 'auditor'];
const CONTACT_TYPES = ['email', 'phone', 'webhook', 'url'];
const MAX_CONTACTS = 20;
// Set while we believe a session cookie exists, so a fresh visit goes straight to the
// login page instead of probing /me and provoking a 401.
const SESSION_HINT = 'isac.session';

// ---------------------------------------------------------------- shell

const shell = {};

function buildShell() {
  const root = document.getElementById('app');
  clear(root);

  shell.skip = h('a.skip-link', { href: '#main', on: { click: (e) => { e.preventDefault(); focusMain(); } } },
    () => t('app.skip'));

  shell.langButtons = LANGS.map((l) => h('button.lang-btn', {
    type: 'button', lang: l, 'data-lang': l,
    on: { click: () => switchLang(l) },
  }, l === 'ja' ? '日本語' : 'English'));

  shell.userName = h('span.user-name');
  shell.logout = h('button.btn.btn-quiet.btn-on-dark', { type: 'button', on: { click: logout } }, () => t('logout'));
  shell.userBox = h('div.user-box', { hidden: true },
    h('span.visually-hidden', () => t('user.signed_in_as')),
    shell.userName, shell.logout);

  shell.header = h('header.topbar',
    h('div.topbar-inner',
      h('a.brand', { href: '#/home' },
        h('img.brand-mark', { src: '/favicon.svg', alt: '', width: 28, height: 28 }),
        h('span.brand-name', 'isac'),
        h('span.brand-tagline', () => t('app.tagline'))),
      h('div.topbar-tools',
        h('div.lang-switch', { role: 'group', 'aria-label': () => t('lang.label') }, shell.langButtons),
        shell.userBox)));

  shell.navList = h('ul.nav-list');
  shell.nav = h('nav.mainnav', { 'aria-label': () => t('nav.label'), hidden: true },
    h('div.nav-inner', shell.navList));

  // Alerts arriving on the event stream show here, above every page (alerts.js).
  shell.live = h('div.live-alerts');
  shell.main = h('main#main', { tabindex: '-1' });
  shell.footer = h('footer.footer',
    h('div.footer-inner', h('span', 'isac'), shell.versionEl = h('span.version'), h('span.footer-sep', '·'),
      tx(() => t('app.tagline'))));

  append(root, [shell.skip, shell.header, shell.nav, shell.live, shell.main, shell.footer]);
  updateLangButtons();
}

function focusMain() {
  const h1 = shell.main.querySelector('h1');
  (h1 || shell.main).focus();
}

function updateLangButtons() {
  for (const b of shell.langButtons) {
    b.setAttribute('aria-pressed', b.dataset.lang === lang() ? 'true' : 'false');
  }
}

function applyLang() {
  document.documentElement.lang = lang();
  relocalize(document);
  updateLangButtons();
  updateTitle();
}

function switchLang(l) {
  if (setLang(l, true)) applyLang();
}

const NAV = [
  { path: '/home', key: 'nav.home', can: () => true },
  { path: '/alerts', key: 'nav.alerts', can: canReadAlerts, badge: navBadge },
  { path: '/inbox', key: 'nav.inbox', can: canReadInbox },
  { path: '/approvals', key: 'nav.approvals', can: canApprove },
  { path: '/release-queue', key: 'nav.release_queue', can: isCoordinatorAnalyst },
  { path: '/reports', key: 'nav.reports', can: canReadReports },
  { path: '/due', key: 'nav.due', can: canReadReports },
  { path: '/near-miss', key: 'nav.near_miss', can: canReadReports },
  { path: '/orgs', key: 'nav.orgs', can: () => canListOrgs() },
  { path: '/users', key: 'nav.users', can: () => canListUsers() },
  { path: '/audit', key: 'nav.audit', can: () => canReadAudit() },
  { path: '/password', key: 'nav.password', can: () => true },
];

function renderNav() {
  clear(shell.navList);
  for (const item of NAV) {
    if (!item.can()) continue;
    shell.navList.appendChild(h('li', h('a.nav-link', { href: '#' + item.path, 'data-path': item.path }, tx(() => t(item.key)), item.badge ? item.badge() : null)));
  }
}

function markNav(path) {
  for (const a of shell.navList.querySelectorAll('a')) {
    const p = a.dataset.path;
    const on = path === p || path.startsWith(p + '/');
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function showSignedIn() {
  const u = state.me.user;
  shell.userName.textContent = u.display_name || u.login;
  shell.userBox.hidden = false;
  shell.nav.hidden = false;
  renderNav();
  startLive(shell.live);
}

function showSignedOut() {
  stopLive();
  shell.userBox.hidden = true;
  shell.nav.hidden = true;
  clear(shell.navList);
}


// ---------------------------------------------------------------- login / logout

function showLogin(messageKey, kind) {
  state.me = null;
  state.orgCache.clear();
  setCsrf(null);
  try { localStorage.removeItem(SESSION_HINT); } catch { /* ignore */ }
  showSignedOut();
  viewLogin(messageKey, kind || 'info');
}

function viewLogin(messageKey, messageKind) {
  clear(shell.main);
  shell.main.classList.add('main-login');
  setTitle(() => t('login.title'));
  const loginIn = textInput({ name: 'login', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
  const pwIn = h('input.input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const msg = h('div.login-msg', { 'aria-live': 'polite' });
  if (messageKey) msg.appendChild(banner(messageKind, () => t(messageKey)));
  const submit = h('button.btn.btn-primary.btn-block', { type: 'submit' }, () => t('login.submit'));

  const form = h('form.login-form', { novalidate: true, on: { submit: onSubmit } },
    msg,
    field({ label: () => t('login.login'), input: loginIn }).el,
    field({ label: () => t('login.password'), input: pwIn }).el,
    submit);

  const card = h('section.login-card', { 'aria-labelledby': 'login-h' },
    h('div.login-brand', h('img.login-mark', { src: '/favicon.svg', alt: '', width: 40, height: 40 }), h('span.login-product', 'isac')),
    h('h1.login-title#login-h', { tabindex: '-1' }, () => t('login.title')),
    h('p.login-lead', () => t('login.lead')),
    form,
    h('p.login-notice', h('span.notice-icon', { 'aria-hidden': 'true' }, '!'), tx(() => t('login.notice'))));
  shell.main.appendChild(h('div.login-wrap', card));

  async function onSubmit(ev) {
    ev.preventDefault();
    clear(msg);
    const login = loginIn.value.trim();
    const password = pwIn.value;
    if (!login || !password) {
      msg.appendChild(banner('error', () => t('login.error.missing')));
      (login ? pwIn : loginIn).focus();
      return;
    }
    setBusy(submit, true, 'login.submitting', 'login.submit');
    try {
      const res = await api('POST', '/session', { login, password }, { login: true });
      setCsrf(res && res.csrf_token);
      try { localStorage.setItem(SESSION_HINT, '1'); } catch { /* ignore */ }
      await loadMe();
      shell.main.classList.remove('main-login');
      showSignedIn();
      if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/home';
      route(true);
    } catch (err) {
      setBusy(submit, false, 'login.submitting', 'login.submit');
      pwIn.value = '';
      if (err instanceof ApiError && err.status === 401) {
        msg.appendChild(banner('error', () => t('login.error.invalid')));
      } else if (err instanceof ApiError && err.status === 429) {
        const secs = parseInt(err.retryAfter, 10);
        const minutes = Number.isFinite(secs) && secs > 0 ? Math.ceil(secs / 60) : 0;
        msg.appendChild(banner('error', () => (minutes ? t('login.error.throttled', { minutes }) : t('login.error.throttled_soon'))));
      } else {
        msg.appendChild(err instanceof ApiError ? problemBanner(err) : banner('error', () => t('problem.unknown')));
      }
      pwIn.focus();
    }
  }
}

async function loadMe() {
  const me = await api('GET', '/me');
  state.me = me;
  if (me.csrf_token) setCsrf(me.csrf_token);
  if (me.org && me.org.id) state.orgCache.set(me.org.id, me.org);
  if (!hasStoredChoice() && me.user && me.user.locale && setLang(me.user.locale, false)) applyLang();
  return me;
}

async function logout() {
  shell.logout.disabled = true;
  try {
    await api('DELETE', '/session');
  } catch (err) {
    // Whatever the server says, forget the session on this side.
  } finally {
    shell.logout.disabled = false;
  }
  state.sectors = null; state.tiers = null; state.regimes = null;
  if (location.hash !== '#/home') history.replaceState(null, '', '#/home');
  showLogin('login.logged_out', 'success');
}

// ---------------------------------------------------------------- router

const ROUTES = {
  '/home': { view: viewHome },
  '/orgs': { view: viewOrgs, can: canListOrgs },
  '/orgs/new': { view: viewOrgNew, can: isAdmin },
  '/users': { view: viewUsers, can: canListUsers },
  '/users/new': { view: viewUserNew, can: canCreateUsers },
  '/password': { view: viewPassword },
  '/reports': { view: viewReports, can: canReadReports },
  '/reports/new': { view: viewReportNew, can: canFileReports },
  '/due': { view: viewDue, can: canReadReports },
  '/near-miss': { view: viewNearMiss, can: canReadReports },
  '/inbox': { view: viewInbox, can: canReadInbox },
  '/approvals': { view: viewApprovals, can: canApprove },
  '/release-queue': { view: viewQueue, can: isCoordinatorAnalyst },
  '/alerts': { view: viewAlerts, can: canReadAlerts },
  '/alerts/new': { view: viewAlertNew, can: canIssueAlerts },
  // No client-side gate: the server answers 403 to anyone but auditors and admins, and
  // the page shows that problem (audit.js).
  '/audit': { view: viewAudit },
};

// Routes with an id in the path: [pattern, route]; the id is passed after params.
const UUID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
const PATTERNS = [
  [new RegExp('^/reports/' + UUID + '$'), { view: (page, params, id) => viewReport(page, params, id), can: canReadReports }],
  [new RegExp('^/reports/' + UUID + '/update$'), { view: (page, params, id) => viewReportRevise(page, params, id, 'update'), can: canFileReports }],
  [new RegExp('^/reports/' + UUID + '/edit$'), { view: (page, params, id) => viewReportRevise(page, params, id, 'draft'), can: canFileReports }],
  [new RegExp('^/releases/' + UUID + '$'), { view: (page, params, id) => viewRelease(page, params, id), can: canReadInbox }],
  [new RegExp('^/alerts/' + UUID + '$'), { view: viewAlert, can: canReadAlerts }],
  [new RegExp('^/alerts/' + UUID + '/edit$'), { view: viewAlertEdit, can: canIssueAlerts }],
  [new RegExp('^/alerts/' + UUID + '/correct$'), { view: viewAlertCorrect, can: canIssueAlerts }],
  [new RegExp('^/alerts/' + UUID + '/delivery$'), { view: viewAlertDelivery, can: canReadAlerts }],
  // Any signed-in user may open an organisation page; the server decides what it shows.
  [new RegExp('^/orgs/' + UUID + '$'), { view: (page, params, id) => viewOrg(page, params, id) }],
];

function findRoute(path) {
  if (ROUTES[path]) return { r: ROUTES[path], args: [] };
  for (const [re, r] of PATTERNS) {
    const m = re.exec(path);
    if (m) return { r, args: m.slice(1) };
  }
  return { r: null, args: [] };
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/home';
  const [path, qs] = raw.split('?');
  return { path: path || '/home', params: new URLSearchParams(qs || '') };
}

function route(focus) {
  if (!state.me) return;
  const { path, params } = parseHash();
  const { r, args } = findRoute(path);
  clear(shell.main);
  shell.main.classList.remove('main-login');
  markNav(path);
  const page = h('div.page');
  shell.main.appendChild(page);
  if (!r) {
    viewMessage(page, 'page.not_found', 'page.not_found_text');
  } else if (r.can && !r.can()) {
    viewMessage(page, 'page.forbidden', 'page.forbidden_text');
  } else {
    Promise.resolve(r.view(page, params, ...args)).catch((err) => {
      if (err instanceof ApiError && err.status === 401) return;
      for (const l of page.querySelectorAll('.loading')) l.remove();
      if (err instanceof ApiError && err.status === 404 && !page.querySelector('h1')) {
        clear(page);
        viewMessage(page, 'page.not_found', 'page.not_found_text');
        return;
      }
      page.appendChild(err instanceof ApiError ? problemBanner(err)
        : banner('error', () => t('problem.unknown'), h('p.banner-detail', String((err && err.message) || err))));
    });
  }
  if (focus) focusMain();
}

function viewMessage(page, titleKey, textKey) {
  append(page, [
    pageHead(titleKey, () => t(textKey)),
    h('p', h('a.btn.btn-secondary', { href: '#/home' }, () => t('page.back_home'))),
  ]);
}

// ---------------------------------------------------------------- home

function viewHome(page) {
  const me = state.me;
  const u = me.user || {};
  const org = me.org || {};
  const sectors = me.sectors || [];
  const tier = me.tier;

  append(page, pageHead('home.title', () => t('home.welcome', { name: u.display_name || u.login })));
  takeFlash(page);

  const account = h('section.card', { 'aria-labelledby': 'home-account' },
    h('h2.card-title#home-account', () => t('home.account')),
    h('dl.props',
      h('div.prop', h('dt', () => t('field.display_name')), h('dd', u.display_name || '—')),
      h('div.prop', h('dt', () => t('field.login')), h('dd', h('code.login', u.login || ''))),
      h('div.prop', h('dt', () => t('field.roles')), h('dd', h('ul.chips', (u.roles || []).map((r) =>
        h('li.chip.chip-role', { 'data-role': r }, () => roleName(r)))))),
      h('div.prop', h('dt', () => t('field.locale')), h('dd', localeName(u.locale)))));

  const orgCard = h('section.card', { 'aria-labelledby': 'home-org' },
    h('h2.card-title#home-org', () => t('home.org')),
    h('p.org-name', () => pick(org.name)),
    h('p.org-other', { lang: () => (lang() === 'ja' ? 'en' : 'ja') }, () => pickOther(org.name)),
    h('dl.props',
      h('div.prop', h('dt', () => t('field.kind')), h('dd', () => kindName(org.kind))),
      h('div.prop', h('dt', () => t('field.tier')), h('dd', () => (tier && tier.name ? pick(tier.name) : tierName(org.tier)))),
      org.disabled ? h('div.prop', h('dt', () => t('field.status')), h('dd', h('span.status.status-off', () => t('status.disabled')))) : null),
    org.id ? h('p.card-link', h('a', { href: '#/orgs/' + org.id }, () => t(canEditIdentifiers(org) ? 'org.open_edit' : 'org.open'))) : null);

  const sectorCard = h('section.card', { 'aria-labelledby': 'home-sectors' },
    h('h2.card-title#home-sectors', () => t('home.sectors')),
    sectors.length
      ? h('ul.chips.chips-sectors', sectors.map((s) => h('li.chip.chip-sector', { 'data-sector': s.code }, () => pick(s.name) || s.code)))
      : h('p.muted', () => t('home.no_sectors')));

  page.appendChild(h('div.cards', account, orgCard, sectorCard));
}

// ---------------------------------------------------------------- organisations

async function viewOrgs(page) {
  const actions = isAdmin() ? h('a.btn.btn-primary', { href: '#/orgs/new' }, h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('orgs.new'))) : null;
  append(page, pageHead('orgs.title', () => t('orgs.lead'), actions));
  takeFlash(page);
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  const loading = loadingEl();
  page.appendChild(loading);
  await loadRefData();
  loading.remove();

  const kindSel = selectInput([{ value: '', text: () => t('filter.any') }, ...KINDS.map((k) => ({ value: k, text: () => kindName(k) }))], { name: 'kind' });
  const sectorSel = selectInput([{ value: '', text: () => t('filter.any') }, ...state.sectors.map((s) => ({ value: s.code, text: () => pick(s.name) || s.code }))], { name: 'sector' });
  const tierSel = selectInput([{ value: '', text: () => t('filter.any') }, ...tierCodes().map((c) => ({ value: c, text: () => tierName(c) }))], { name: 'tier' });
  const qIn = textInput({ name: 'q', type: 'search', autocomplete: 'off' });
  const disabledIn = h('input.checkbox', { type: 'checkbox', name: 'include_disabled' });

  const filters = filterForm(reload, [
    field({ label: () => t('field.kind'), input: kindSel, cls: 'filter-field' }).el,
    field({ label: () => t('field.sector'), input: sectorSel, cls: 'filter-field' }).el,
    field({ label: () => t('field.tier'), input: tierSel, cls: 'filter-field' }).el,
    field({ label: () => t('field.q'), input: qIn, cls: 'filter-field' }).el,
    h('div.filter-check', h('label.check', disabledIn, tx(() => t('filter.include_disabled')))),
  ], { end: false });
  page.appendChild(filterBox(filters));

  const list = makeList({
    caption: () => t('orgs.caption'),
    empty: () => t('orgs.empty'),
    columns: [
      { label: () => t('field.name'), cls: 'col-name', cell: orgNameCell },
      { label: () => t('field.kind'), cls: 'col-kind', cell: (o) => tx(() => kindName(o.kind)) },
      { label: () => t('field.sectors'), cls: 'col-sectors', cell: (o) => tx(() => (o.sectors || []).map(sectorName).join(lang() === 'ja' ? '、' : ', ') || '—') },
      { label: () => t('field.tier'), cls: 'col-nowrap', cell: (o) => tx(() => tierName(o.tier)) },
      { label: () => t('field.status'), cls: 'col-nowrap', cell: statusCell },
    ],
    fetch: (cursor) => api('GET', '/orgs', undefined, {
      query: { kind: kindSel.value, sector: sectorSel.value, tier: tierSel.value, q: qIn.value.trim(),
        include_disabled: disabledIn.checked ? 'true' : '', cursor, limit: 50 },
    }),
    onItems: (items) => { for (const o of items) state.orgCache.set(o.id, o); },
    slot,
  });
  page.appendChild(list.el);
  function reload() { list.reset(); }
  await list.reset();
}


function tierCodes() {
  const codes = (state.tiers || []).map((x) => x.code);
  return codes.length ? codes : TIERS;
}

function orgNameCell(o) {
  return h('div.name-cell',
    h('a.name-primary.report-link', { href: '#/orgs/' + o.id }, () => pick(o.name)),
    h('span.name-secondary', { lang: () => (lang() === 'ja' ? 'en' : 'ja') }, () => pickOther(o.name)));
}

function statusCell(x) {
  return h('span.status' + (x.disabled ? '.status-off' : '.status-on'), () => t(x.disabled ? 'status.disabled' : 'status.active'));
}


// ---------------------------------------------------------------- one organisation

// What the anonymizer always hides of an organisation (releases contract): one list each.
const ID_KINDS = ['aliases', 'domains', 'ip_ranges', 'hostnames', 'persons'];
const MAX_ID_ITEMS = 64;

function canEditIdentifiers(org) {
  return isAdmin() || (hasRole('org_admin') && !!state.me.org && state.me.org.id === org.id);
}

async function viewOrg(page, params, id) {
  const loading = loadingEl();
  page.appendChild(loading);
  setTitle(() => t('org.page_title'));
  const [org] = await Promise.all([api('GET', '/orgs/' + encodeURIComponent(id)), loadRefData()]);
  loading.remove();
  state.orgCache.set(org.id, org);
  setTitle(() => pick(org.name));
  append(page, h('div.page-head',
    h('div.page-head-text',
      canListOrgs() ? h('p.page-kicker', h('a', { href: '#/orgs' }, '← ', tx(() => t('orgs.title')))) : null,
      h('h1.page-title', { tabindex: '-1' }, () => pick(org.name)),
      h('p.lead', { lang: () => (lang() === 'ja' ? 'en' : 'ja') }, () => pickOther(org.name)))));
  takeFlash(page);
  const contacts = org.contacts || [];
  page.appendChild(h('div.cards.org-cards',
    h('section.card', { 'aria-labelledby': 'org-props' },
      h('h2.card-title#org-props', () => t('org.props')),
      h('dl.props',
        h('div.prop', h('dt', () => t('field.kind')), h('dd', () => kindName(org.kind))),
        h('div.prop', h('dt', () => t('field.tier')), h('dd', () => tierName(org.tier))),
        h('div.prop', h('dt', () => t('field.sectors')), h('dd', () => (org.sectors || []).map(sectorName).join(lang() === 'ja' ? '、' : ', ') || '—')),
        h('div.prop', h('dt', () => t('field.status')), h('dd', statusCell(org))),
        h('div.prop', h('dt', () => t('org.id')), h('dd', h('code.report-id', org.id))))),
    h('section.card', { 'aria-labelledby': 'org-contacts' },
      h('h2.card-title#org-contacts', () => t('field.contacts')),
      contacts.length
        ? h('dl.props', contacts.map((c) => h('div.prop', h('dt', () => t('contact.' + c.type) + (c.label ? t('paren', { x: c.label }) : '')), h('dd', c.value))))
        : h('p.muted', () => t('contacts.none')))));
  if (canEditIdentifiers(org)) page.appendChild(identifiersForm(org));
  else if (org.identifiers) page.appendChild(identifiersView(org.identifiers));
  if (canManageWebhooks(org)) page.appendChild(webhooksSection(org));
}

function identifiersView(ids) {
  return h('section.card.ident-card', { 'aria-labelledby': 'ident-h' },
    h('h2.card-title#ident-h', () => t('ident.title')),
    h('dl.props.props-wide', ID_KINDS.map((k) => h('div.prop', h('dt', () => t('ident.' + k)),
      (ids[k] || []).length ? h('dd', h('ul.ident-list', ids[k].map((x) => h('li', h('code', x))))) : h('dd.muted', () => t('value.empty'))))));
}

/** One textarea per kind, one identifier per line; errors name the line they are about. */
function identifiersForm(org) {
  const reg = new Map();
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  const ids = org.identifiers || {};
  const boxes = ID_KINDS.map((k) => {
    const input = h('textarea.input.textarea.textarea-ids', { name: 'identifiers.' + k, rows: 4, spellcheck: 'false', autocapitalize: 'none', autocomplete: 'off' });
    input.value = (ids[k] || []).join('\n');
    const f = field({ label: () => t('ident.' + k), input, optional: true, hint: () => t('ident.' + k + '_hint', { n: MAX_ID_ITEMS }), reg, name: 'identifiers.' + k });
    const lineErrs = h('div.org-line-errors');
    f.el.appendChild(lineErrs);
    return { k, input, f, lineErrs, sent: [], described: input.getAttribute('aria-describedby') };
  });
  const save = h('button.btn.btn-primary', { type: 'submit' }, () => t('ident.save'));
  const form = h('form.form.ident-form', { novalidate: true, 'aria-labelledby': 'ident-h', on: { submit: onSave } },
    h('div.ident-head',
      h('h2.section-title#ident-h', () => t('ident.title')),
      h('p.section-lead', () => t('ident.lead'))),
    slot,
    h('div.two-col', boxes.slice(0, 2).map((b) => b.f.el)),
    h('div.two-col', boxes.slice(2, 4).map((b) => b.f.el)),
    h('div.two-col', boxes[4].f.el),
    h('div.form-actions', save));

  function lines(b) {
    const seen = new Set();
    const out = [];
    b.input.value.split(/\r?\n/).forEach((raw, i) => {
      const v = raw.trim();
      if (!v || seen.has(v)) return;
      seen.add(v);
      out.push({ v, line: i + 1 });
    });
    return out;
  }

  /** Before sending: an error slot for every line the server may name ("identifiers.domains[2]"). */
  function registerLines() {
    for (const key of [...reg.keys()]) if (/^identifiers\.\w+\[/.test(key)) reg.delete(key);
    for (const b of boxes) {
      clear(b.lineErrs);
      b.sent = lines(b);
      const errIds = [];
      b.sent.forEach((x, i) => {
        const err = h('p.field-error', { id: uid('iderr'), hidden: true });
        errIds.push(err.id);
        b.lineErrs.appendChild(err);
        reg.set(`identifiers.${b.k}[${i}]`, { el: b.f.el, input: b.input, err, focus: b.input });
      });
      b.input.setAttribute('aria-describedby', [b.described, ...errIds].join(' '));
    }
  }

  function lineErrors(err) {
    if (!(err instanceof ApiError)) return;
    for (const e of err.errors) {
      const m = /^identifiers\.(\w+)\[(\d+)\]$/.exec(e.field || '');
      const b = m ? boxes.find((x) => x.k === m[1]) : null;
      const x = b ? b.sent[Number(m[2])] : null;
      const f = m ? reg.get(e.field) : null;
      if (f && x) setFieldError(f, () => t('ident.line_error', { n: x.line, value: x.v, reason: reasonText(e.reason) }));
    }
  }

  async function onSave(ev) {
    ev.preventDefault();
    registerLines();
    clearFieldErrors(reg);
    clear(slot);
    const body = { identifiers: {} };
    for (const b of boxes) body.identifiers[b.k] = b.sent.map((x) => x.v);
    setBusy(save, true, 'form.saving', 'ident.save');
    try {
      const res = await api('PATCH', '/orgs/' + encodeURIComponent(org.id), body);
      state.orgCache.set(res.id, res);
      // Show what the server keeps (domains lower-cased, networks canonical, duplicates gone).
      const kept = res.identifiers || body.identifiers;
      for (const b of boxes) b.input.value = (kept[b.k] || []).join('\n');
      slot.appendChild(banner('success', () => t('ident.saved')));
    } catch (err) {
      showProblem(err, reg, slot);
      lineErrors(err);
    } finally {
      setBusy(save, false, 'form.saving', 'ident.save');
    }
  }
  return form;
}

function viewOrgNew(page) {
  page.classList.add('page-form');
  append(page, pageHead('orgnew.title', () => t('orgnew.lead')));
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  const loading = loadingEl();
  page.appendChild(loading);
  return loadRefData().then(() => {
    loading.remove();
    buildOrgForm(page, slot);
  });
}

function buildOrgForm(page, slot) {
  const reg = new Map();
  const nameJa = textInput({ name: 'name_ja', maxlength: 200, lang: 'ja', autocomplete: 'organization' });
  const nameEn = textInput({ name: 'name_en', maxlength: 200, lang: 'en', autocomplete: 'off' });
  const fJa = field({ label: () => t('orgnew.name_ja'), input: nameJa, reg, name: 'name.ja' });
  const fEn = field({ label: () => t('orgnew.name_en'), input: nameEn, reg, name: 'name.en' });
  const names = group({ legend: () => t('orgnew.names'), hint: () => t('orgnew.name_hint'), reg, name: 'name', children: [fJa.el, fEn.el], bodyCls: 'two-col' });

  const kindSel = selectInput([{ value: '', text: () => t('select.choose') }, ...KINDS.map((k) => ({ value: k, text: () => kindName(k) }))], { name: 'kind' });
  const fKind = field({ label: () => t('field.kind'), input: kindSel, reg, name: 'kind' });

  const tierSel = selectInput([{ value: '', text: () => t('select.choose') }, ...tierCodes().map((c) => ({ value: c, text: () => tierName(c) }))], { name: 'tier' });
  tierSel.value = 'general';
  const fTier = field({ label: () => t('field.tier'), input: tierSel, reg, name: 'tier' });

  const sectorBoxes = state.sectors.filter((s) => !s.disabled).map((s) => {
    const id = uid('sec');
    const cb = h('input.checkbox', { type: 'checkbox', id, name: 'sectors', value: s.code });
    // Long names take a whole row on narrow screens (see style.css).
    const long = () => ((pick(s.name) || '').length > (lang() === 'ja' ? 10 : 20) ? 'true' : false);
    return { cb, el: h('div.check-item', { 'data-long': long }, cb, h('label', { for: id }, () => pick(s.name) || s.code)) };
  });
  const sectors = group({ legend: () => t('field.sectors'), hint: () => t('orgnew.sectors_hint'), reg, name: 'sectors', children: sectorBoxes.map((x) => x.el), bodyCls: 'check-grid' });
  sectors.focus = sectorBoxes.length ? sectorBoxes[0].cb : null;

  // Contacts: rows of type / value / label.
  const rows = [];
  const rowsEl = h('div.contact-rows');
  const noContacts = h('p.muted.contacts-none', () => t('contacts.none'));
  const addBtn = h('button.btn.btn-secondary.btn-small', { type: 'button', on: { click: () => { const r = addRow(); r.type.focus(); } } },
    h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('contacts.add')));
  const contacts = group({ legend: () => t('field.contacts'), hint: () => t('orgnew.contacts_hint'), reg, name: 'contacts', children: [noContacts, rowsEl, h('div.contacts-add', addBtn)] });

  function renumber() {
    rows.forEach((r, i) => { r.index = i; relocalize(r.el); });
    noContacts.hidden = rows.length > 0;
    addBtn.disabled = rows.length >= MAX_CONTACTS;
  }

  function addRow() {
    const r = { index: rows.length };
    r.type = selectInput(CONTACT_TYPES.map((c) => ({ value: c, text: () => t('contact.' + c) })), {});
    r.value = textInput({ autocomplete: 'off' });
    r.label = textInput({ autocomplete: 'off' });
    r.fType = field({ label: () => t('contacts.type'), input: r.type, cls: 'contact-type' });
    r.fValue = field({ label: () => t('contacts.value'), input: r.value, cls: 'contact-value' });
    r.fLabel = field({ label: () => t('contacts.label'), input: r.label, optional: true, cls: 'contact-label' });
    r.remove = h('button.btn.btn-quiet.btn-small.contact-remove', {
      type: 'button', 'aria-label': () => t('contacts.remove_n', { n: r.index + 1 }),
      on: { click: () => { const i = rows.indexOf(r); rows.splice(i, 1); r.el.remove(); renumber(); (rows[i] || rows[i - 1] || { type: addBtn }).type.focus(); } },
    }, () => t('contacts.remove'));
    r.rowErr = h('p.field-error', { hidden: true });
    r.el = h('div.contact-row', { role: 'group', 'aria-label': () => t('contacts.row', { n: r.index + 1 }) },
      h('div.contact-fields', r.fType.el, r.fValue.el, r.fLabel.el, h('div.contact-actions', r.remove)), r.rowErr);
    rows.push(r);
    rowsEl.appendChild(r.el);
    renumber();
    return r;
  }
  renumber();

  const submit = h('button.btn.btn-primary', { type: 'submit' }, () => t('form.create'));
  const form = h('form.form', { novalidate: true, on: { submit: onSubmit } },
    names.el,
    h('div.two-col', fKind.el, fTier.el),
    sectors.el,
    contacts.el,
    h('div.form-actions', submit, h('a.btn.btn-quiet', { href: '#/orgs' }, () => t('form.cancel'))));
  page.appendChild(form);

  function registerRows() {
    for (const key of [...reg.keys()]) if (key.startsWith('contacts[')) reg.delete(key);
    rows.forEach((r, i) => {
      reg.set(`contacts[${i}].type`, r.fType);
      reg.set(`contacts[${i}].value`, r.fValue);
      reg.set(`contacts[${i}].label`, r.fLabel);
      reg.set(`contacts[${i}]`, { el: r.el, err: r.rowErr, focus: r.value });
    });
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    registerRows();
    clearFieldErrors(reg);
    clear(slot);
    const name = {};
    if (nameJa.value.trim()) name.ja = nameJa.value.trim();
    if (nameEn.value.trim()) name.en = nameEn.value.trim();
    const body = {
      name,
      sectors: sectorBoxes.filter((x) => x.cb.checked).map((x) => x.cb.value),
      contacts: rows.map((r) => {
        const c = { type: r.type.value, value: r.value.value.trim() };
        if (r.label.value.trim()) c.label = r.label.value.trim();
        return c;
      }),
    };
    if (kindSel.value) body.kind = kindSel.value;
    if (tierSel.value) body.tier = tierSel.value;
    setBusy(submit, true, 'form.saving', 'form.create');
    try {
      const org = await api('POST', '/orgs', body);
      state.orgCache.set(org.id, org);
      const nm = org.name || name;
      state.flash = { kind: 'success', text: () => t('orgnew.created', { name: pick(nm) }) };
      location.hash = '#/orgs';
    } catch (err) {
      setBusy(submit, false, 'form.saving', 'form.create');
      showProblem(err, reg, slot);
    }
  }
}

// ---------------------------------------------------------------- users

async function viewUsers(page) {
  const orgOnly = !hasRole('admin') && !hasRole('auditor');
  const actions = canCreateUsers() ? h('a.btn.btn-primary', { href: '#/users/new' }, h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('users.new'))) : null;
  append(page, pageHead('users.title', () => t(orgOnly ? 'users.lead_org' : 'users.lead'), actions));
  takeFlash(page);
  const slot = h('div.banner-slot');
  page.appendChild(slot);

  const roleSel = selectInput([{ value: '', text: () => t('filter.any') }, ...ROLES.map((r) => ({ value: r, text: () => roleName(r) }))], { name: 'role' });
  const qIn = textInput({ name: 'q', type: 'search', autocomplete: 'off' });
  const disabledIn = h('input.checkbox', { type: 'checkbox', name: 'include_disabled' });
  const filters = h('form.filters.filters-short', { role: 'search', 'aria-label': () => t('filter.legend'), novalidate: true, on: { submit: (e) => { e.preventDefault(); list.reset(); }, reset: () => setTimeout(() => list.reset(), 0) } },
    field({ label: () => t('field.roles'), input: roleSel, cls: 'filter-field' }).el,
    field({ label: () => t('field.q'), input: qIn, cls: 'filter-field' }).el,
    h('div.filter-check', h('label.check', disabledIn, tx(() => t('filter.include_disabled_users')))),
    h('div.filter-actions',
      h('button.btn.btn-secondary', { type: 'submit' }, () => t('filter.apply')),
      h('button.btn.btn-quiet', { type: 'reset' }, () => t('filter.reset'))));
  page.appendChild(filterBox(filters));

  const list = makeList({
    caption: () => t('users.caption'),
    empty: () => t('users.empty'),
    columns: [
      { label: () => t('field.display_name'), cls: 'col-name', cell: (u) => h('div.name-cell', h('span.name-primary', u.display_name || u.login), h('code.name-secondary', u.login)) },
      { label: () => t('field.org'), cell: (u) => tx(() => orgName(u.org_id)) },
      { label: () => t('field.roles'), cell: (u) => h('ul.chips.chips-compact', (u.roles || []).map((r) => h('li.chip.chip-role', { 'data-role': r }, () => roleName(r)))) },
      { label: () => t('field.locale'), cls: 'col-nowrap', cell: (u) => localeName(u.locale) },
      { label: () => t('field.status'), cls: 'col-nowrap', cell: statusCell },
    ],
    fetch: (cursor) => api('GET', '/users', undefined, {
      query: { role: roleSel.value, q: qIn.value.trim(), include_disabled: disabledIn.checked ? 'true' : '', cursor, limit: 50 },
    }),
    onItems: (items) => fetchOrgs(items.map((u) => u.org_id)),
    slot,
  });
  page.appendChild(list.el);
  await list.reset();
}

/** Make sure the orgs with these ids are in the cache (names for the users table). */
async function fetchOrgs(ids) {
  const missing = [...new Set(ids)].filter((id) => id && !state.orgCache.has(id));
  const queue = missing.slice();
  async function worker() {
    while (queue.length) {
      const id = queue.shift();
      try {
        const o = await api('GET', '/orgs/' + encodeURIComponent(id));
        state.orgCache.set(id, o);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) throw err;
        state.orgCache.set(id, { id, name: { ja: id, en: id } });
      }
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);
}

function viewUserNew(page) {
  page.classList.add('page-form');
  append(page, pageHead('usernew.title', () => t('usernew.lead')));
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  const reg = new Map();
  const admin = isAdmin();

  const loginIn = textInput({ name: 'login', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: 64 });
  const nameIn = textInput({ name: 'display_name', autocomplete: 'off' });
  const fLogin = field({ label: () => t('field.login'), input: loginIn, hint: () => t('usernew.login_hint'), reg, name: 'login' });
  const fName = field({ label: () => t('field.display_name'), input: nameIn, reg, name: 'display_name' });

  // Organisation: admins choose any (search narrows the list); org admins create in their own org.
  let orgSel = null;
  let fOrg;
  if (admin) {
    orgSel = h('select.input.select', { name: 'org_id' });
    const searchIn = textInput({ type: 'search', autocomplete: 'off' });
    const searchId = uid('orgq');
    searchIn.id = searchId;
    const searchBtn = h('button.btn.btn-secondary', { type: 'button', on: { click: () => loadOrgOptions(searchIn.value.trim()) } }, () => t('usernew.org_search_button'));
    searchIn.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); loadOrgOptions(searchIn.value.trim()); } });
    fOrg = field({ label: () => t('field.org'), input: orgSel, reg, name: 'org_id' });
    fOrg.el.insertBefore(h('div.org-search',
      h('label.visually-hidden', { for: searchId }, () => t('usernew.org_search')),
      searchIn, searchBtn), fOrg.input);
    bindAttr(searchIn, 'placeholder', () => t('usernew.org_search'));
    loadOrgOptions('');
  } else {
    const own = state.me.org;
    const ro = h('p.readonly-value', { id: uid('org') }, () => pick(own.name));
    fOrg = { el: h('div.field', h('span.field-label', () => t('field.org')), ro, h('p.field-error', { hidden: true })), err: null, focus: null };
    fOrg.err = fOrg.el.querySelector('.field-error');
    reg.set('org_id', fOrg);
  }

  async function loadOrgOptions(q) {
    const keep = orgSel.value;
    clear(orgSel);
    orgSel.appendChild(h('option', { value: '' }, () => t('loading')));
    try {
      const data = await api('GET', '/orgs', undefined, { query: { q, limit: 200 } });
      const items = itemsOf(data);
      clear(orgSel);
      orgSel.appendChild(h('option', { value: '' }, () => (items.length ? t('select.choose') : t('usernew.org_none'))));
      for (const o of items) {
        state.orgCache.set(o.id, o);
        orgSel.appendChild(h('option', { value: o.id }, () => pick(o.name)));
      }
      if (keep && items.some((o) => o.id === keep)) orgSel.value = keep;
    } catch (err) {
      clear(orgSel);
      orgSel.appendChild(h('option', { value: '' }, () => t('select.choose')));
      showProblem(err, reg, slot);
    }
  }

  const allowed = admin ? ROLES : ROLES.filter((r) => r !== 'admin' && r !== 'auditor');
  const roleBoxes = allowed.map((r) => {
    const id = uid('role');
    const cb = h('input.checkbox', { type: 'checkbox', id, name: 'roles', value: r });
    if (r === 'member') cb.checked = true;
    return { cb, el: h('div.check-item', cb, h('label', { for: id }, () => roleName(r))) };
  });
  const gRoles = group({ legend: () => t('field.roles'), hint: () => t('usernew.roles_hint'), reg, name: 'roles', children: roleBoxes.map((x) => x.el), bodyCls: 'check-grid' });
  gRoles.focus = roleBoxes[0].cb;

  const localeSel = selectInput(LANGS.map((l) => ({ value: l, text: () => t('locale.' + l) })), { name: 'locale' });
  localeSel.value = lang();
  const fLocale = field({ label: () => t('field.locale'), input: localeSel, reg, name: 'locale' });
  const emailIn = textInput({ type: 'email', name: 'email', autocomplete: 'off' });
  const fEmail = field({ label: () => t('field.email'), input: emailIn, optional: true, reg, name: 'email' });
  const pwIn = h('input.input', { type: 'password', name: 'password', autocomplete: 'new-password' });
  const fPw = field({ label: () => t('field.password'), input: pwIn, hint: () => t('usernew.password_hint'), reg, name: 'password' });

  const submit = h('button.btn.btn-primary', { type: 'submit' }, () => t('form.create'));
  const form = h('form.form', { novalidate: true, on: { submit: onSubmit } },
    h('div.two-col', fLogin.el, fName.el),
    fOrg.el,
    gRoles.el,
    h('div.two-col', fLocale.el, fEmail.el),
    h('div.two-col', fPw.el),
    h('div.form-actions', submit, h('a.btn.btn-quiet', { href: '#/users' }, () => t('form.cancel'))));
  page.appendChild(form);

  async function onSubmit(ev) {
    ev.preventDefault();
    clearFieldErrors(reg);
    clear(slot);
    const body = {
      login: loginIn.value.trim(),
      display_name: nameIn.value.trim(),
      org_id: admin ? orgSel.value : state.me.org.id,
      roles: roleBoxes.filter((x) => x.cb.checked).map((x) => x.cb.value),
      locale: localeSel.value,
      password: pwIn.value,
    };
    if (emailIn.value.trim()) body.email = emailIn.value.trim();
    if (!body.org_id) delete body.org_id;
    setBusy(submit, true, 'form.saving', 'form.create');
    try {
      const user = await api('POST', '/users', body);
      const nm = user.display_name || user.login;
      state.flash = { kind: 'success', text: () => t('usernew.created', { name: nm }) };
      location.hash = '#/users';
    } catch (err) {
      setBusy(submit, false, 'form.saving', 'form.create');
      pwIn.value = '';
      // 409 here means the login is taken: say so next to the login field.
      if (err instanceof ApiError && err.status === 409 && !err.errors.length) {
        err.errors.push({ field: 'login', reason: 'already taken' });
      }
      showProblem(err, reg, slot);
    }
  }
}

// ---------------------------------------------------------------- password

function viewPassword(page) {
  page.classList.add('page-form', 'page-form-narrow');
  append(page, pageHead('password.title', () => t('password.lead')));
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  page.appendChild(slot);
  const reg = new Map();
  const cur = h('input.input', { type: 'password', name: 'current_password', autocomplete: 'current-password' });
  const nw = h('input.input', { type: 'password', name: 'new_password', autocomplete: 'new-password' });
  const cf = h('input.input', { type: 'password', name: 'confirm_password', autocomplete: 'new-password' });
  const fCur = field({ label: () => t('password.current'), input: cur, reg, name: 'current_password' });
  const fNew = field({ label: () => t('password.new'), input: nw, hint: () => t('usernew.password_hint'), reg, name: 'new_password' });
  const fConf = field({ label: () => t('password.confirm'), input: cf, reg, name: 'confirm_password' });
  // The account name helps password managers pick the right entry.
  const userHidden = h('input.visually-hidden', { type: 'text', name: 'username', autocomplete: 'username', value: state.me.user.login, tabindex: '-1', 'aria-hidden': 'true', readonly: true });
  const submit = h('button.btn.btn-primary', { type: 'submit' }, () => t('password.submit'));
  const form = h('form.form.form-narrow', { novalidate: true, on: { submit: onSubmit } },
    userHidden, fCur.el, fNew.el, fConf.el,
    h('div.form-actions', submit));
  page.appendChild(form);

  async function onSubmit(ev) {
    ev.preventDefault();
    clearFieldErrors(reg);
    clear(slot);
    if (nw.value !== cf.value) {
      setFieldError(fConf, () => t('password.mismatch'));
      slot.appendChild(banner('error', () => t('form.has_errors')));
      cf.focus();
      return;
    }
    setBusy(submit, true, 'form.saving', 'password.submit');
    try {
      await api('POST', '/me/password', { current_password: cur.value, new_password: nw.value });
      cur.value = ''; nw.value = ''; cf.value = '';
      slot.appendChild(banner('success', () => t('password.changed')));
    } catch (err) {
      showProblem(err, reg, slot);
    } finally {
      setBusy(submit, false, 'form.saving', 'password.submit');
    }
  }
}

// ---------------------------------------------------------------- start

async function start() {
  document.documentElement.lang = lang();
  buildShell();
  onUnauthenticated(() => {
    if (state.me) showLogin('login.ended', 'info');
  });
  window.addEventListener('hashchange', () => { if (state.me) route(true); });

  fetch('/healthz', { cache: 'no-store' }).then((r) => (r.ok ? r.json() : null)).then((d) => {
    if (d && d.version) shell.versionEl.textContent = d.version;
  }).catch(() => {});

  let hint = null;
  try { hint = localStorage.getItem(SESSION_HINT); } catch { /* ignore */ }
  if (!hint) { showLogin(); return; }
  shell.main.appendChild(loadingEl());
  try {
    await loadMe();
    showSignedIn();
    route(false);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { showLogin(); return; }
    clear(shell.main);
    shell.main.appendChild(h('div.page', err instanceof ApiError ? problemBanner(err) : banner('error', () => t('problem.unknown'))));
  }
}

start();
