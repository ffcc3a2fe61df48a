/*
 * Switchboard — small helpers every page shares (no dependencies beyond ./i18n.js): ids, dates,
 * avatars, element building, HTTP and WebSocket addresses, toasts.
 */
import { i18n, t } from './i18n.js';

export function uuid() {
  var c = window.crypto;
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

export function toDate(v) {
  if (v == null || v === '') return new Date();
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v);
  var d = new Date(v);
  return isNaN(d.getTime()) ? new Date() : d;
}

export function formatTime(v) {
  var d = toDate(v);
  var current = i18n.lang;
  try {
    return new Intl.DateTimeFormat(current, { hour: '2-digit', minute: '2-digit', hour12: current !== 'zh-CN' ? undefined : false }).format(d);
  } catch (e) {
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }
}

export function formatDay(v) {
  var d = toDate(v);
  var now = new Date();
  var sameDay = d.toDateString() === now.toDateString();
  var y = new Date(now); y.setDate(now.getDate() - 1);
  if (sameDay) return t('common.today');
  if (d.toDateString() === y.toDateString()) return t('common.yesterday');
  try { return new Intl.DateTimeFormat(i18n.lang, { month: 'short', day: 'numeric', weekday: 'short' }).format(d); }
  catch (e) { return d.toDateString(); }
}

export function dayKey(v) { return toDate(v).toDateString(); }

export function initials(name) {
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
export function avatarColor(seed) {
  var s = String(seed || ''), h = 0;
  for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/** Create an element: el('div', {class: 'x', 'data-testid': 'y'}, [children|text]) */
export function el(tag, attrs, children) {
  var node = document.createElement(tag);
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
    node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  });
  return node;
}

/**
 * fetch wrapper. Resolves {status, ok, data, retryAfter}; never throws on
 * HTTP errors (only on network failure).
 */
export function request(method, url, opts) {
  opts = opts || {};
  var headers = { 'Accept': 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.token) headers['Authorization'] = 'Bearer ' + opts.token;
  if (opts.headers) Object.keys(opts.headers).forEach(function (k) { headers[k] = opts.headers[k]; });
  return window.fetch(url, {
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
export function errorCode(resp) {
  return resp && resp.data && resp.data.error && resp.data.error.code || null;
}

/** The server's error message, else "HTTP <status>". */
export function errorMessage(resp) {
  return (resp && resp.data && resp.data.error && resp.data.error.message) || ('HTTP ' + (resp && resp.status));
}

/**
 * The signed-in API helper: api = apiClient(getToken, onExpired) gives api(method, url, body, headers),
 * which sends getToken() as the bearer token and resolves like request(). With `onExpired`, a
 * 401 while still signed in (getToken() set) calls onExpired() instead, and the promise never
 * settles: the page has gone back to its login card.
 */
export function apiClient(getToken, onExpired) {
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

export function wsUrl(path, token) {
  return (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + path + '?token=' + encodeURIComponent(token);
}

/** Exponential back-off with jitter: 0.5s, 1s, 2s … capped at 15s. */
export function backoff(attempt) {
  var base = Math.min(15000, 500 * Math.pow(2, Math.max(0, attempt)));
  return Math.round(base * (0.7 + Math.random() * 0.6));
}

/** A toast in #toasts (at most 4; errors stay 7 s, the rest 4.5 s). kind: 'error' or none. */
export function toast(text, kind) {
  var box = document.getElementById('toasts');
  var node = el('div', { class: 'toast' + (kind === 'error' ? ' is-error' : ''), role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'toast' }, [
    el('span', { text: text }),
    el('button', { type: 'button', class: 'toast-close', 'aria-label': t('common.close'), text: '×', onclick: function () { node.remove(); } })
  ]);
  box.appendChild(node);
  while (box.children.length > 4) box.removeChild(box.firstChild);
  setTimeout(function () { node.remove(); }, kind === 'error' ? 7000 : 4500);
}

/** Auto-grow a textarea up to its CSS max-height. */
export function autosize(ta) {
  ta.style.height = 'auto';
  ta.style.height = Math.min(ta.scrollHeight, 160) + 'px';
}
