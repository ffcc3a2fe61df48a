/*
 * Switchboard console — how History shows what changed between two rule-set versions (the
 * diff of GET /v1/routing/rules/versions and of audit entries): one block per change, fields
 * before and after, written the way a person reads them.
 */
import { t } from '../common/i18n.js';
import { el } from '../common/util.js';
import { arr, fmtDays, fmtSecs, isNum, lbl, num, obj, sig } from './ui.js';

function jsonText(v) {
  if (v === undefined) return '—';
  var s = JSON.stringify(v);
  if (s && s.length > 60) s = JSON.stringify(v, null, 2);
  return s == null ? 'null' : s;
}
export function skillsText(list) {
  var a = arr(list);
  return a.length ? a.map(function (x) { x = obj(x); return (x.name || '?') + (isNum(x.min_level) ? ' ≥' + x.min_level : ''); }).join(', ') : t('card.anyAgent');
}
/** A field value as a person reads it: skills, overflow steps, hours … else compact JSON. */
function humanValue(field, v) {
  if (v === undefined || v === null) return t('hist.none');
  if (field === 'skills' && Array.isArray(v)) return skillsText(v);
  if (field === 'overflow' && Array.isArray(v)) {
    if (!v.length) return '—';
    return v.map(function (o) {
      o = obj(o);
      return t('card.after', { s: fmtSecs(num(o.after_secs)) }) + (o.queue ? ' → ' + o.queue : '') + ' · ' + t('card.relax') + ': ' + skillsText(o.skills);
    }).join('\n');
  }
  if (field === 'strategy' && typeof v === 'string') return lbl('strategy.', v) + ' (' + v + ')';
  if (field === 'fallback' && typeof v === 'string') return lbl('fallback.', v);
  if (field === 'hours' && Array.isArray(v)) return v.length ? v.map(function (h) { h = obj(h); return fmtDays(h.days) + ' ' + (h.from || '?') + '–' + (h.to || '?'); }).join('\n') : t('card.alwaysOpen');
  if ((field === 'max_wait_secs' || field === 'sticky_secs' || field === 'after_secs') && isNum(v)) return fmtSecs(v);
  if (typeof v === 'string') return v;
  if (typeof v !== 'object') return String(v);
  return jsonText(v);
}
var FIELD_ORDER = ['name', 'when', 'queue', 'skills', 'priority', 'aging_per_minute', 'strategy', 'sticky_secs', 'overflow',
  'hours', 'utc_offset_minutes', 'holidays', 'max_wait_secs', 'fallback'];
function orderedKeys(o) {
  return Object.keys(o).sort(function (a, b) {
    var ia = FIELD_ORDER.indexOf(a), ib = FIELD_ORDER.indexOf(b);
    return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib) || a.localeCompare(b);
  });
}
function describePath(path) {
  var m = /^(rules|queues)\.(.+)$/.exec(String(path || ''));
  return m ? [el('span', { class: 'muted', text: (m[1] === 'rules' ? t('ovr.rule') : t('card.queue')) + ' ' }), m[2]] : [String(path || '')];
}
export function renderChange(c) {
  c = obj(c);
  var op = String(c.op || 'changed');
  var fields = arr(c.fields);
  var node = el('div', { class: 'change', 'data-testid': 'diff-change', 'data-op': op }, [
    el('div', { class: 'change-head' }, [
      el('span', { class: 'op op-' + op, text: lbl('op.', op) }),
      el('span', { class: 'change-path' }, describePath(c.path)),
      fields.length ? el('span', { class: 'change-fields', text: fields.join(', ') }) : null
    ])
  ]);
  var before = c.before, after = c.after;
  if ((op === 'added' || op === 'removed') && (op === 'added' ? after : before) && typeof (op === 'added' ? after : before) === 'object') {
    var whole = obj(op === 'added' ? after : before);
    var kv = el('div', { class: 'change-kv ' + (op === 'added' ? 'after' : 'before') });
    orderedKeys(whole).forEach(function (k) {
      if (k === 'name' || whole[k] === null || (Array.isArray(whole[k]) && !whole[k].length && k !== 'skills')) return;
      if ((k === 'priority' || k === 'aging_per_minute' || k === 'utc_offset_minutes') && whole[k] === 0) return;
      kv.appendChild(el('div', { class: 'fname', text: k }));
      kv.appendChild(el('pre', { text: humanValue(k, whole[k]) }));
    });
    node.appendChild(kv);
  } else if (op === 'added' || op === 'removed') {
    node.appendChild(el('div', { class: 'change-one ' + (op === 'added' ? 'after' : 'before') }, [el('pre', { text: jsonText(op === 'added' ? after : before) })]));
  } else if (op === 'moved' && (isNum(before) || isNum(after))) {
    node.appendChild(el('div', { class: 'change-one', text: t('hist.moved', { from: isNum(before) ? before + 1 : '?', to: isNum(after) ? after + 1 : '?' }) }));
  } else {
    var grid = el('div', { class: 'change-body' }, [el('div', { class: 'fh', text: t('hist.field') }), el('div', { class: 'fh', text: t('hist.before') }), el('div', { class: 'fh', text: t('hist.after') })]);
    var b = obj(before), a = obj(after);
    var keys = fields.length ? fields : orderedKeys(Object.assign({}, b, a)).filter(function (k) { return sig(b[k]) !== sig(a[k]); });
    if (!keys.length || (typeof before !== 'object' && typeof after !== 'object')) {
      grid.appendChild(el('div', { class: 'fname', text: '·' }));
      grid.appendChild(el('div', { class: 'before' }, [el('pre', { text: humanValue('', before) })]));
      grid.appendChild(el('div', { class: 'after' }, [el('pre', { text: humanValue('', after) })]));
    } else keys.forEach(function (k) {
      grid.appendChild(el('div', { class: 'fname', text: k }));
      grid.appendChild(el('div', { class: 'before' }, [el('pre', { text: humanValue(k, b[k]) })]));
      grid.appendChild(el('div', { class: 'after' }, [el('pre', { text: humanValue(k, a[k]) })]));
    });
    node.appendChild(grid);
  }
  return node;
}
