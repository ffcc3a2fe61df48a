/*
 * Switchboard console — the rule-set versions Rules, Dry-run and History share: which version
 * routes now, which versions exist (GET /v1/routing/rules/versions), the last one saved here,
 * and activating one (POST /v1/routing/rules/{v}/activate), after which every section that
 * shows the version in force is brought up to date.
 */
import { t } from '../common/i18n.js';
import { toast } from '../common/util.js';
import { app, api, errMsg, may } from './shared.js';
import { arr, has, isNum } from './ui.js';
import { renderActiveInfo } from './frame.js';
import { activeRuleSet, loadActive, renderLoadSelect } from './rules.js';
import { auditState, loadAudit, renderVersions } from './history.js';
import { dryReport, renderDryReport, renderDryVersions } from './dryrun.js';
import { pollNow } from './live.js';

/** GET /v1/routing/rules/versions and how loading it went (idle | loading | ok | error). */
var versions = { data: null, state: 'idle', error: null };
/** Every version number seen in this session (the live figures, saves, activations). */
var known = {};
/** The version saved last in this session. */
var lastSaved = null;

export function versionsList() { return versions.data; }
export function versionsState() { return versions.state; }
export function versionsError() { return versions.error; }
export function lastSavedVersion() { return lastSaved; }

export function noteVersion(v) { if (isNum(v) && v > 0) known[v] = true; }
/** The editor saved version `v`. */
export function noteSaved(v) { lastSaved = v; }

/** Signed out: the list is forgotten (the numbers seen stay known). */
export function resetVersions() { versions.data = null; versions.state = 'idle'; }

/** The version routing now (null: built-in routing), from the freshest source at hand. */
export function activeVersion() {
  var live = app.live;
  if (live && has(live, 'rules_version')) return live.rules_version || null;
  var active = activeRuleSet();
  if (active && isNum(active.version) && active.version > 0) return active.version;
  if (versions.data && has(versions.data, 'active')) return versions.data.active || null;
  return null;
}

/** Known version numbers, newest first (from the versions list or what this session has seen). */
export function versionNumbers() {
  var set = {};
  if (versions.data) arr(versions.data.versions).forEach(function (v) { if (v && isNum(v.version)) set[v.version] = 1; });
  Object.keys(known).forEach(function (v) { set[v] = 1; });
  var max = Math.max.apply(null, [0].concat(Object.keys(set).map(Number)));
  if (!versions.data) for (var i = 1; i <= max; i++) set[i] = 1; // versions are numbered 1, 2, 3 …
  return Object.keys(set).map(Number).sort(function (x, y) { return y - x; });
}

export function loadVersions() {
  if (versions.state === 'loading') return;
  var first = versions.state === 'idle' || versions.state === 'error';
  versions.state = first ? 'loading' : versions.state;
  if (first && app.section === 'history') renderVersions();
  api('GET', '/v1/routing/rules/versions').then(function (r) {
    if (r.ok && r.data) {
      versions.data = r.data; versions.state = 'ok';
      arr(r.data.versions).forEach(function (v) { if (v) noteVersion(v.version); });
    } else if (first) { versions.state = 'error'; versions.error = errMsg(r); }
  }).catch(function () { if (first) { versions.state = 'error'; versions.error = t('common.network'); } })
    .then(function () {
      if (versions.state === 'loading') versions.state = 'error';
      renderVersions(); renderLoadSelect();
      if (app.section === 'dryrun') renderDryVersions();
    });
}

/** Another version routes now: the top bar, the editor's base, the lists and the report follow. */
export function onActiveChanged() {
  renderActiveInfo();
  if (!may('routing')) return;   // a team lead sees the version in force, not the rules
  loadActive(true);
  if (versions.state === 'ok') loadVersions();
  if (app.section === 'history') loadAudit();
  if (dryReport()) renderDryReport();
}

/**
 * POST …/activate. Resolves {ok, message}; on success the live figures, history and the
 * editor's base are refreshed.
 */
export function activateVersion(v) {
  return api('POST', '/v1/routing/rules/' + v + '/activate').then(function (r) {
    if (r.ok) {
      var prev = r.data && has(r.data, 'previous') ? r.data.previous : null;
      if (app.live) app.live.rules_version = v;
      noteVersion(v);
      var msg = prev ? t('rules.activatedWas', { v: v, prev: 'v' + prev }) : t('rules.activated', { v: v });
      toast(msg);
      onActiveChanged();
      loadVersions();
      if (auditState() !== 'idle') loadAudit();
      pollNow();
      return { ok: true, message: msg };
    }
    if (r.status === 404) return { ok: false, message: t('dry.err.unknown', { v: v }) };
    return { ok: false, message: t('rules.activateFailed', { msg: errMsg(r) }) };
  }).catch(function () { return { ok: false, message: t('rules.activateFailed', { msg: t('common.network') }) }; });
}
