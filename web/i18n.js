// isac web UI: every user-visible string, in Japanese and English.
// One dictionary; keys are shared. `t(key, params)` fills {name}-style placeholders.

export const LANGS = ['ja', 'en'];
const STORE_KEY = 'isac.lang';

export const messages = {
  ja: {
    'app.name': 'isac',
    'app.tagline': '重要インフラ サイバー情報共有',
    'app.skip': '本文へ移動',
    'app.noscript': 'isac の画面を表示するには JavaScript を有効にしてください。',
    'lang.label': '言語の切り替え',
    'nav.label': 'メインメニュー',
    'nav.home': 'ホーム',
    'nav.orgs': '組織',
    'nav.users': '利用者',
    'nav.password': 'パスワード',
    'user.signed_in_as': 'ログイン中の利用者',
    'logout': 'ログアウト',
    'loading': '読み込み中…',

    'login.title': 'ログイン',
    'login.lead': 'サイバー攻撃・インシデント情報を共有するための会員専用システムです。',
    'login.login': 'ログイン名',
    'login.password': 'パスワード',
    'login.submit': 'ログイン',
    'login.submitting': 'ログインしています…',
    'login.notice': '認可された利用者のみ利用できます。すべてのアクセスは記録されます。',
    'login.error.invalid': 'ログイン名またはパスワードが正しくありません。',
    'login.error.throttled': 'ログインの試行回数が上限に達しました。約 {minutes} 分後に再度お試しください。',
    'login.error.throttled_soon': 'ログインの試行回数が上限に達しました。しばらくしてから再度お試しください。',
    'login.error.missing': 'ログイン名とパスワードを入力してください。',
    'login.ended': 'セッションが終了しました。もう一度ログインしてください。',
    'login.logged_out': 'ログアウトしました。',

    'home.title': 'ホーム',
    'home.welcome': '{name} さん、ようこそ。',
    'home.account': '利用者情報',
    'home.org': '所属組織',
    'home.sectors': '担当分野',
    'home.no_sectors': '分野の指定はありません。',
    'home.org_other_name': '別表記',

    'field.display_name': '表示名',
    'field.login': 'ログイン名',
    'field.roles': '役割',
    'field.locale': '表示言語',
    'field.email': 'メールアドレス',
    'field.name': '組織名',
    'field.kind': '組織種別',
    'field.tier': '構成員区分',
    'field.sectors': '分野',
    'field.sector': '分野',
    'field.contacts': '連絡先',
    'field.status': '状態',
    'field.org': '所属組織',
    'field.password': 'パスワード',
    'field.q': 'キーワード',

    'kind.operator': '重要インフラ事業者',
    'kind.sector_hub': 'セプター（分野別連絡窓口）',
    'kind.coordinator': '調整機関（ナショナルセンター）',
    'kind.ministry': '所管省庁',
    'kind.agency': '関係機関',
    'kind.vendor': 'セキュリティベンダー',

    'tier.class1': '第一類構成員',
    'tier.class2': '第二類構成員',
    'tier.general': '一般構成員',

    'role.member': 'メンバー',
    'role.analyst': '分析担当',
    'role.org_admin': '組織管理者',
    'role.admin': 'システム管理者',
    'role.auditor': '監査担当',

    'locale.ja': '日本語',
    'locale.en': 'English（英語）',

    'contact.email': 'メール',
    'contact.phone': '電話',
    'contact.webhook': 'Webhook',
    'contact.url': 'URL',

    'status.active': '有効',
    'status.disabled': '無効',

    'filter.legend': '絞り込み',
    'filter.any': 'すべて',
    'filter.apply': '絞り込む',
    'filter.reset': '条件をクリア',
    'filter.include_disabled': '無効な組織も表示',
    'filter.include_disabled_users': '無効な利用者も表示',
    'list.more': 'さらに表示',
    'list.count': '{n} 件を表示しています',
    'list.count_more': '{n} 件を表示しています（続きがあります）',

    'orgs.title': '組織一覧',
    'orgs.lead': '情報共有に参加している組織です。',
    'orgs.new': '組織を登録',
    'orgs.empty': '条件に一致する組織はありません。',
    'orgs.caption': '組織の一覧',

    'orgnew.title': '組織の登録',
    'orgnew.lead': '新しい参加組織を登録します。',
    'orgnew.names': '組織名',
    'orgnew.name_ja': '日本語名',
    'orgnew.name_en': '英語名',
    'orgnew.name_hint': '日本語名・英語名のどちらか一方は必須です（各 200 文字まで）。',
    'orgnew.sectors_hint': '重要インフラ事業者とセプターは 1 つ以上選択してください。',
    'orgnew.contacts_hint': '連絡先は 20 件まで登録できます。',
    'orgnew.created': '組織「{name}」を登録しました。',

    'contacts.add': '連絡先を追加',
    'contacts.remove': '削除',
    'contacts.remove_n': '連絡先 {n} を削除',
    'contacts.type': '種類',
    'contacts.value': 'アドレス・番号',
    'contacts.label': '用途・メモ',
    'contacts.row': '連絡先 {n}',
    'contacts.none': '連絡先は登録されていません。',

    'select.choose': '選択してください',
    'form.optional': '任意',
    'form.required': '必須',
    'form.create': '登録する',
    'form.cancel': 'キャンセル',
    'form.saving': '送信しています…',
    'form.has_errors': '入力内容を確認してください。該当する項目にメッセージを表示しています。',

    'users.title': '利用者一覧',
    'users.lead': 'isac を利用できるアカウントです。',
    'users.lead_org': '所属組織のアカウントです。',
    'users.new': '利用者を登録',
    'users.empty': '条件に一致する利用者はいません。',
    'users.caption': '利用者の一覧',

    'usernew.title': '利用者の登録',
    'usernew.lead': '新しいアカウントを作成します。初期パスワードは安全な方法で本人に伝えてください。',
    'usernew.login_hint': '半角英小文字・数字と . _ @ - を使い 3〜64 文字。',
    'usernew.password_hint': '12 文字以上。',
    'usernew.org_search': '組織を検索',
    'usernew.org_search_button': '検索',
    'usernew.org_none': '該当する組織がありません',
    'usernew.roles_hint': '1 つ以上選択してください。',
    'usernew.created': '利用者「{name}」を登録しました。',

    'password.title': 'パスワード変更',
    'password.lead': '12 文字以上の、他で使っていないパスワードを設定してください。',
    'password.current': '現在のパスワード',
    'password.new': '新しいパスワード',
    'password.confirm': '新しいパスワード（確認）',
    'password.submit': '変更する',
    'password.mismatch': '確認用のパスワードが一致しません。',
    'password.changed': 'パスワードを変更しました。',

    'reason.required': '入力してください。',
    'reason.blank': '空欄にはできません。',
    'reason.name_required': '日本語名または英語名を入力してください。',
    'reason.role_required': '役割を 1 つ以上選択してください。',
    'reason.sector_required': '分野を 1 つ以上選択してください。',
    'reason.too_long': '{n} 文字以内で入力してください。',
    'reason.too_long_bytes': '長すぎます（{n} バイトまで）。',
    'reason.too_short': '{n} 文字以上で入力してください。',
    'reason.length': '{a}〜{b} 文字で入力してください。',
    'reason.login_chars': '使用できるのは半角英小文字・数字と . _ @ - だけです。',
    'reason.kind': '組織種別を選択してください。',
    'reason.locale': '日本語または英語を選択してください。',
    'reason.contact_type': '連絡先の種類を選択してください。',
    'reason.unknown_sector': '登録されていない分野です。',
    'reason.unknown_tier': '登録されていない構成員区分です。',
    'reason.unknown_role': '登録されていない役割です。',
    'reason.email': 'メールアドレスの形式が正しくありません。',
    'reason.phone': '電話番号の形式が正しくありません。',
    'reason.url': 'http:// または https:// で始まる URL を入力してください。',
    'reason.org_id': '組織を選択してください。',
    'reason.control_chars': '制御文字は使用できません。',
    'reason.too_many': '件数が多すぎます（{n} 件まで）。',
    'reason.too_many_plain': '件数が多すぎます。',
    'reason.duplicate': '同じ値が重複しています。',
    'reason.unknown_field': '不明な項目です。',
    'reason.wrong_password': 'パスワードが正しくありません。',
    'reason.taken': 'すでに使われています。',

    'problem.title': 'エラー',
    'problem.malformed-json': '送信データを処理できませんでした。',
    'problem.bad-request': 'リクエストが正しくありません。',
    'problem.validation': '入力内容に誤りがあります。',
    'problem.unauthenticated': 'ログインが必要です。',
    'problem.forbidden': 'この操作を行う権限がありません。',
    'problem.csrf': 'セキュリティ確認に失敗しました。画面を再読み込みしてください。',
    'problem.not-found': '対象が見つかりません。',
    'problem.conflict': 'すでに登録されています。',
    'problem.too-large': '送信データが大きすぎます。',
    'problem.throttled': 'リクエストが多すぎます。しばらくしてから再度お試しください。',
    'problem.internal': 'サーバーでエラーが発生しました。',
    'problem.unavailable': 'サーバーが一時的に利用できません。',
    'problem.network': 'サーバーに接続できません。ネットワークを確認してください。',
    'problem.unknown': '処理に失敗しました。',
    'problem.server_detail': 'サーバーからの詳細',

    'page.not_found': 'ページが見つかりません',
    'page.not_found_text': '指定されたページはありません。',
    'page.forbidden': '権限がありません',
    'page.forbidden_text': 'このページを表示する権限がありません。',
    'page.back_home': 'ホームへ戻る',
    'close': '閉じる',
  },

  en: {
    'app.name': 'isac',
    'app.tagline': 'Critical-infrastructure cyber information sharing',
    'app.skip': 'Skip to main content',
    'app.noscript': 'Please enable JavaScript to use isac.',
    'lang.label': 'Switch language',
    'nav.label': 'Main menu',
    'nav.home': 'Home',
    'nav.orgs': 'Organisations',
    'nav.users': 'Users',
    'nav.password': 'Password',
    'user.signed_in_as': 'Signed in as',
    'logout': 'Sign out',
    'loading': 'Loading…',

    'login.title': 'Sign in',
    'login.lead': 'Members-only system for sharing cyber-attack and incident information.',
    'login.login': 'Login',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.submitting': 'Signing in…',
    'login.notice': 'Authorised users only. Every access is logged.',
    'login.error.invalid': 'The login or password is incorrect.',
    'login.error.throttled': 'Too many sign-in attempts. Try again in about {minutes} min.',
    'login.error.throttled_soon': 'Too many sign-in attempts. Please try again later.',
    'login.error.missing': 'Enter your login and password.',
    'login.ended': 'Your session has ended. Please sign in again.',
    'login.logged_out': 'You have signed out.',

    'home.title': 'Home',
    'home.welcome': 'Welcome, {name}.',
    'home.account': 'Your account',
    'home.org': 'Your organisation',
    'home.sectors': 'Sectors',
    'home.no_sectors': 'No sectors assigned.',
    'home.org_other_name': 'Also known as',

    'field.display_name': 'Display name',
    'field.login': 'Login',
    'field.roles': 'Roles',
    'field.locale': 'Language',
    'field.email': 'Email',
    'field.name': 'Name',
    'field.kind': 'Kind',
    'field.tier': 'Member tier',
    'field.sectors': 'Sectors',
    'field.sector': 'Sector',
    'field.contacts': 'Contacts',
    'field.status': 'Status',
    'field.org': 'Organisation',
    'field.password': 'Password',
    'field.q': 'Keyword',

    'kind.operator': 'Critical-infrastructure operator',
    'kind.sector_hub': 'Sector hub (CEPTOAR)',
    'kind.coordinator': 'Coordinator (national centre)',
    'kind.ministry': 'Responsible ministry',
    'kind.agency': 'Related agency',
    'kind.vendor': 'Security vendor',

    'tier.class1': 'Class 1 member',
    'tier.class2': 'Class 2 member',
    'tier.general': 'General member',

    'role.member': 'Member',
    'role.analyst': 'Analyst',
    'role.org_admin': 'Organisation administrator',
    'role.admin': 'System administrator',
    'role.auditor': 'Auditor',

    'locale.ja': '日本語 (Japanese)',
    'locale.en': 'English',

    'contact.email': 'Email',
    'contact.phone': 'Phone',
    'contact.webhook': 'Webhook',
    'contact.url': 'URL',

    'status.active': 'Active',
    'status.disabled': 'Disabled',

    'filter.legend': 'Filter',
    'filter.any': 'All',
    'filter.apply': 'Apply',
    'filter.reset': 'Clear',
    'filter.include_disabled': 'Include disabled organisations',
    'filter.include_disabled_users': 'Include disabled users',
    'list.more': 'Show more',
    'list.count': 'Showing {n}',
    'list.count_more': 'Showing {n} (more available)',

    'orgs.title': 'Organisations',
    'orgs.lead': 'Organisations taking part in information sharing.',
    'orgs.new': 'New organisation',
    'orgs.empty': 'No organisations match.',
    'orgs.caption': 'List of organisations',

    'orgnew.title': 'New organisation',
    'orgnew.lead': 'Register a new participating organisation.',
    'orgnew.names': 'Name',
    'orgnew.name_ja': 'Japanese name',
    'orgnew.name_en': 'English name',
    'orgnew.name_hint': 'At least one of the two names is required (up to 200 characters each).',
    'orgnew.sectors_hint': 'Operators and sector hubs need at least one sector.',
    'orgnew.contacts_hint': 'Up to 20 contacts.',
    'orgnew.created': 'Organisation “{name}” was created.',

    'contacts.add': 'Add contact',
    'contacts.remove': 'Remove',
    'contacts.remove_n': 'Remove contact {n}',
    'contacts.type': 'Type',
    'contacts.value': 'Address or number',
    'contacts.label': 'Label',
    'contacts.row': 'Contact {n}',
    'contacts.none': 'No contacts yet.',

    'select.choose': 'Select…',
    'form.optional': 'optional',
    'form.required': 'required',
    'form.create': 'Create',
    'form.cancel': 'Cancel',
    'form.saving': 'Saving…',
    'form.has_errors': 'Please check the form. The fields that need attention are marked.',

    'users.title': 'Users',
    'users.lead': 'Accounts that can use isac.',
    'users.lead_org': 'Accounts of your organisation.',
    'users.new': 'New user',
    'users.empty': 'No users match.',
    'users.caption': 'List of users',

    'usernew.title': 'New user',
    'usernew.lead': 'Create a new account. Hand the initial password to the person through a secure channel.',
    'usernew.login_hint': '3–64 characters: a–z, 0–9 and . _ @ -',
    'usernew.password_hint': 'At least 12 characters.',
    'usernew.org_search': 'Find organisation',
    'usernew.org_search_button': 'Search',
    'usernew.org_none': 'No matching organisation',
    'usernew.roles_hint': 'Select at least one.',
    'usernew.created': 'User “{name}” was created.',

    'password.title': 'Change password',
    'password.lead': 'Use at least 12 characters and a password you do not use anywhere else.',
    'password.current': 'Current password',
    'password.new': 'New password',
    'password.confirm': 'Confirm new password',
    'password.submit': 'Change password',
    'password.mismatch': 'The two new passwords do not match.',
    'password.changed': 'Your password has been changed.',

    'reason.required': 'This field is required.',
    'reason.blank': 'Must not be blank.',
    'reason.name_required': 'Enter a Japanese or an English name (or both).',
    'reason.role_required': 'Select at least one role.',
    'reason.sector_required': 'Select at least one sector.',
    'reason.too_long': 'Too long: at most {n} characters.',
    'reason.too_long_bytes': 'Too long: at most {n} bytes.',
    'reason.too_short': 'Too short: at least {n} characters.',
    'reason.length': 'Use {a} to {b} characters.',
    'reason.login_chars': 'Use only a–z, 0–9 and . _ @ -',
    'reason.kind': 'Select the kind of organisation.',
    'reason.locale': 'Select Japanese or English.',
    'reason.contact_type': 'Select the type of contact.',
    'reason.unknown_sector': 'Unknown sector.',
    'reason.unknown_tier': 'Unknown member tier.',
    'reason.unknown_role': 'Unknown role.',
    'reason.email': 'Not a valid e-mail address.',
    'reason.phone': 'Not a valid phone number.',
    'reason.url': 'Enter a URL starting with http:// or https://',
    'reason.org_id': 'Select an organisation.',
    'reason.control_chars': 'Control characters are not allowed.',
    'reason.too_many': 'Too many entries (at most {n}).',
    'reason.too_many_plain': 'Too many entries.',
    'reason.duplicate': 'The same value is listed twice.',
    'reason.unknown_field': 'Unknown field.',
    'reason.wrong_password': 'The password is incorrect.',
    'reason.taken': 'Already in use.',

    'problem.title': 'Error',
    'problem.malformed-json': 'The request could not be processed.',
    'problem.bad-request': 'The request was not valid.',
    'problem.validation': 'Some input is not valid.',
    'problem.unauthenticated': 'You need to sign in.',
    'problem.forbidden': 'You do not have permission to do this.',
    'problem.csrf': 'Security check failed. Please reload the page.',
    'problem.not-found': 'Not found.',
    'problem.conflict': 'This already exists.',
    'problem.too-large': 'The request is too large.',
    'problem.throttled': 'Too many requests. Please try again later.',
    'problem.internal': 'The server encountered an error.',
    'problem.unavailable': 'The server is temporarily unavailable.',
    'problem.network': 'Cannot reach the server. Check your network connection.',
    'problem.unknown': 'The request failed.',
    'problem.server_detail': 'Details from the server',

    'page.not_found': 'Page not found',
    'page.not_found_text': 'There is no such page.',
    'page.forbidden': 'Not permitted',
    'page.forbidden_text': 'You do not have permission to view this page.',
    'page.back_home': 'Back to home',
    'close': 'Close',
  },
};

let current = initialLang();

function normalize(tag) {
  if (typeof tag !== 'string') return null;
  const base = tag.toLowerCase().split('-')[0];
  return LANGS.includes(base) ? base : null;
}

function storedLang() {
  try { return normalize(localStorage.getItem(STORE_KEY)); } catch { return null; }
}

function initialLang() {
  const stored = storedLang();
  if (stored) return stored;
  const prefs = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language];
  for (const tag of prefs) {
    const l = normalize(tag);
    if (l) return l;
  }
  return 'en';
}

export function lang() { return current; }

/** True when the user picked a language explicitly (it then wins over the account's locale). */
export function hasStoredChoice() { return storedLang() !== null; }

/** Switch language. `persist` records an explicit user choice in localStorage. */
export function setLang(l, persist) {
  const n = normalize(l);
  if (!n) return false;
  current = n;
  if (persist) {
    try { localStorage.setItem(STORE_KEY, n); } catch { /* storage unavailable: keep in memory */ }
  }
  return true;
}

export function t(key, params) {
  let s = messages[current][key];
  if (s === undefined) s = messages.en[key];
  if (s === undefined) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

export function has(key) { return key in messages[current]; }

/** Pick the text of a {ja, en} object in the current language, falling back to the other one. */
export function pick(obj) {
  if (!obj || typeof obj !== 'object') return '';
  const other = current === 'ja' ? 'en' : 'ja';
  return obj[current] || obj[other] || '';
}

/** The text in the other language, if it differs and exists. */
export function pickOther(obj) {
  if (!obj || typeof obj !== 'object') return '';
  const other = current === 'ja' ? 'en' : 'ja';
  return obj[current] && obj[other] && obj[other] !== obj[current] ? obj[other] : '';
}
