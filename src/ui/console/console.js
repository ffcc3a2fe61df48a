/*
 * Switchboard — supervisor console, the entry module (native ES modules, no bundler).
 *
 * Login (/ui/common/login.js: POST /v1/auth/login, supervisors only, token in sessionStorage)
 * → six sections switched by the address (frame.js):
 *
 *   #live       live.js (GET /v1/queues every 2 s: stat tiles, queues, agents), tasks.js (the
 *               waiting tasks), why.js ("Why?": GET /v1/tasks/{id}/routing in a side drawer)
 *   #conversations  board.js (GET /v1/conversations every 3 s, filtered), monitor.js (one
 *               conversation watched live through the supervisor's own socket.js: whisper,
 *               barge, transfer with /ui/common/transfer.js; the agent's activity today)
 *   #rules      rules.js (JSON editor + rule cards: validate / save / dry-run / activate)
 *   #dryrun     dryrun.js (POST /v1/routing/rules/{v}/dry-run → KPIs, chart, per queue / agent)
 *   #history    history.js (GET /v1/routing/rules/versions with diffs, GET /v1/routing/history)
 *   #overrides  overrides.js (POST / GET / DELETE /v1/routing/overrides)
 *   #kb         kb/kb.js (GET / POST / PUT / DELETE /v1/kb/entries, POST /v1/kb/match,
 *               POST /v1/kb/import, GET /v1/kb/export; #kb/<id> and #kb/new open the editor)
 *   #staff      staff/staff.js (GET / POST / PATCH /v1/staff, POST /v1/staff/{id}/deactivate,
 *               GET / POST /v1/teams, POST /v1/staff/import; #staff/new, #staff/teams,
 *               #staff/import)
 *
 * Team leads, supervisors and admins are let in; each sees the sections of their role
 * (frame.js `applyRole`): team leads Live and Staff (the agents of the teams they lead).
 *
 * Shared by the sections: shared.js (session, live answer, API), ui.js (formatting and DOM
 * helpers), versions.js (the rule-set versions). Strings: i18n/en.js and i18n/zh-CN.js.
 *
 * Sections import one another's functions where one acts on another (Rules opens a dry-run,
 * History opens a version in the editor); such cycles are fine between ES modules because only
 * functions cross them and no module calls another while it loads.
 */
import { i18n, t } from '../common/i18n.js';
import { mountLogin } from '../common/login.js';
import { request } from '../common/util.js';
import en from './i18n/en.js';
import zhCN from './i18n/zh-CN.js';
import { $, app, api, may, whenSessionExpires } from './shared.js';
import { applyRole, mountFrame, renderActiveInfo, renderMe, route, setSections, updateTitle } from './frame.js';
import { activeVersion, lastSavedVersion, resetVersions, versionsState } from './versions.js';
import * as live from './live.js';
import * as board from './board.js';
import { resetMonitor } from './monitor.js';
import { closeWhy, renderWhy, whyTaskId } from './why.js';
import * as rules from './rules.js';
import * as dryrun from './dryrun.js';
import * as history from './history.js';
import * as overrides from './overrides.js';
import * as kb from './kb/kb.js';
import { renderKbList } from './kb/list.js';
import * as staff from './staff/staff.js';

var SESSION_KEY = 'switchboard.console_session';

i18n.register({ en: en, 'zh-CN': zhCN });
setSections({ live: live, conversations: board, rules: rules, dryrun: dryrun, history: history, overrides: overrides, kb: kb, staff: staff });

/* ================================================================ login */
// The card itself is /ui/common/login.js; team leads, supervisors and admins are let in.
var login = mountLogin({
  view: $('login-view'),
  app: $('console-view'),
  storageKey: SESSION_KEY,
  roles: ['team_lead', 'supervisor', 'admin'],
  wrongRole: 'login.err.notSupervisor',
  onSignIn: function (s) { app.session = s; enterConsole(); }
});
mountFrame(function () { logout(); });
whenSessionExpires(function () { logout(t('login.err.expired')); });

function showLogin(message) {
  document.title = t('doc.title');
  login.show(message);
}

function enterConsole() {
  login.hide();
  applyRole();
  renderMe();
  loadMe();
  live.renderLive();
  renderActiveInfo();
  live.startPolling();
  if (may('routing')) rules.loadActive();
  route();
}

function logout(message) {
  live.stopPolling();
  closeWhy(true);
  // Signing out on purpose ends the token on the server too (an ended session's is dead already).
  if (!message && app.session) request('POST', '/v1/auth/logout', { token: app.session.token }).catch(function () {});
  app.session = null;
  login.store(null);
  live.resetLive();
  board.resetBoard();
  resetMonitor();
  rules.resetRules();
  resetVersions();
  history.resetHistory();
  overrides.resetOverrides();
  dryrun.resetDry();
  kb.resetKb();
  staff.resetStaff();
  app.section = null;
  showLogin(message);
}

/** The login answer names no supervisor's own id: GET /v1/me does, with their display name. */
function loadMe() {
  var session = app.session;
  if (!session || (session.agent_id && session.name)) return;
  api('GET', '/v1/me').then(function (r) {
    if (app.session !== session || !r.ok || !r.data || r.data.kind !== 'staff') return;
    session.agent_id = r.data.agent_id;
    session.name = r.data.name;
    login.store(session);
    renderMe(); renderActiveInfo(); history.renderAudit(); renderKbList(); staff.renderStaffAll();
  }).catch(function () { /* names fall back to ids */ });
}

/* ============================================================= language */
i18n.onChange(function () {
  updateTitle();
  rules.renderCheatSheet();
  if ($('console-view').hidden) return;
  live.setLivePill($('live-pill').getAttribute('data-state'));
  live.forgetDrawn();
  renderMe(); renderActiveInfo(); live.renderLive();
  board.relabelBoard();
  rules.renderRulesBase(); rules.renderLoadSelect(); rules.renderPreview(); rules.renderProblems();
  if (!$('rules-status').hidden) rules.hideRulesStatus();
  overrides.renderOverrideLists();
  dryrun.renderDryVersions(); dryrun.renderDryReport();
  history.renderVersions(); history.renderAudit();
  kb.renderKbAll();
  staff.renderStaffAll();
  if (whyTaskId()) renderWhy();
});
i18n.bindSwitches();
i18n.apply();
rules.renderCheatSheet();

/* ================================================================= boot */
app.session = login.saved();
if (app.session) enterConsole(); else showLogin();

// A read-only look at the console's state, for debugging and embedding hosts.
window.SwitchboardConsole = {
  get state() {
    var editor = rules.editorState();
    return { section: app.section, activeVersion: activeVersion(), lastSaved: lastSavedVersion(), problems: editor.problems,
      jsonError: editor.jsonError, live: app.live, versions: versionsState(), audit: history.auditState(), dry: dryrun.dryState(),
      kb: kb.kbState(), staff: staff.staffState() };
  }
};
