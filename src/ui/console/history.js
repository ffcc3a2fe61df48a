/*
 * Switchboard console — #history: every saved version (GET /v1/routing/rules/versions, via
 * versions.js) with its diff and its actions (activate or roll back, dry-run, open in the
 * editor), and the audit trail (GET /v1/routing/history).
 */
import { t } from '../common/i18n.js';
import { el, toast } from '../common/util.js';
import { $, app, api, errMsg, who } from './shared.js';
import { arr, clear, emptyState, fmtAgo, fmtWhen, has, isNum, loadingRow, obj } from './ui.js';
import { renderChange, skillsText } from './history-diff.js';
import { go } from './frame.js';
import { activateVersion, activeVersion, loadVersions, versionsError, versionsList, versionsState } from './versions.js';
import { isDirty, loadActive, openVersion, showRulesConfirm } from './rules.js';
import { goDryRun } from './dryrun.js';

/** The audit trail and how loading it went (idle | loading | ok | error). */
var audit = { entries: null, state: 'idle', error: null };
/** Which versions show their diff (by number; the newest does until told otherwise). */
var histOpen = {};

export function auditState() { return audit.state; }
/** Signed out. */
export function resetHistory() { audit.entries = null; audit.state = 'idle'; }

export function loadAudit() {
  var first = audit.state !== 'ok';
  if (first) { audit.state = 'loading'; renderAudit(); }
  api('GET', '/v1/routing/history?limit=50').then(function (r) {
    if (r.ok && r.data) { audit.entries = arr(r.data.entries); audit.state = 'ok'; }
    else if (first) { audit.state = 'error'; audit.error = errMsg(r); }
  }).catch(function () { if (first) { audit.state = 'error'; audit.error = t('common.network'); } })
    .then(renderAudit);
}
$('hist-refresh').addEventListener('click', function () { loadVersions(); loadAudit(); loadActive(true); });
export function enter() { loadVersions(); loadAudit(); renderVersions(); renderAudit(); }

function versionActions(v, active) {
  var box = el('div', { class: 'version-actions' });
  if (v !== active) {
    if (app.confirm && app.confirm.scope === 'hist' && app.confirm.v === v) {
      box.appendChild(el('span', { class: 'muted', style: { fontSize: '13px', alignSelf: 'center' }, text: t(active && v < active ? 'rules.confirmRollback' : 'rules.confirmActivate', { v: v }) }));
      box.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('hist.cancel'), onclick: function () { app.confirm = null; renderVersions(); } }));
      box.appendChild(el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'version-confirm', text: t('hist.confirm'),
        onclick: function (ev) {
          ev.currentTarget.disabled = true;
          app.confirm = null;
          activateVersion(v).then(function (res) { if (!res.ok) toast(res.message, 'error'); renderVersions(); });
        } }));
      return box;
    }
    box.appendChild(el('button', { type: 'button', class: 'btn btn-sm ' + (active && v < active ? 'btn-ghost' : 'btn-primary'), 'data-testid': 'version-activate',
      text: active && v < active ? t('hist.rollback', { v: v }) : t('hist.activate'), onclick: function () { app.confirm = { scope: 'hist', v: v }; renderVersions(); } }));
  }
  box.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'version-dryrun', text: t('hist.dryrun'), onclick: function () { goDryRun(v, true); } }));
  box.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'version-open', text: t('hist.open'), onclick: function () {
    if (isDirty()) { go('rules'); showRulesConfirm(t('rules.discard'), null, t('common.confirm'), 'btn-danger', function () { openVersion(v); }); }
    else openVersion(v);
  } }));
  return box;
}

export function renderVersions() {
  var box = clear($('versions'));
  var active = activeVersion();
  if (versionsState() === 'loading' || versionsState() === 'idle') { box.appendChild(loadingRow()); return; }
  if (versionsState() === 'error') { box.appendChild(el('div', { class: 'card' }, [emptyState('error', t('hist.loadFailed', { msg: versionsError() || '' }))])); return; }
  var versions = arr(versionsList() && versionsList().versions).filter(Boolean);
  if (!versions.length) { box.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('hist.noVersions'), t('hist.noVersionsText'))])); return; }
  var list = el('div', { class: 'version-list' });
  versions.forEach(function (v, idx) {
    var isActive = v.version === active || (active == null && v.active);
    var open = has(histOpen, v.version) ? histOpen[v.version] : idx === 0;
    var names = arr(v.rule_names);
    var diff = v.diff;
    var toggle = null, diffBox = null;
    if (Array.isArray(diff)) {
      toggle = el('button', { type: 'button', class: 'diff-toggle', 'aria-expanded': String(open), 'data-testid': 'diff-toggle',
        text: t('hist.showDiff', { v: v.version - 1 }) + ' (' + diff.length + ')',
        onclick: function () { histOpen[v.version] = !open; renderVersions(); } });
      if (open) {
        diffBox = el('div', { class: 'diff', 'data-testid': 'version-diff' }, diff.length ? diff.map(renderChange) : [el('p', { class: 'muted', style: { fontSize: '13px' }, text: t('hist.noDiff') })]);
      }
    }
    list.appendChild(el('div', { class: 'version' + (isActive ? ' is-active' : ''), 'data-testid': 'version-item', 'data-version': String(v.version), 'data-active': String(!!isActive) }, [
      el('div', { class: 'version-top' }, [
        el('span', { class: 'version-num', text: 'v' + v.version }),
        isActive ? el('span', { class: 'badge badge-active', 'data-testid': 'version-active', text: t('hist.active') }) : null,
        el('span', { class: 'version-meta' }, [t('hist.created', { when: fmtWhen(v.created_at), who: who(v.created_by) })]),
        versionActions(v.version, active)
      ]),
      names.length ? el('div', { class: 'chips' }, [el('span', { class: 'muted', style: { fontSize: '12.5px', marginRight: '4px' }, text: t('hist.rules', { n: names.length }) })].concat(names.map(function (n) { return el('span', { class: 'skill-chip', text: n }); }))) : null,
      diff === null || diff === undefined ? el('span', { class: 'muted', style: { fontSize: '12.5px' }, text: v.version === 1 || idx === versions.length - 1 ? t('hist.firstVersion') : '' }) : toggle,
      diffBox
    ]));
  });
  box.appendChild(list);
}

function auditText(e) {
  var d = obj(e.detail), actor = e.actor ? who(e.actor) : t('audit.system');
  var vm = /(\d+)\s*$/.exec(String(e.subject == null ? '' : e.subject));
  var v = isNum(d.version) ? d.version : vm ? Number(vm[1]) : (e.subject || '?');
  var rule = d.rule || e.subject || '?';
  switch (e.action) {
    case 'routing.rules.created': return t('audit.routing.rules.created', { who: actor, v: v });
    case 'routing.rules.activated': return isNum(d.previous) ? t('audit.routing.rules.activatedWas', { who: actor, v: v, prev: d.previous }) : t('audit.routing.rules.activated', { who: actor, v: v });
    case 'routing.override.created': return t('audit.routing.override.created', { who: actor, rule: rule });
    case 'routing.override.ended': return t('audit.routing.override.ended', { who: actor, rule: rule });
    default: return t('audit.other', { who: actor, action: e.action || '', subject: e.subject || '' });
  }
}
var AUDIT_ICONS = {
  created: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><path d="M12 5v14M5 12h14"/></svg>',
  activated: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"><path d="M20 6 9 17l-5-5"/></svg>',
  override: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"><path d="M4 12h12M12 6l6 6-6 6"/></svg>',
  other: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><circle cx="12" cy="12" r="2"/></svg>'
};
export function renderAudit() {
  var box = clear($('audit'));
  if (audit.state === 'loading' || audit.state === 'idle') { box.appendChild(loadingRow()); return; }
  if (audit.state === 'error') { box.appendChild(el('div', { class: 'card' }, [emptyState('error', t('hist.loadFailed', { msg: audit.error || '' }))])); return; }
  var entries = arr(audit.entries).filter(Boolean);
  if (!entries.length) { box.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('hist.noAudit'), t('hist.noAuditText'))])); return; }
  var list = el('ol', { class: 'audit-list card', style: { padding: '10px 16px' } });
  entries.forEach(function (e) {
    var a = String(e.action || '');
    var kind = /activated/.test(a) ? 'activated' : /created/.test(a) && /rules/.test(a) ? 'created' : /override/.test(a) ? 'override' : 'other';
    var icon = el('span', { class: 'audit-icon is-' + kind, 'aria-hidden': 'true' });
    icon.innerHTML = AUDIT_ICONS[kind];
    var d = obj(e.detail), details = [];
    if (d.target) {
      var tg = obj(d.target);
      var target = [tg.queue].concat(Array.isArray(tg.skills) ? [skillsText(tg.skills)] : []).filter(Boolean).join(' · ') || '—';
      details.push(isNum(d.minutes) ? t('audit.target', { target: target, m: d.minutes })
        : d.expires_at ? t('audit.targetUntil', { target: target, time: fmtWhen(d.expires_at) }) : target);
    }
    if (d.reason) details.push(t('audit.reason', { r: d.reason }));
    var body = el('div', {}, [
      el('div', { class: 'audit-text', text: auditText(e) }),
      el('div', { class: 'audit-time', title: e.at || '', text: fmtWhen(e.at) + ' · ' + fmtAgo(e.at) }),
      details.length ? el('div', { class: 'audit-detail', text: details.join(' · ') }) : null
    ]);
    if (Array.isArray(e.diff) && e.diff.length) {
      var det = el('details', { class: 'audit-detail' }, [el('summary', { style: { cursor: 'pointer', color: 'var(--accent-700)', fontWeight: '650' }, text: t('hist.changes', { n: e.diff.length }) })]);
      var dd = el('div', { class: 'diff', style: { marginTop: '6px' } }, e.diff.map(renderChange));
      det.appendChild(dd);
      body.appendChild(det);
    }
    list.appendChild(el('li', { class: 'audit', 'data-testid': 'audit-entry', 'data-action': a }, [icon, body]));
  });
  box.appendChild(list);
}
