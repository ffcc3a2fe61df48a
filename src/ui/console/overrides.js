/*
 * Switchboard console — temporary overrides (#overrides, and "Overrides in force" in #live):
 * GET / POST / DELETE /v1/routing/overrides. An override sends one rule's traffic to another
 * queue or skills for a while; countdowns tick every second and an expired one drops out.
 */
import { i18n, t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app, api, errMsg, may, who } from './shared.js';
import { arr, clamp, clear, emptyState, fmtLeft, fmtWhen, isNum, loadingRow, needChip, obj, queueTag, setBusy, sig } from './ui.js';
import { setNavCount } from './frame.js';
import { activeRuleSet, activeRulesState, loadActive } from './rules.js';
import { auditState, loadAudit } from './history.js';

var el = U.el, toast = U.toast;

/**
 * GET /v1/routing/overrides (the live answer lists them briefly; this one has the reason, the
 * author and the start): the list, how loading it went (idle | loading | ok | error), and
 * whether it ever answered.
 */
var ovr = { list: null, state: 'idle', error: null, loaded: false };
/** The overrides in force as last loaded (the Why? drawer names an override's reason). */
export function overridesInForce() { return ovr.list; }
/** Signed out. */
export function resetOverrides() { ovr.list = null; ovr.state = 'idle'; ovr.loaded = false; }

/**
 * A live answer arrived: load the overrides the first time, then again whenever the set of ids
 * in force changes.
 */
export function liveOverridesSeen(d) {
  if (!may('routing')) {
    // a team lead sees the overrides in force as the live figures list them (the full list
    // is for those who manage routing)
    var seen = Array.isArray(d.overrides) ? d.overrides : [];
    if (sig(seen) !== sig(ovr.list)) { ovr.list = seen; ovr.state = 'ok'; renderOverrideLists(); }
    return;
  }
  if (!ovr.loaded) {
    if (ovr.state !== 'loading') loadOverrides();
  } else if (Array.isArray(d.overrides) && ovr.state !== 'loading') {
    var ids = function (l) { return arr(l).map(function (o) { return o && o.id; }).sort().join(','); };
    if (ids(d.overrides) !== ids(ovr.list)) loadOverrides();
  }
}

function loadOverrides() {
  if (ovr.state === 'loading') return;
  var first = ovr.list == null;
  ovr.state = 'loading';
  if (first) renderOverrideLists();
  var live = app.live && Array.isArray(app.live.overrides) ? app.live.overrides : null;
  api('GET', '/v1/routing/overrides').then(function (r) {
    if (r.ok && r.data) { ovr.list = arr(r.data.overrides); ovr.state = 'ok'; ovr.loaded = true; }
    else if (first && !live) { ovr.state = 'error'; ovr.error = errMsg(r); }
    else { ovr.list = ovr.list || live; ovr.state = 'ok'; }
  }).catch(function () {
    if (first && !live) { ovr.state = 'error'; ovr.error = t('common.network'); }
    else { ovr.list = ovr.list || live; ovr.state = 'ok'; }
  }).then(renderOverrideLists);
}

function targetNodes(target) {
  var tg = obj(target), out = [];
  if (tg.queue) out.push(queueTag(tg.queue));
  if (Array.isArray(tg.skills)) {
    if (tg.skills.length) tg.skills.forEach(function (s) { out.push(needChip(s)); });
    else out.push(el('span', { class: 'badge', text: t('ovr.anyAgent') }));
  } else if (tg.queue) {
    out.push(el('span', { class: 'badge', text: t('ovr.sameRules') }));
  }
  return out;
}

function overrideItem(o, scope) {
  var expires = o.expires_at ? U.toDate(o.expires_at).getTime() : null;
  var created = o.created_at ? U.toDate(o.created_at).getTime() : null;
  var confirming = app.confirm && app.confirm.scope === 'ovr' && app.confirm.id === o.id;
  var actions = null;
  if (!may('routing')) {
    // team leads see what is in force; ending it is for those who manage routing
  } else if (o._ending) {
    actions = el('button', { type: 'button', class: 'btn btn-ghost btn-sm override-end', disabled: true }, [el('span', { class: 'spinner' }), t('ovr.ending')]);
  } else if (confirming) {
    actions = el('div', { class: 'override-end', style: { display: 'flex', gap: '6px', alignItems: 'center' } }, [
      el('span', { class: 'muted', style: { fontSize: '12.5px' }, text: t('ovr.confirmEnd') }),
      el('button', { type: 'button', class: 'btn btn-danger btn-sm', 'data-testid': 'override-end-confirm', text: t('ovr.endNow'), onclick: function () { endOverride(o); } }),
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.cancel'), onclick: function () { app.confirm = null; renderOverrideLists(); } })
    ]);
  } else {
    actions = el('button', { type: 'button', class: 'btn btn-danger-ghost btn-sm override-end', 'data-testid': 'override-end', text: t('ovr.endNow'),
      onclick: function () { app.confirm = { scope: 'ovr', id: o.id }; renderOverrideLists(); } });
  }
  var meta = el('div', { class: 'override-meta' });
  if (expires) {
    meta.appendChild(el('span', { 'data-expires': String(expires), text: t('ovr.expiresIn', { left: fmtLeft(expires - Date.now()) }) }));
    meta.appendChild(el('span', { class: 'muted', text: t('ovr.expiresAt', { time: fmtWhen(o.expires_at) }) }));
  }
  if (o.created_by) meta.appendChild(el('span', { class: 'muted', text: t('ovr.by', { who: who(o.created_by) }) }));
  var bar = null;
  if (expires && created && expires > created) {
    bar = el('div', { class: 'override-bar' }, [el('span', { 'data-bar-from': String(created), 'data-bar-to': String(expires),
      style: { width: clamp((expires - Date.now()) / (expires - created), 0, 1) * 100 + '%' } })]);
  }
  return el('li', { class: 'override' + (o._ending ? ' is-ending' : ''), 'data-testid': 'override-item', 'data-override-id': o.id || '', 'data-scope': scope }, [
    el('div', { class: 'override-top' }, [
      el('span', { class: 'override-rule', text: o.rule || '—' }),
      el('span', { class: 'override-arrow', 'aria-hidden': 'true', text: '→' }),
      el('span', { class: 'override-target' }, targetNodes(o.target)),
      actions
    ]),
    o.reason ? el('p', { class: 'override-reason', text: o.reason }) : null,
    meta,
    bar
  ]);
}

export function renderOverrideLists() {
  var list = ovr.list ? ovr.list.filter(function (o) { return o && (!o.expires_at || U.toDate(o.expires_at).getTime() > Date.now() - 1000); }) : [];
  setNavCount('nav-count-overrides', ovr.list ? list.length : 0);
  $('ovr-count').textContent = ovr.list && list.length ? t('ovr.count', { n: list.length }) : '';
  [['live-overrides', 'live'], ['ovr-list', 'page']].forEach(function (pair) {
    var box = clear($(pair[0]));
    if ((ovr.state === 'loading' || ovr.state === 'idle') && ovr.list == null) { box.appendChild(loadingRow()); return; }
    if (ovr.state === 'error') { box.appendChild(emptyState('error', t('hist.loadFailed', { msg: ovr.error || '' }))); return; }
    if (!list.length) {
      var e = emptyState('empty', t('live.noOverrides'), t('live.noOverridesText'));
      e.innerHTML = e.innerHTML.replace(/<svg[\s\S]*?<\/svg>/, '<svg viewBox="0 0 56 56" fill="none" aria-hidden="true"><circle cx="28" cy="28" r="19" fill="#ebfbee" stroke="#b2f2bb" stroke-width="1.5"/><path d="m20 28.5 5.5 5.5L36.5 23" stroke="#2f9e44" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>');
      box.appendChild(e);
      return;
    }
    list.slice().sort(function (a, b) { return String(a.expires_at).localeCompare(String(b.expires_at)); })
      .forEach(function (o) { box.appendChild(overrideItem(o, pair[1])); });
  });
  renderOverrideForm();
}

function endOverride(o) {
  app.confirm = null;
  o._ending = true;
  renderOverrideLists();
  api('DELETE', '/v1/routing/overrides/' + encodeURIComponent(o.id)).then(function (r) {
    if (r.ok || r.status === 404) {
      if (r.ok) toast(t('ovr.ended', { rule: o.rule }));
      ovr.list = arr(ovr.list).filter(function (x) { return x.id !== o.id; });
      if (app.live && Array.isArray(app.live.overrides)) app.live.overrides = app.live.overrides.filter(function (x) { return x && x.id !== o.id; });
      if (auditState() === 'ok') loadAudit();
    } else {
      o._ending = false;
      toast(errMsg(r), 'error');
    }
  }).catch(function () { o._ending = false; toast(t('common.network'), 'error'); })
    .then(renderOverrideLists);
}

// countdowns tick once a second without re-rendering
setInterval(function () {
  var now = Date.now(), expired = false;
  document.querySelectorAll('[data-expires]').forEach(function (n) {
    var left = Number(n.getAttribute('data-expires')) - now;
    if (left <= 0) expired = true;
    n.textContent = t('ovr.expiresIn', { left: fmtLeft(left) });
  });
  document.querySelectorAll('[data-bar-to]').forEach(function (n) {
    var a = Number(n.getAttribute('data-bar-from')), b = Number(n.getAttribute('data-bar-to'));
    n.style.width = clamp((b - now) / (b - a), 0, 1) * 100 + '%';
  });
  if (expired) renderOverrideLists();
}, 1000);


/* ------------------------------------------------------- override form */
var ovrForm = $('ovr-form');
function activeRules() { var a = activeRuleSet(); return a && Array.isArray(a.rules) ? a.rules.filter(function (r) { return r && r.name; }) : []; }
function knownQueues() {
  var set = {};
  activeRules().forEach(function (r) { if (r.queue) set[r.queue] = 1; arr(r.overflow).forEach(function (o) { if (o && o.queue) set[o.queue] = 1; }); });
  Object.keys(obj(activeRuleSet() && activeRuleSet().queues)).forEach(function (q) { set[q] = 1; });
  arr(app.live && app.live.queues).forEach(function (q) { if (q && q.queue) set[q.queue] = 1; });
  return Object.keys(set).sort();
}
export function renderOverrideForm() {
  var sel = $('ovr-rule'), keep = sel.value;
  var rules = activeRules();
  var s = sig([rules.map(function (r) { return r.name; }), i18n.lang]);
  if (sel.getAttribute('data-sig') !== s) {
    sel.setAttribute('data-sig', s);
    clear(sel).appendChild(el('option', { value: '', text: t('ovr.rulePick') }));
    rules.forEach(function (r) { sel.appendChild(el('option', { value: r.name, text: r.name + '  →  ' + (r.queue || '—') })); });
    if (keep && rules.some(function (r) { return r.name === keep; })) sel.value = keep;
  }
  var dl = clear($('ovr-queues'));
  knownQueues().forEach(function (q) { dl.appendChild(el('option', { value: q })); });
  var disabled = $('ovr-disabled');
  var reason = activeRulesState() === 'ok' && !rules.length ? t('ovr.noRules') : null;
  disabled.hidden = !reason;
  clear(disabled);
  if (reason) disabled.appendChild(el('div', { class: 'notice notice-warn', text: reason }));
  $('ovr-submit').disabled = !!reason || ovrForm.getAttribute('aria-busy') === 'true';
  updateRuleHint();
}
function updateRuleHint() {
  var r = activeRules().find(function (x) { return x.name === $('ovr-rule').value; });
  var hint = $('ovr-rule-hint');
  if (!r) { hint.textContent = ''; return; }
  var skills = arr(r.skills).map(function (s) { return s.name + (isNum(s.min_level) ? '≥' + s.min_level : ''); }).join(', ');
  hint.textContent = t('ovr.ruleHint', { queue: r.queue || '—', skills: skills ? ' · ' + skills : '' });
}
$('ovr-rule').addEventListener('change', updateRuleHint);
document.querySelectorAll('[data-minutes]').forEach(function (b) {
  b.addEventListener('click', function () { $('ovr-minutes').value = b.getAttribute('data-minutes'); markMinutePreset(); });
});
function markMinutePreset() {
  document.querySelectorAll('[data-minutes]').forEach(function (b) { b.classList.toggle('is-on', b.getAttribute('data-minutes') === $('ovr-minutes').value); });
}
$('ovr-minutes').addEventListener('input', markMinutePreset);

function clearFieldErrors(form) {
  form.querySelectorAll('[data-field-error]').forEach(function (p) { p.hidden = true; p.textContent = ''; var f = p.closest('.field'); if (f) f.classList.remove('has-error'); });
}
function fieldError(form, key, msg) {
  var p = form.querySelector('[data-field-error="' + key + '"]');
  if (!p) return false;
  p.textContent = p.textContent ? p.textContent + ' ' + msg : msg;
  p.hidden = false;
  var f = p.closest('.field'); if (f) f.classList.add('has-error');
  return true;
}
function parseSkills(text) {
  var out = [], bad = false;
  String(text || '').split(/[,，;；\s]+/).filter(Boolean).forEach(function (part) {
    var m = /^([A-Za-z0-9_.-]+)(?:[:=](\d+))?$/.exec(part.trim());
    if (!m) { bad = true; return; }
    out.push({ name: m[1], min_level: m[2] ? Number(m[2]) : 1 });
  });
  return bad ? null : out;
}

ovrForm.addEventListener('submit', function (ev) {
  ev.preventDefault();
  clearFieldErrors(ovrForm);
  $('ovr-error').hidden = true;
  var rule = $('ovr-rule').value, queue = $('ovr-queue').value.trim(), skillsText = $('ovr-skills').value.trim();
  var minutes = Number($('ovr-minutes').value), reason = $('ovr-reason').value.trim();
  var skills = parseSkills(skillsText), ok = true;
  if (!rule) ok = fieldError(ovrForm, 'rule', t('ovr.err.rule')) && false;
  if (skills === null) ok = fieldError(ovrForm, 'target.skills', t('ovr.err.skills')) && false;
  if (!queue && !skillsText) ok = fieldError(ovrForm, 'target.queue', t('ovr.err.target')) && false;
  if (!(minutes >= 1 && minutes <= 10080 && Math.round(minutes) === minutes)) ok = fieldError(ovrForm, 'minutes', t('ovr.err.minutes')) && false;
  if (!ok) return;
  var target = {};
  if (queue) target.queue = queue;
  if (skillsText) target.skills = skills;
  var body = { rule: rule, target: target, minutes: minutes, reason: reason };
  ovrForm.setAttribute('aria-busy', 'true');
  setBusy($('ovr-submit'), 'ovr.starting');
  api('POST', '/v1/routing/overrides', body).then(function (r) {
    if (r.ok) {
      toast(t('ovr.started', { rule: rule, time: fmtWhen(r.data && r.data.expires_at) }));
      $('ovr-reason').value = '';
      ovr.list = arr(ovr.list).concat([{ id: r.data && r.data.id, rule: rule, target: target, reason: reason,
        created_by: app.session && app.session.username, created_at: new Date().toISOString(), expires_at: r.data && r.data.expires_at }]);
      ovr.state = 'ok';
      renderOverrideLists();
      loadOverrides();
      if (auditState() === 'ok') loadAudit();
      return;
    }
    var problems = arr(r.data && r.data.problems), rest = [];
    problems.forEach(function (p) {
      var key = String(p.path || '').replace(/\[\d+\].*$/, '').replace(/^target$/, 'target.queue');
      if (!fieldError(ovrForm, key, p.message)) rest.push((p.path ? p.path + ': ' : '') + p.message);
    });
    if (!problems.length || rest.length) {
      $('ovr-error').textContent = t('ovr.err.failed', { msg: rest.length ? rest.join(' · ') : errMsg(r) });
      $('ovr-error').hidden = false;
    }
  }).catch(function () {
    $('ovr-error').textContent = t('ovr.err.failed', { msg: t('common.network') });
    $('ovr-error').hidden = false;
  }).then(function () {
    ovrForm.removeAttribute('aria-busy');
    setBusy($('ovr-submit'), null);
    renderOverrideForm();
  });
});

export function enter() {
  if (activeRulesState() === 'idle' || activeRulesState() === 'error') loadActive();
  loadOverrides();
  renderOverrideForm();
  markMinutePreset();
}
