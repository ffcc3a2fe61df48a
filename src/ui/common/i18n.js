/*
 * Switchboard — shared front-end helpers (no dependencies).
 *
 *   Switchboard.i18n   tiny translation layer (zh-CN / en) + language switch
 *   Switchboard.util   formatting, ids, avatars, HTTP helpers, toasts
 *
 * Markup hooks understood by i18n.apply():
 *   data-i18n="key"                 -> textContent
 *   data-i18n-placeholder="key"     -> placeholder attribute
 *   data-i18n-aria-label="key"      -> aria-label attribute
 *   data-i18n-title="key"           -> title attribute
 *   data-lang-switch                -> button that toggles zh-CN <-> en
 */
(function (global) {
  'use strict';

  var STORAGE_KEY = 'switchboard.lang';
  var SUPPORTED = ['en', 'zh-CN'];
  var dict = { en: {}, 'zh-CN': {} };
  var listeners = [];

  function detect() {
    var saved = null;
    try { saved = global.localStorage.getItem(STORAGE_KEY); } catch (e) { /* private mode */ }
    if (saved && SUPPORTED.indexOf(saved) !== -1) return saved;
    var langs = (global.navigator && (global.navigator.languages || [global.navigator.language])) || [];
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
  function t(key, vars) {
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
    root = root || global.document;
    root.querySelectorAll('[data-i18n]').forEach(function (el) { el.textContent = t(el.getAttribute('data-i18n')); });
    root.querySelectorAll('[data-i18n-placeholder]').forEach(function (el) { el.setAttribute('placeholder', t(el.getAttribute('data-i18n-placeholder'))); });
    root.querySelectorAll('[data-i18n-aria-label]').forEach(function (el) { el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria-label'))); });
    root.querySelectorAll('[data-i18n-title]').forEach(function (el) { el.setAttribute('title', t(el.getAttribute('data-i18n-title'))); });
    global.document.documentElement.setAttribute('lang', current);
    // The switch shows the language you would switch TO.
    global.document.querySelectorAll('[data-lang-switch]').forEach(function (btn) {
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
    try { global.localStorage.setItem(STORAGE_KEY, lang); } catch (e) { /* ignore */ }
    apply();
    listeners.forEach(function (fn) { try { fn(lang); } catch (e) { console.error(e); } });
  }

  function onChange(fn) { listeners.push(fn); }

  function bindSwitches() {
    global.document.addEventListener('click', function (ev) {
      var btn = ev.target.closest && ev.target.closest('[data-lang-switch]');
      if (!btn) return;
      ev.preventDefault();
      setLang(current === 'zh-CN' ? 'en' : 'zh-CN');
    });
  }

  var i18n = {
    register: register,
    t: t,
    apply: apply,
    setLang: setLang,
    onChange: onChange,
    bindSwitches: bindSwitches,
    get lang() { return current; }
  };

  /* ------------------------------------------------------------------ util */

  function uuid() {
    var c = global.crypto;
    if (c && typeof c.randomUUID === 'function') {
      try { return c.randomUUID(); } catch (e) { /* insecure context */ }
    }
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function toDate(v) {
    if (v == null || v === '') return new Date();
    if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v);
    var d = new Date(v);
    return isNaN(d.getTime()) ? new Date() : d;
  }

  function formatTime(v) {
    var d = toDate(v);
    try {
      return new Intl.DateTimeFormat(current, { hour: '2-digit', minute: '2-digit', hour12: current !== 'zh-CN' ? undefined : false }).format(d);
    } catch (e) {
      return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
    }
  }

  function formatDay(v) {
    var d = toDate(v);
    var now = new Date();
    var sameDay = d.toDateString() === now.toDateString();
    var y = new Date(now); y.setDate(now.getDate() - 1);
    if (sameDay) return t('common.today');
    if (d.toDateString() === y.toDateString()) return t('common.yesterday');
    try { return new Intl.DateTimeFormat(current, { month: 'short', day: 'numeric', weekday: 'short' }).format(d); }
    catch (e) { return d.toDateString(); }
  }

  function dayKey(v) { return toDate(v).toDateString(); }

  function initials(name) {
    name = String(name || '').trim();
    if (!name) return '?';
    // CJK names: use the first character.
    if (/[\u3400-\u9fff]/.test(name.charAt(0))) return name.charAt(0);
    var parts = name.split(/[\s._-]+/).filter(Boolean);
    // Prefer words that start with a letter ("Visitor Jade 5537" -> "VJ").
    var words = parts.filter(function (p) { return /^\p{L}/u.test(p); });
    if (words.length > 1) parts = words;
    var s = parts.length > 1 ? parts[0].charAt(0) + parts[parts.length - 1].charAt(0) : name.slice(0, 2);
    return s.toUpperCase();
  }

  var PALETTE = ['#4c6ef5', '#12b886', '#f59f00', '#e64980', '#7950f2', '#1c7ed6', '#0ca678', '#f76707', '#ae3ec9', '#2b8a3e'];
  function avatarColor(seed) {
    var s = String(seed || ''), h = 0;
    for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }

  /** Create an element: el('div', {class: 'x', 'data-testid': 'y'}, [children|text]) */
  function el(tag, attrs, children) {
    var node = global.document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v == null || v === false) return;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
        else if (k.indexOf('on') === 0 && typeof v === 'function') node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : v);
      });
    }
    (children || []).forEach(function (c) {
      if (c == null || c === false) return;
      node.appendChild(typeof c === 'string' ? global.document.createTextNode(c) : c);
    });
    return node;
  }

  /**
   * fetch wrapper. Resolves {status, ok, data, retryAfter}; never throws on
   * HTTP errors (only on network failure).
   */
  function request(method, url, opts) {
    opts = opts || {};
    var headers = { 'Accept': 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.token) headers['Authorization'] = 'Bearer ' + opts.token;
    if (opts.headers) Object.keys(opts.headers).forEach(function (k) { headers[k] = opts.headers[k]; });
    return global.fetch(url, {
      method: method,
      headers: headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      cache: 'no-store',
      credentials: 'same-origin'
    }).then(function (res) {
      return res.text().then(function (txt) {
        var data = null;
        if (txt) { try { data = JSON.parse(txt); } catch (e) { data = { raw: txt }; } }
        var ra = res.headers.get('Retry-After');
        return { status: res.status, ok: res.ok, data: data, retryAfter: ra ? Number(ra) : null };
      });
    });
  }

  /* Errors come back as JSON {"error": {"code", "message"}}; these two read them. */
  function errorCode(resp) {
    return resp && resp.data && resp.data.error && resp.data.error.code || null;
  }

  /** The server's error message, else "HTTP <status>". */
  function errorMessage(resp) {
    return (resp && resp.data && resp.data.error && resp.data.error.message) || ('HTTP ' + (resp && resp.status));
  }

  /**
   * The signed-in API helper: api = apiClient(getToken, onExpired) gives api(method, url, body, headers),
   * which sends getToken() as the bearer token and resolves like request(). With `onExpired`, a
   * 401 while still signed in (getToken() set) calls onExpired() instead, and the promise never
   * settles: the page has gone back to its login card.
   */
  function apiClient(getToken, onExpired) {
    return function (method, url, body, headers) {
      return request(method, url, { token: getToken(), body: body, headers: headers }).then(function (r) {
        if (r.status === 401 && onExpired && getToken()) {
          onExpired();
          return new Promise(function () { /* never settles */ });
        }
        return r;
      });
    };
  }

  function wsUrl(path, token) {
    return (global.location.protocol === 'https:' ? 'wss://' : 'ws://') + global.location.host + path + '?token=' + encodeURIComponent(token);
  }

  /** Exponential back-off with jitter: 0.5s, 1s, 2s … capped at 15s. */
  function backoff(attempt) {
    var base = Math.min(15000, 500 * Math.pow(2, Math.max(0, attempt)));
    return Math.round(base * (0.7 + Math.random() * 0.6));
  }

  /** A toast in #toasts (at most 4; errors stay 7 s, the rest 4.5 s). kind: 'error' or none. */
  function toast(text, kind) {
    var box = global.document.getElementById('toasts');
    var node = el('div', { class: 'toast' + (kind === 'error' ? ' is-error' : ''), role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'toast' }, [
      el('span', { text: text }),
      el('button', { type: 'button', class: 'toast-close', 'aria-label': t('common.close'), text: '×', onclick: function () { node.remove(); } })
    ]);
    box.appendChild(node);
    while (box.children.length > 4) box.removeChild(box.firstChild);
    setTimeout(function () { node.remove(); }, kind === 'error' ? 7000 : 4500);
  }

  /** Auto-grow a textarea up to its CSS max-height. */
  function autosize(ta) {
    ta.style.height = 'auto';
    ta.style.height = Math.min(ta.scrollHeight, 160) + 'px';
  }

  register({
    en: { 'common.today': 'Today', 'common.yesterday': 'Yesterday', 'common.close': 'Close' },
    'zh-CN': { 'common.today': '今天', 'common.yesterday': '昨天', 'common.close': '关闭' }
  });

  global.Switchboard = global.Switchboard || {};
  global.Switchboard.i18n = i18n;
  global.Switchboard.util = {
    uuid: uuid, toDate: toDate, formatTime: formatTime, formatDay: formatDay, dayKey: dayKey,
    initials: initials, avatarColor: avatarColor, el: el, request: request, errorCode: errorCode,
    errorMessage: errorMessage, apiClient: apiClient, toast: toast,
    wsUrl: wsUrl, backoff: backoff, autosize: autosize
  };
})(window);
