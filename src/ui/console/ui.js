/*
 * Switchboard console — formatting and DOM helpers the sections share: numbers, durations and
 * dates in the UI language, avatars, queue and skill chips, empty and loading states, busy
 * buttons. No state.
 */
import { i18n, t } from '../common/i18n.js';
import * as U from '../common/util.js';

var el = U.el;

export function isNum(v) { return typeof v === 'number' && isFinite(v); }
export function num(v) { return isNum(v) ? v : null; }
export function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
export function arr(v) { return Array.isArray(v) ? v : []; }
export function obj(v) { return v && typeof v === 'object' && !Array.isArray(v) ? v : {}; }
export function has(o, k) { return o != null && Object.prototype.hasOwnProperty.call(o, k); }
export function sig(v) { try { return JSON.stringify(v); } catch (e) { return String(Math.random()); } }
export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
export function svgEl(tag, attrs) {
  var n = document.createElementNS('http://www.w3.org/2000/svg', tag);
  Object.keys(attrs || {}).forEach(function (k) { if (attrs[k] != null) n.setAttribute(k, attrs[k]); });
  return n;
}
export function lbl(prefix, key) { var k = prefix + key; var s = t(k); return s === k ? String(key) : s; }

export function fmtInt(n) {
  if (!isNum(n)) return '—';
  try { return new Intl.NumberFormat(i18n.lang).format(n); } catch (e) { return String(n); }
}
export function fmtPct(r, digits) {
  if (!isNum(r)) return '—';
  var p = r * 100;
  if (digits == null) digits = (p !== 0 && Math.abs(p) < 10 && Math.round(p) !== p) ? 1 : 0;
  return p.toFixed(digits) + '%';
}
/** Seconds → "12 s", "4.5 s", "3 min 20 s", "2 h 5 min". */
export function fmtSecs(s) {
  if (!isNum(s)) return '—';
  if (s < 10 && Math.round(s) !== s) return t('common.secs', { n: (Math.round(s * 10) / 10).toFixed(1) });
  s = Math.round(s);
  if (s < 60) return t('common.secs', { n: s });
  if (s < 3600) { var m = Math.floor(s / 60), r = s % 60; return r ? t('common.minsSecs', { m: m, s: r }) : t('common.mins', { n: m }); }
  if (s < 86400) { var h = Math.floor(s / 3600), mm = Math.round((s % 3600) / 60); return mm ? t('common.hoursMins', { h: h, m: mm }) : t('common.hours', { n: h }); }
  return t('common.days', { n: Math.round(s / 86400) });
}
export function fmtMs(ms) { return isNum(ms) ? fmtSecs(ms / 1000 >= 10 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10) : '—'; }
export function fmtWindow(secs) {
  if (!isNum(secs)) return '';
  if (secs % 3600 === 0) return t('common.hours', { n: secs / 3600 });
  return fmtSecs(secs);
}
export function fmtDateTime(v, withYear) {
  if (v == null || v === '') return '—';
  var d = U.toDate(v);
  try {
    var o = { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false };
    if (withYear) o.year = 'numeric';
    return new Intl.DateTimeFormat(i18n.lang, o).format(d);
  } catch (e) { return d.toISOString().slice(0, 16).replace('T', ' '); }
}
export function fmtWhen(v) {
  if (v == null || v === '') return '—';
  var d = U.toDate(v), now = new Date();
  if (d.toDateString() === now.toDateString()) return t('common.today') + ' ' + U.formatTime(d);
  return fmtDateTime(d);
}
export function fmtAgo(v) {
  var secs = Math.max(0, Math.round((Date.now() - U.toDate(v).getTime()) / 1000));
  if (secs < 10) return t('common.justNow');
  return t('common.ago', { d: fmtSecs(secs < 3600 ? secs : Math.round(secs / 60) * 60) });
}
export function fmtLeft(ms) {
  var s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) s = Math.round(s / 60) * 60;
  return fmtSecs(s);
}

export function avatarNode(name, cls) {
  return el('span', { class: 'avatar' + (cls ? ' ' + cls : ''), 'aria-hidden': 'true', style: { background: U.avatarColor(name) }, text: U.initials(name) });
}
export function queueColor(name) { return U.avatarColor('q:' + name); }
export function queueTag(name) {
  return el('span', { class: 'queue-tag' }, [el('span', { class: 'q-swatch', style: { background: queueColor(name || '') } }), String(name || '—')]);
}
export function skillChip(name, level, missing) {
  var dots = null;
  if (isNum(level)) {
    dots = el('span', { class: 'skill-level', title: level + '/5', 'aria-label': level + '/5' });
    for (var i = 1; i <= 5; i++) dots.appendChild(el('i', { class: i <= level ? 'on' : '' }));
  }
  return el('span', { class: 'skill-chip' + (missing ? ' is-missing' : ''), 'data-testid': 'skill-chip' }, [String(name), dots]);
}
export function needChip(need) {
  var n = obj(need);
  return el('span', { class: 'skill-chip' }, [String(n.name || '?'), isNum(n.min_level) ? el('span', { class: 'muted', text: '≥' + n.min_level }) : null]);
}
export function emptyState(kind, title, text, extra) {
  var art = kind === 'error'
    ? '<svg viewBox="0 0 56 56" fill="none" aria-hidden="true"><circle cx="28" cy="28" r="20" fill="#fff0f6" stroke="#fcc2d7" stroke-width="1.5"/><path d="M28 19v11M28 36v.5" stroke="#d6336c" stroke-width="3" stroke-linecap="round"/></svg>'
    : '<svg viewBox="0 0 56 56" fill="none" aria-hidden="true"><rect x="9" y="14" width="38" height="28" rx="8" fill="#eef2ff"/><rect x="15" y="21" width="18" height="4" rx="2" fill="#bac8ff"/><rect x="15" y="29" width="26" height="4" rx="2" fill="#dbe4ff"/></svg>';
  var node = el('div', { class: 'empty', 'data-testid': kind === 'error' ? 'error-state' : 'empty-state' });
  node.innerHTML = art;
  node.appendChild(el('strong', { text: title }));
  if (text) node.appendChild(el('p', { text: text }));
  if (extra) node.appendChild(extra);
  return node;
}
export function loadingRow(text) { return el('div', { class: 'loading-row', 'data-testid': 'loading' }, [el('span', { class: 'spinner' }), text || t('hist.loading')]); }

export function setBusy(btn, busyKey) {
  if (!btn) return;
  var span = btn.querySelector('span[data-i18n]') || btn.querySelector('span');
  if (busyKey) {
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    if (span) { span.setAttribute('data-prev', span.getAttribute('data-i18n') || ''); span.removeAttribute('data-i18n'); span.textContent = t(busyKey); }
  } else {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    if (span && span.hasAttribute('data-prev')) { var k = span.getAttribute('data-prev'); span.setAttribute('data-i18n', k); span.textContent = t(k); span.removeAttribute('data-prev'); }
  }
}
export function fmtClock(ms) {
  var d = new Date(ms);
  try { return new Intl.DateTimeFormat(i18n.lang, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d); }
  catch (e) { return d.toTimeString().slice(0, 8); }
}

/** "tech≥3" (or "tech>=3", "tech") → {name, min_level}. */
export function parseNeed(s) {
  var m = /^(.*?)\s*(?:≥|>=)\s*(\d+)\s*$/.exec(String(s));
  return m ? { name: m[1], min_level: Number(m[2]) } : { name: String(s), min_level: null };
}
export function channelBadge(ch) {
  return el('span', { class: 'chan chan-' + String(ch || '').replace(/[^a-z]/g, ''), text: lbl('channel.', ch || '—') });
}
export function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, '\\$&'); }
export function fmtDays(days) {
  var d = arr(days).slice().sort();
  if (d.join(',') === '1,2,3,4,5') return t('day.weekdays');
  if (d.join(',') === '1,2,3,4,5,6,7') return t('day.everyday');
  return d.map(function (x) { return lbl('day.', x); }).join(' ');
}
