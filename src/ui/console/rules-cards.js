/*
 * Switchboard console — the preview cards of the rules editor: one card per rule (condition,
 * queue, skills, overflow ladder, badges) and per queue setting (hours, max wait, fallback), each
 * with the problems that point into it. `jump(path)` moves the editor's caret to a problem.
 */
import { t } from '../common/i18n.js';
import { el } from '../common/util.js';
import { arr, fmtDays, fmtSecs, isNum, lbl, needChip, num, obj, queueTag } from './ui.js';

export function problemRow(tg, jump) {
  return el('div', { class: 'rule-problem', role: 'button', tabindex: '0', 'data-testid': 'card-problem', 'data-path': tg.path,
    onclick: function () { jump(tg.path); }, onkeydown: function (ev) { if (ev.key === 'Enter') jump(tg.path); } }, [
    el('code', { class: 'problem-path', text: tg.path }),
    el('span', { class: 'problem-msg', text: tg.message })
  ]);
}

export function ruleCard(r, idx, probs, jump) {
  var bad = {};
  probs.forEach(function (p) { bad[p.field || 'name'] = bad[p.field || 'name'] || []; bad[p.field || 'name'].push(p); });
  var mark = function (field, node) {
    if (bad[field] && bad[field].some(function (p) { return p.sub == null; })) node.classList.add('is-bad-field');
    return node;
  };
  var badges = el('div', { class: 'rule-badges' });
  if (isNum(r.priority) && r.priority) badges.appendChild(el('span', { class: 'badge badge-accent', title: t('card.priorityTitle', { n: r.priority }), text: t('card.priority', { n: r.priority }) }));
  if (isNum(r.aging_per_minute) && r.aging_per_minute) badges.appendChild(el('span', { class: 'badge', title: t('card.agingTitle', { n: r.aging_per_minute }), text: t('card.aging', { n: r.aging_per_minute }) }));
  if (r.strategy) badges.appendChild(mark('strategy', el('span', { class: 'badge', text: lbl('strategy.', r.strategy) })));
  if (isNum(r.sticky_secs)) badges.appendChild(el('span', { class: 'badge', text: t('card.sticky', { n: r.sticky_secs }) }));

  var when = r.when == null ? 'true' : String(r.when);
  var always = /^\s*true\s*$/.test(when);
  var body = el('dl', { class: 'rule-body' });
  var row = function (label, field, content) {
    var dd = el('dd', {}, content);
    if (bad[field]) dd.classList.add('has-bad');
    body.appendChild(el('dt', { text: label }));
    body.appendChild(dd);
  };
  row(t('card.when'), 'when', [mark('when', el('code', { class: 'cond' + (always ? ' is-always' : ''), 'data-testid': 'rule-when', text: always ? t('card.always') : when }))]);
  row(t('card.queue'), 'queue', [mark('queue', queueTag(r.queue))]);
  var skills = arr(r.skills);
  var skillNodes = skills.length ? skills.map(function (s, j) {
    var chip = needChip(s);
    if (probs.some(function (p) { return p.field === 'skills' && p.sub === j; })) chip.classList.add('is-missing');
    return chip;
  }) : [el('span', { class: 'muted', text: t('card.anyAgent') })];
  row(t('card.skills'), 'skills', [mark('skills', el('div', { class: 'chips' }, skillNodes))]);
  var overflow = arr(r.overflow);
  if (overflow.length || bad.overflow) {
    var ladder = el('ol', { class: 'ladder' });
    overflow.forEach(function (o, k) {
      o = obj(o);
      var li = el('li', {}, [el('span', { class: 'after', text: t('card.after', { s: fmtSecs(num(o.after_secs)) }) })]);
      if (o.queue) { li.appendChild(el('span', { class: 'muted', text: t('card.moveTo') })); li.appendChild(queueTag(o.queue)); }
      var ss = arr(o.skills);
      li.appendChild(el('span', { class: 'muted', text: t('card.relax') }));
      if (ss.length) ss.forEach(function (s) { li.appendChild(needChip(s)); });
      else li.appendChild(el('span', { class: 'badge', text: t('card.anyAgent') }));
      if (probs.some(function (p) { return p.field === 'overflow' && p.sub === k; })) li.classList.add('is-bad-field');
      ladder.appendChild(li);
    });
    row(t('card.overflow'), 'overflow', [mark('overflow', ladder)]);
  }
  var card = el('li', { class: 'rule-card' + (probs.length ? ' has-problems' : ''), 'data-testid': 'rule-card', 'data-index': String(idx), 'data-rule': r.name || '', id: 'rule-card-' + idx }, [
    el('div', { class: 'rule-top' }, [
      el('span', { class: 'rule-index', text: String(idx + 1) }),
      mark('name', el('span', { class: 'rule-name', text: r.name || t('card.unnamed') })),
      badges
    ]),
    body
  ]);
  if (probs.length) {
    var pl = el('ul', { class: 'rule-problems', 'data-testid': 'rule-card-problems' });
    probs.forEach(function (p) { pl.appendChild(el('li', {}, [problemRow(p, jump)])); });
    card.appendChild(pl);
  }
  return card;
}

function fmtOffset(mins) {
  if (!isNum(mins) || !mins) return '';
  var sign = mins < 0 ? '−' : '+', a = Math.abs(mins);
  return sign + Math.floor(a / 60) + (a % 60 ? ':' + ('0' + (a % 60)).slice(-2) : '');
}
export function queueCard(name, q, probs, jump) {
  var facts = el('div', { class: 'queue-card-facts' });
  var fact = function (label, value) { facts.appendChild(el('span', {}, [label + ' ', el('b', { text: value })])); };
  var hours = arr(q.hours);
  fact(t('card.hours'), hours.length ? hours.map(function (h) { h = obj(h); return fmtDays(h.days) + ' ' + (h.from || '?') + '–' + (h.to || '?'); }).join(', ') + ' ' + t('card.tz', { off: fmtOffset(q.utc_offset_minutes) }) : t('card.alwaysOpen'));
  if (isNum(q.max_wait_secs)) fact(t('card.maxWait'), fmtSecs(q.max_wait_secs));
  fact(t('card.fallback'), q.fallback ? lbl('fallback.', q.fallback) : t('fallback.none'));
  if (arr(q.holidays).length) fact(t('card.closed'), arr(q.holidays).join(', '));
  var card = el('div', { class: 'queue-card' + (probs.length ? ' has-problems' : ''), 'data-testid': 'queue-card', 'data-queue': name }, [
    el('div', { class: 'queue-card-top' }, [queueTag(name)]), facts
  ]);
  if (probs.length) {
    var pl = el('ul', { class: 'rule-problems' });
    probs.forEach(function (p) { pl.appendChild(el('li', {}, [problemRow(p, jump)])); });
    card.appendChild(pl);
  }
  return card;
}
