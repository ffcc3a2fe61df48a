/*
 * Switchboard console — the frame around the sections: the top bar (the signed-in supervisor
 * and the rule-set version in force), the side navigation (its counts and "routing in force"
 * footer), the document title, and the router that shows one section per address
 * (#live, #conversations, #rules, #dryrun, #history, #overrides, #kb, #staff; #kb/<id> passes
 * <id> on). A section, nav item or control marked data-needs="<permission>" is shown only to
 * the roles that have it (shared.js `may`): team leads see Live, Conversations and Staff.
 */
import { t } from '../common/i18n.js';
import { el } from '../common/util.js';
import { mountTopbar } from '../common/topbar.js';
import { $, app, may, who } from './shared.js';
import { arr, clear, fmtWhen, num } from './ui.js';
import { activeVersion } from './versions.js';
import { activeRuleSet } from './rules.js';

export const SECTIONS = ['live', 'conversations', 'rules', 'dryrun', 'history', 'overrides', 'kb', 'staff'];
/** The permission each section needs (none: every role let into the console). */
var NEEDS = { conversations: 'supervise', rules: 'routing', dryrun: 'routing', history: 'routing', overrides: 'routing', kb: 'knowledge', staff: 'supervise' };
export function maySee(name) { return may(NEEDS[name]); }

/** Shows what the signed-in role may use and hides the rest (nav items, links, buttons). */
export function applyRole() {
  document.querySelectorAll('[data-needs]').forEach(function (n) { n.hidden = !may(n.getAttribute('data-needs')); });
  $('console-view').setAttribute('data-role', (app.session && app.session.role) || '');
}

/* ============================================================= top bar */
var topbar = null;

/** Builds the top bar around the page's own pills (the live indicator, the version in force). */
export function mountFrame(onLogout) {
  topbar = mountTopbar({ host: $('topbar'), home: '/console#live', label: 'Switchboard Console', nameTestId: 'me-name', onLogout: onLogout });
}

export function renderMe() {
  var name = (app.session && (app.session.name || app.session.username)) || '—';
  var agents = app.live && arr(app.live.agents);
  var me = agents && app.session && agents.find(function (a) { return a && a.agent_id === app.session.agent_id; });
  if (me && me.name) name = me.name;
  else if (/^[a-z]/.test(name)) name = name.charAt(0).toUpperCase() + name.slice(1);
  var role = app.session && app.session.role;
  topbar.setUser(name, role === 'admin' || role === 'team_lead' ? 'me.role.' + role : 'me.role');
}

/** The topbar pill and the nav footer: which version routes right now. */
export function renderActiveInfo() {
  var v = activeVersion();
  var pill = $('active-version');
  pill.setAttribute('data-version', v ? String(v) : '0');
  $('active-version-text').textContent = v ? t('nav.footVersion', { v: v }) : t('nav.footBuiltin');
  var foot = clear($('nav-foot-text'));
  if (v) {
    foot.appendChild(el('strong', { text: t('nav.footVersion', { v: v }) }));
    var active = activeRuleSet();
    var a = active && active.version === v ? active : null;
    if (a && (a.activated_at || a.activated_by)) {
      foot.appendChild(el('br'));
      foot.appendChild(document.createTextNode(t('nav.footActivated', { when: fmtWhen(a.activated_at), who: who(a.activated_by) })));
    }
  } else {
    foot.textContent = t('nav.footBuiltin');
  }
}
$('active-version').addEventListener('click', function () { go('history'); });

/** The little count on a nav item (waiting tasks, rule problems, overrides in force). */
export function setNavCount(id, n) {
  var b = $(id);
  if (n) { b.textContent = n > 99 ? '99+' : String(n); b.hidden = false; } else b.hidden = true;
}

export function updateTitle() {
  var waiting = app.live && num(app.live.waiting);
  var sec = app.section ? t('nav.' + app.section) + ' · ' : '';
  document.title = (waiting ? '(' + waiting + ') ' : '') + sec + t('doc.title');
}

/* ============================================================= router */
/**
 * The sections by name, each a module with
 *   enter(args, changed)   it is shown (again): `args` are the address's parts after its name
 *   hide()                 optional: another section is shown
 *   mayLeave(name, args)   optional: false keeps it (it asks the supervisor first)
 */
var sections = {};
export function setSections(map) { sections = map; }

export function route() {
  var h = (location.hash || '').replace(/^#/, '').split('/');
  var name = SECTIONS.indexOf(h[0]) !== -1 && maySee(h[0]) ? h[0] : 'live';
  var current = sections[app.section];
  if (current && current.mayLeave && !current.mayLeave(name, h.slice(1))) return;   // e.g. unsaved knowledge-base edits: asks first
  showSection(name, h.slice(1));
}
window.addEventListener('hashchange', function () { if (app.session) route(); });

function showSection(name, args) {
  var changed = app.section !== name;
  app.section = name;
  SECTIONS.forEach(function (other) { if (other !== name && sections[other] && sections[other].hide) sections[other].hide(); });
  document.querySelectorAll('[data-section]').forEach(function (s) { s.hidden = s.getAttribute('data-section') !== name; });
  document.querySelectorAll('[data-nav]').forEach(function (a) {
    if (a.getAttribute('data-nav') === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  updateTitle();
  if (changed) $('content').scrollTop = 0;
  sections[name].enter(args || [], changed);
}

/** Shows a section (again, if it is the one in the address). */
export function go(name) {
  if (location.hash === '#' + name) showSection(name);
  else location.hash = '#' + name;
}
