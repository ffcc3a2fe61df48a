/*
 * Switchboard console — the "Why?" drawer of a waiting task (#live): GET /v1/tasks/{id}/routing
 * explains its last offer — the rule (overflow step, override) and queue, the target, and every
 * agent: the eligible ones ranked by the strategy, the excluded ones with each reason. It follows
 * the task's row while open (a new offer is asked for again).
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app, api, errMsg, agentName } from './shared.js';
import { arr, avatarNode, channelBadge, clamp, clear, cssEscape, emptyState, fmtAgo, fmtClock, fmtInt, fmtSecs, fmtWhen, isNum, lbl, loadingRow, needChip, num, obj, parseNeed, queueTag, sig, svgEl } from './ui.js';
import { taskState } from './tasks.js';
import { overridesInForce } from './overrides.js';

var el = U.el;

var WHY = { id: null, task: null, listed: false, state: 'idle', data: null, error: null, opener: null, seq: 0, autoFor: null, autoTries: 0, rowSig: null };
var whyDrawer = $('why-drawer'), whyBackdrop = $('why-backdrop');

export function openWhy(tk, opener) {
  var again = WHY.id === tk.task_id;
  WHY.id = tk.task_id; WHY.task = Object.assign({}, tk); WHY.listed = true; WHY.opener = opener || null;
  WHY.rowSig = sig(taskState(tk)); WHY.autoTries = 0;
  if (!again) { WHY.data = null; WHY.state = 'loading'; WHY.error = null; }
  whyDrawer.hidden = false; whyBackdrop.hidden = false;
  document.body.classList.add('has-drawer');
  markOpenRow();
  renderWhy();
  loadWhy(again);
  setTimeout(function () { $('why-close').focus(); }, 0);
}
export function closeWhy(noFocus) {
  if (!WHY.id) return;
  var id = WHY.id;
  WHY.id = null; WHY.seq++; WHY.state = 'idle';
  whyDrawer.hidden = true; whyBackdrop.hidden = true;
  document.body.classList.remove('has-drawer');
  markOpenRow();
  if (noFocus || $('console-view').hidden) return;
  var back = WHY.opener && document.contains(WHY.opener) ? WHY.opener
    : document.querySelector('tr[data-task-id="' + cssEscape(id) + '"] [data-testid=task-why]');
  if (back) back.focus();
}
function markOpenRow() {
  document.querySelectorAll('#tasks-body tr[data-task-id]').forEach(function (tr) {
    var open = tr.getAttribute('data-task-id') === WHY.id;
    tr.classList.toggle('is-open', open);
    var b = tr.querySelector('[data-testid=task-why]');
    if (b) b.setAttribute('aria-expanded', open ? 'true' : 'false');
  });
}
function loadWhy(silent) {
  var id = WHY.id, seq = ++WHY.seq;
  if (!id) return;
  if (!silent || WHY.state !== 'ok') { WHY.state = 'loading'; renderWhy(); } else whyDrawer.classList.add('is-refreshing');
  api('GET', '/v1/tasks/' + encodeURIComponent(id) + '/routing').then(function (r) {
    if (seq !== WHY.seq || WHY.id !== id) return;
    if (r.ok && r.data) {
      WHY.state = 'ok'; WHY.data = r.data; WHY.error = null;
      WHY.autoFor = r.data.last_offer ? r.data.last_offer.offered_to || null : null;
    } else if (r.status === 404) WHY.state = 'notfound';
    else { WHY.state = 'error'; WHY.error = errMsg(r); }
  }).catch(function () {
    if (seq !== WHY.seq || WHY.id !== id) return;
    WHY.state = 'error'; WHY.error = t('common.network');
  }).then(function () {
    if (seq !== WHY.seq || WHY.id !== id) return;
    whyDrawer.classList.remove('is-refreshing');
    renderWhy();
  });
}
/** The open task's row changed (or left the list): follow it, re-asking the server when a new offer was made. */
export function whyRowChanged(tk) {
  if (tk) {
    WHY.task = Object.assign({}, tk);
    WHY.listed = true;
  } else if (WHY.listed) {
    WHY.listed = false;             // answered, abandoned or fallen back: ask for its status
    if (WHY.state === 'ok') loadWhy(true);
    return;
  } else return;
  var rs = sig(taskState(tk));
  if (WHY.state === 'ok' && tk.offered_to && tk.offered_to !== WHY.autoFor && WHY.autoTries < 4) {
    WHY.autoFor = tk.offered_to; WHY.autoTries++;
    loadWhy(true);
  } else if (rs !== WHY.rowSig && WHY.state === 'ok') {
    renderWhy();
  }
  WHY.rowSig = rs;
}

$('why-close').addEventListener('click', function () { closeWhy(); });
$('why-refresh').addEventListener('click', function () { if (WHY.id) loadWhy(true); });
whyBackdrop.addEventListener('click', function () { closeWhy(); });
document.addEventListener('keydown', function (ev) {
  if (!WHY.id) return;
  if (ev.key === 'Escape' || ev.key === 'Esc') { ev.preventDefault(); closeWhy(); return; }
  if (ev.key !== 'Tab') return;
  // keep the focus inside the drawer while it is open
  var f = Array.prototype.filter.call(whyDrawer.querySelectorAll('button, [href], [tabindex]:not([tabindex="-1"]), summary'), function (n) { return !n.disabled && n.offsetParent !== null; });
  if (!f.length) return;
  var first = f[0], last = f[f.length - 1];
  if (!whyDrawer.contains(document.activeElement)) { ev.preventDefault(); first.focus(); }
  else if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
  else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
});

/** The task the drawer explains, or null while it is closed. */
export function whyTaskId() { return WHY.id; }

/* ------------------------------------------------------- explanations */
function fmtLeftUp(ms) { return fmtSecs(Math.max(0, Math.ceil((num(ms) || 0) / 1000))); }
var REASON_KIND = { not_available: 'status', wrapping_up: 'status', at_capacity: 'capacity', language: 'language', skill: 'skill', declined_recently: 'declined', reserved_for_previous_agent: 'reserved' };
/** One exclusion, readable ("Skill billing: needs ≥4, has 2"). */
function reasonText(x, media) {
  x = obj(x);
  switch (x.reason) {
    case 'not_available': return t('reason.not_available', { status: lbl('status.', x.status || 'offline') });
    case 'wrapping_up': return t('reason.wrapping_up', { left: fmtLeftUp(x.remaining_ms) });
    case 'at_capacity': {
      var m = x.media || media || 'chat', load = obj(x.load), cap = obj(x.capacity);
      var l = num(load[m]) || 0, c = num(cap[m]) || 0;
      if (l < c && m === 'chat' && (num(load.voice) || 0) > 0) return t('reason.on_call');
      if (l < c && m === 'voice' && (num(load.chat) || 0) > 0) return t('reason.in_chats');
      return t('reason.at_capacity', { media: lbl('media.', m), load: l, cap: c });
    }
    case 'language': return t('reason.language', { language: lbl('language.', x.language) });
    case 'skill': return t(num(x.has) ? 'reason.skill' : 'reason.skillNone', { name: x.name, required: x.required, has: x.has });
    case 'declined_recently': return t('reason.declined_recently');
    case 'reserved_for_previous_agent': return t('reason.reserved_for_previous_agent', { name: agentName(x.agent_id), left: fmtLeftUp(x.remaining_ms) });
    default: return String(x.reason || '?');
  }
}

function whySection(title, testid, children, extra) {
  return el('section', { class: 'why-sec', 'data-testid': testid }, [
    el('h3', { class: 'why-sec-title' }, [el('span', { text: title }), extra || null])
  ].concat(children));
}
function whyDl(rows) {
  var dl = el('dl', { class: 'why-dl' });
  rows.forEach(function (r) {
    if (!r) return;
    dl.appendChild(el('dt', { text: r[0] }));
    dl.appendChild(el('dd', { 'data-testid': r[2] || null }, [].concat(r[1])));
  });
  return dl;
}
function personInline(id) {
  var name = agentName(id);
  return el('span', { class: 'person' }, [avatarNode(name, 'avatar-xs'), el('span', { text: name })]);
}

export function renderWhy() {
  if (!WHY.id) return;
  var body = $('why-body'), keep = body.scrollTop;
  clear(body);
  whyDrawer.setAttribute('data-state', WHY.state);
  whyDrawer.setAttribute('data-task-id', WHY.id);
  var tk = obj(WHY.task);
  $('why-title').textContent = tk.customer_name || t('card.unnamed');
  var sub = clear($('why-sub'));
  if (tk.channel) sub.appendChild(channelBadge(tk.channel));
  if (tk.intent) sub.appendChild(el('span', { class: 'intent', text: tk.intent }));
  sub.appendChild(el('span', { class: 'task-id', title: WHY.id, text: WHY.id }));
  switch (WHY.state) {
    case 'loading':
      body.appendChild(loadingRow(t('why.loading')));
      break;
    case 'notfound':
      body.appendChild(el('div', { class: 'why-sec', 'data-testid': 'why-notfound' }, [emptyState('error', t('why.notFound'), t('why.notFoundText'))]));
      break;
    case 'error':
      body.appendChild(el('div', { class: 'why-sec', 'data-testid': 'why-error' }, [emptyState('error', t('why.error'), WHY.error || '',
        el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.retry'), onclick: function () { loadWhy(); } }))]));
      break;
    case 'ok':
      renderWhyOk(body, obj(WHY.data), tk);
      body.scrollTop = keep;
      break;
  }
}

function whyOutcome(d, lo, tk) {
  var status = d.status ? el('span', { class: 'badge why-status', 'data-testid': 'why-status', text: lbl('taskStatus.', d.status) }) : null;
  if (d.agent_id) {
    return el('div', { class: 'why-outcome is-assigned', 'data-testid': 'why-outcome', 'data-kind': 'assigned' }, [
      avatarNode(agentName(d.agent_id), 'avatar-md'),
      el('div', { class: 'why-outcome-text' }, [
        el('strong', { text: t('why.assignedTo', { name: agentName(d.agent_id) }) }),
        el('span', { class: 'why-outcome-meta', text: d.assigned_at ? fmtWhen(d.assigned_at) + ' · ' + fmtAgo(d.assigned_at) : '' })
      ]),
      status
    ]);
  }
  if (lo) {
    var current = WHY.listed && tk.offered_to && tk.offered_to === lo.offered_to;
    var metaKey = lo.rules_version ? 'why.offerMeta' : 'why.offerMetaBuiltin';
    return el('div', { class: 'why-outcome is-offered', 'data-testid': 'why-outcome', 'data-kind': current ? 'offered' : 'last-offered' }, [
      avatarNode(agentName(lo.offered_to), 'avatar-md'),
      el('div', { class: 'why-outcome-text' }, [
        el('strong', { 'data-testid': 'why-offered-to', text: t(current ? 'why.offeredTo' : 'why.lastOfferedTo', { name: agentName(lo.offered_to) }) }),
        el('span', { class: 'why-outcome-meta', text: t(metaKey, { when: fmtWhen(lo.at), ago: fmtAgo(lo.at), v: lo.rules_version }) })
      ]),
      status
    ]);
  }
  return el('div', { class: 'why-outcome is-waiting', 'data-testid': 'why-not-offered', 'data-kind': 'not-offered' }, [
    el('span', { class: 'why-outcome-icon', 'aria-hidden': 'true', text: '!' }),
    el('div', { class: 'why-outcome-text' }, [
      el('strong', { text: t('why.notOffered') }),
      el('span', { class: 'why-outcome-meta', text: t('why.notOfferedText') })
    ]),
    status
  ]);
}

function renderWhyOk(body, d, tk) {
  var lo = d.last_offer ? obj(d.last_offer) : null;
  body.appendChild(whyOutcome(d, lo, tk));
  if (!lo) {
    // Nothing recorded yet: what the waiting list knows.
    var skills = arr(tk.skills).map(parseNeed);
    body.appendChild(whySection(t('why.sec.rule'), 'why-rule', [whyDl([
      [t('why.rule'), tk.rule ? [el('code', { class: 'rule-chip', text: tk.rule })] : [el('strong', { text: t('why.builtin') }), el('span', { class: 'muted why-after', text: t('why.builtinText') })], 'why-rule-name'],
      [t('why.queue'), queueTag(tk.queue), 'why-queue']
    ])]));
    body.appendChild(whySection(t('why.sec.target'), 'why-target', [whyDl([
      [t('why.skills'), skills.length ? el('div', { class: 'chips' }, skills.map(needChip)) : el('span', { class: 'muted', text: t('why.noSkills') })],
      isNum(tk.priority) ? [t('why.priority'), el('span', { class: 'tabular', text: fmtInt(tk.priority) })] : null,
      tk.reserved_for ? [t('why.preferred'), personInline(tk.reserved_for)] : null
    ]), el('p', { class: 'why-note', text: t('why.fromList') })]));
    return;
  }
  var rule = lo.rule ? obj(lo.rule) : null;
  var target = obj(lo.target);
  var media = target.media || 'chat';

  // ---- rule & queue
  var ruleRows = [];
  if (rule) {
    ruleRows.push([t('why.rule'), [el('code', { class: 'rule-chip', text: String(rule.name || '?') }),
      isNum(rule.index) ? el('span', { class: 'muted why-after', text: t('why.ruleIndex', { n: rule.index + 1 }) }) : null], 'why-rule-name']);
    ruleRows.push([t('why.overflow'), isNum(rule.overflow_step)
      ? [el('span', { class: 'badge badge-warn', text: t('why.overflowStep', { n: rule.overflow_step + 1 }) }), el('span', { class: 'muted why-after', text: t('why.overflowStepText', { n: rule.overflow_step + 1 }) })]
      : [el('span', { class: 'muted', text: t('why.overflowNone') })], 'why-overflow']);
    if (rule.override) {
      var o = arr(overridesInForce()).concat(arr(app.live && app.live.overrides)).find(function (x) { return x && x.id === rule.override; });
      ruleRows.push([t('why.override'), [el('span', { class: 'badge badge-warn', text: t('why.overrideOn') }),
        o && o.reason ? el('span', { class: 'why-after override-reason', text: o.reason }) : el('span', { class: 'task-id why-after', text: rule.override })], 'why-override']);
    }
  } else {
    ruleRows.push([t('why.rule'), [el('strong', { text: t('why.builtin') }), el('span', { class: 'muted why-after', text: t('why.builtinText') })], 'why-rule-name']);
  }
  ruleRows.push([t('why.queue'), queueTag(lo.queue || (rule && rule.queue) || tk.queue), 'why-queue']);
  ruleRows.push([t('why.version'), el('span', { text: lo.rules_version ? t('why.versionN', { v: lo.rules_version }) : t('nav.footBuiltin') })]);
  body.appendChild(whySection(t('why.sec.rule'), 'why-rule', [whyDl(ruleRows)]));

  // ---- target
  var needs = arr(target.skills).filter(Boolean);
  var strategy = target.strategy || 'least_occupied';
  body.appendChild(whySection(t('why.sec.target'), 'why-target', [whyDl([
    [t('why.skills'), needs.length ? el('div', { class: 'chips' }, needs.map(needChip)) : el('span', { class: 'muted', text: t('why.noSkills') }), 'why-skills'],
    target.language ? [t('why.language'), el('span', { text: lbl('language.', target.language) }), 'why-language'] : null,
    isNum(target.priority) ? [t('why.priority'), el('span', { class: 'tabular', text: fmtInt(target.priority) })] : null,
    [t('why.media'), el('span', { text: lbl('mediaName.', media) })],
    [t('why.strategy'), [el('strong', { text: lbl('strategy.', strategy) }), el('span', { class: 'why-hint', text: lbl('why.strategyHint.', strategy) })], 'why-strategy'],
    target.preferred_agent ? [t('why.preferred'), personInline(target.preferred_agent)] : null
  ])]));

  // ---- agents
  var cands = arr(lo.candidates).filter(Boolean);
  var eligible = cands.filter(function (c) { return !arr(c.excluded).length; });
  var excluded = cands.filter(function (c) { return arr(c.excluded).length; });
  var counts = el('span', { class: 'why-counts', text: t('why.counts', { eligible: eligible.length, excluded: excluded.length }) });
  var ol = el('ol', { class: 'cands', 'data-testid': 'why-candidates-list' });
  if (!eligible.length) ol.appendChild(el('li', { class: 'cand-none muted', text: t('why.noneEligible') }));
  eligible.forEach(function (c, i) { ol.appendChild(candRow(c, i + 1, c.agent_id === lo.offered_to, media, strategy, needs.length > 0)); });
  body.appendChild(whySection(t('why.sec.candidates'), 'why-candidates', [ol], counts));
  if (excluded.length) {
    var ul = el('ul', { class: 'cands is-excluded-list', 'data-testid': 'why-excluded-list' });
    excluded.forEach(function (c) { ul.appendChild(excludedRow(c, media)); });
    body.appendChild(whySection(t('why.sec.excluded'), 'why-excluded-section', [ul]));
  }
  body.appendChild(el('p', { class: 'why-note', text: t('why.asOf', { when: fmtClock(U.toDate(lo.at).getTime()) }) }));
}

function loadMeter(c, media, key) {
  var load = num(obj(c.load)[media]) || 0, cap = num(obj(c.capacity)[media]) || 0;
  var bar = el('span', { class: 'mini-bar' + (cap && load >= cap ? ' is-full' : ''), 'aria-hidden': 'true' });
  var segs = cap && cap <= 8 ? cap : 5, on = cap ? Math.round(clamp(load / cap, 0, 1) * segs) : 0;
  for (var i = 0; i < segs; i++) bar.appendChild(el('i', { class: i < on ? 'on' : '' }));
  return el('span', { class: 'cand-metric' + (key ? ' is-key' : ''), 'data-testid': 'why-load' }, [bar, el('span', { text: t('why.loadOf', { media: lbl('media.', media), load: load, cap: cap }) })]);
}
function checkIcon() {
  var svg = svgEl('svg', { viewBox: '0 0 24 24', width: '12', height: '12', fill: 'none', stroke: 'currentColor', 'stroke-width': '3', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true' });
  svg.appendChild(svgEl('path', { d: 'M20 6 9 17l-5-5' }));
  return svg;
}
function candRow(c, rank, chosen, media, strategy, scored) {
  var name = agentName(c.agent_id);
  return el('li', { class: 'cand' + (chosen ? ' is-chosen' : ''), 'data-testid': 'why-candidate', 'data-agent-id': c.agent_id || '', 'data-chosen': chosen ? 'true' : 'false', 'data-rank': String(rank) }, [
    el('span', { class: 'cand-rank', text: String(rank) }),
    avatarNode(name, 'avatar-md'),
    el('div', { class: 'cand-main' }, [
      el('div', { class: 'cand-top' }, [
        el('span', { class: 'cand-name', 'data-testid': 'why-candidate-name', text: name }),
        chosen ? el('span', { class: 'badge badge-accent cand-chosen', 'data-testid': 'why-chosen' }, [checkIcon(), t('why.chosen')]) : null
      ]),
      el('div', { class: 'cand-metrics' }, [
        loadMeter(c, media, strategy !== 'best_skill'),
        isNum(c.skill_score) && scored ? el('span', { class: 'cand-metric' + (strategy === 'best_skill' ? ' is-key' : ''), title: t('why.skillScoreTitle'), 'data-testid': 'why-skill-score', text: t('why.skillScore', { n: c.skill_score }) }) : null
      ])
    ])
  ]);
}
function excludedRow(c, media) {
  var name = agentName(c.agent_id);
  var reasons = el('ul', { class: 'reasons' }, arr(c.excluded).map(function (x) {
    var kind = REASON_KIND[obj(x).reason] || 'other';
    return el('li', { class: 'reason reason-' + kind, 'data-testid': 'why-reason', 'data-reason': obj(x).reason || '' }, [reasonText(x, media)]);
  }));
  return el('li', { class: 'cand is-excluded', 'data-testid': 'why-excluded', 'data-agent-id': c.agent_id || '' }, [
    avatarNode(name, 'avatar-md'),
    el('div', { class: 'cand-main' }, [
      el('div', { class: 'cand-top' }, [el('span', { class: 'cand-name', text: name }), el('span', { class: 'cand-side' }, [loadMeter(c, media, false)])]),
      reasons
    ])
  ]);
}
