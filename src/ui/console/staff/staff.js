/*
 * Switchboard console — #staff, the staff section: #staff the people (people.js, each
 * account's editor in editor.js), #staff/new a new account (create.js), #staff/teams the
 * teams (teams.js; #staff/teams/new opens a new one), #staff/import the bulk import
 * (import.js). What a role sees: admins everything; supervisors every account, changing
 * skills, languages and capacity; team leads the agents of the teams they lead, the same.
 * The data (store.js) loads when the section is entered and after every change.
 */
import { t } from '../../common/i18n.js';
import { el } from '../../common/util.js';
import { $, app, may } from '../shared.js';
import { ST, onStaffChanged, resetStore, staffLoad } from './store.js';
import { forgetDrawn, peopleState, renderFilters, renderPeople, resetPeople } from './people.js';
import { openCreate, renderCreateTeams, resetCreate } from './create.js';
import { forgetTeamsDrawn, openTeamForm, renderTeams, resetTeams } from './teams.js';
import { importState, renderImport, resetImport } from './import.js';

var VIEWS = ['people', 'new', 'teams', 'import'];
var view = 'people';

// The skill names the editors offer (one list for the whole section).
$('section-staff').appendChild(el('datalist', { id: 'staff-skill-names' }));

export function enter(args, changed) {
  var v = VIEWS.indexOf(args[0]) !== -1 ? args[0] : 'people';
  if ((v === 'new' || v === 'import') && !may('staff')) v = 'people';
  var was = view;
  view = v;
  showView();
  if (changed || ST.state === 'idle' || ST.state === 'error') staffLoad();
  if (v === 'new' && (changed || was !== 'new')) openCreate();
  if (v === 'teams' && args[1] === 'new' && may('staff')) openTeamForm();
  renderView();
}

function showView() {
  var s = $('section-staff');
  s.setAttribute('data-view', view);
  $('staff-people').hidden = view !== 'people';
  $('staff-create').hidden = view !== 'new';
  $('staff-teams').hidden = view !== 'teams';
  $('staff-import').hidden = view !== 'import';
  document.querySelectorAll('[data-staff-tab]').forEach(function (a) {
    var on = a.getAttribute('data-staff-tab') === (view === 'new' ? 'people' : view);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  $('staff-new').classList.toggle('is-on', view === 'new');
}

function renderView() {
  renderHead();
  if (view === 'people') { renderFilters(); renderPeople(); }
  else if (view === 'teams') renderTeams();
  else if (view === 'import') renderImport();
}

function renderHead() {
  var role = app.session && app.session.role;
  $('staff-sub').textContent = t(role === 'admin' ? 'staff.sub.admin' : role === 'team_lead' ? 'staff.sub.lead' : 'staff.sub.supervisor');
  var n = $('staff-tab-n-people'), m = $('staff-tab-n-teams');
  n.textContent = ST.state === 'ok' ? String(ST.staff.filter(function (a) { return a.active; }).length) : '';
  m.textContent = ST.state === 'ok' ? String(ST.teams.length) : '';
}

onStaffChanged(function () {
  if (!app.session) return;
  renderCreateTeams();
  forgetTeamsDrawn();
  if (app.section === 'staff') renderView();
});

/** Signed out: everything is forgotten. */
export function resetStaff() {
  resetStore(); resetPeople(); resetCreate(); resetTeams(); resetImport();
  view = 'people';
}
/** The UI language changed (or the signed-in name is known). */
export function renderStaffAll() {
  forgetDrawn(); forgetTeamsDrawn();
  if (app.section === 'staff') renderView();
}
/** For window.SwitchboardConsole. */
export function staffState() {
  return { state: ST.state, view: view, accounts: ST.staff.length, teams: ST.teams.length, people: peopleState(), import: importState() };
}
