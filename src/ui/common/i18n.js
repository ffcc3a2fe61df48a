/*
 * Switchboard — the translation layer every page shares (zh-CN / en) and its language switch.
 *
 *   import { i18n, t } from '/ui/common/i18n.js';
 *   i18n.register({ en: {...}, 'zh-CN': {...} })   a page's strings (its i18n/<locale>.js files)
 *   t('key', { name: 'Alice' })                    "{name}" placeholders are substituted
 *   i18n.lang                                      'en' or 'zh-CN'
 *
 * Markup hooks understood by i18n.apply():
 *   data-i18n="key"                 -> textContent
 *   data-i18n-placeholder="key"     -> placeholder attribute
 *   data-i18n-aria-label="key"      -> aria-label attribute
 *   data-i18n-title="key"           -> title attribute
 *   data-lang-switch                -> button that toggles zh-CN <-> en
 *
 * The strings of the shared parts (util.js, login.js, topbar.js) are in ./i18n/ and registered
 * here; a page's own strings registered later win over them.
 */
import en from './i18n/en.js';
import zhCN from './i18n/zh-CN.js';

var STORAGE_KEY = 'switchboard.lang';
var SUPPORTED = ['en', 'zh-CN'];
var dict = { en: {}, 'zh-CN': {} };
var listeners = [];

function detect() {
  var saved = null;
  try { saved = window.localStorage.getItem(STORAGE_KEY); } catch (e) { /* private mode */ }
  if (saved && SUPPORTED.indexOf(saved) !== -1) return saved;
  var langs = (window.navigator && (window.navigator.languages || [window.navigator.language])) || [];
  for (var i = 0; i < langs.length; i++) {
    var l = String(langs[i] || '').toLowerCase();
    if (l.indexOf('zh') === 0) return 'zh-CN';
    if (l.indexOf('en') === 0) return 'en';
  }
  return 'en';
}

var current = detect();

function register(messages) {
  Object.keys(messages).forEach(function (lang) {
    dict[lang] = dict[lang] || {};
    Object.keys(messages[lang]).forEach(function (k) { dict[lang][k] = messages[lang][k]; });
  });
}

/** t('key', {name: 'Alice'}) — "{name}" placeholders are substituted. */
export function t(key, vars) {
  var s = (dict[current] && dict[current][key]);
  if (s == null) s = dict.en[key];
  if (s == null) s = key;
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
    });
  }
  return s;
}

function apply(root) {
  root = root || document;
  root.querySelectorAll('[data-i18n]').forEach(function (el) { el.textContent = t(el.getAttribute('data-i18n')); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach(function (el) { el.setAttribute('placeholder', t(el.getAttribute('data-i18n-placeholder'))); });
  root.querySelectorAll('[data-i18n-aria-label]').forEach(function (el) { el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria-label'))); });
  root.querySelectorAll('[data-i18n-title]').forEach(function (el) { el.setAttribute('title', t(el.getAttribute('data-i18n-title'))); });
  document.documentElement.setAttribute('lang', current);
  // The switch shows the language you would switch TO.
  document.querySelectorAll('[data-lang-switch]').forEach(function (btn) {
    var other = current === 'zh-CN' ? 'en' : 'zh-CN';
    btn.textContent = other === 'zh-CN' ? '中文' : 'English';
    btn.setAttribute('lang', other);
    btn.setAttribute('aria-label', other === 'zh-CN' ? '切换到中文' : 'Switch to English');
    btn.setAttribute('title', other === 'zh-CN' ? '切换到中文' : 'Switch to English');
  });
}

function setLang(lang) {
  if (SUPPORTED.indexOf(lang) === -1) lang = 'en';
  current = lang;
  try { window.localStorage.setItem(STORAGE_KEY, lang); } catch (e) { /* ignore */ }
  apply();
  listeners.forEach(function (fn) { try { fn(lang); } catch (e) { console.error(e); } });
}

function onChange(fn) { listeners.push(fn); }

function bindSwitches() {
  document.addEventListener('click', function (ev) {
    var btn = ev.target.closest && ev.target.closest('[data-lang-switch]');
    if (!btn) return;
    ev.preventDefault();
    setLang(current === 'zh-CN' ? 'en' : 'zh-CN');
  });
}

export const i18n = {
  register: register,
  t: t,
  apply: apply,
  setLang: setLang,
  onChange: onChange,
  bindSwitches: bindSwitches,
  get lang() { return current; }
};

register({ en: en, 'zh-CN': zhCN });
