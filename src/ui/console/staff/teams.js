/*
 * Switchboard console — #staff/teams: every team with its leads and members (GET /v1/teams,
 * any staff member), and for admins a new team (POST /v1/teams) with its leads and members
 * picked from the accounts (searchable lists: a centre has hundreds of agents). A 422 shows
 * every problem beside its list; a taken name (409) at the name.
 */
import { i18n, t } from '../../common/i18n.js';
import { avatarColor, el, toast } from '../../common/util.js';
import { $, api, errMsg, may } from '../shared.js';
import { arr, avatarNode, clear, emptyState, loadingRow, setBusy, sig } from '../ui.js';
import { ST, account, personName, problemsOf, staffLoad, tx } from './store.js';
import { clearFieldErrors, fieldError, fieldOf, indexOf, problemsBox, roleBadge } from './widgets.js';
import { focusField, label } from './editor.js';

var host = $('staff-teams');
/** The form (open or not, what is picked), what is drawn. */
var T = { formOpen: false, form: null, listSig: null, expanded: {} };
export function resetTeams() { T.formOpen = false; T.form = null; T.listSig = null; T.expanded = {}; clear(host); }
export function forgetTeamsDrawn() { T.listSig = null; }
export function openTeamForm() { T.formOpen = true; T.listSig = null; renderTeams(); }
/** The form closes (cancelled or done): the address no longer opens it. */
function closeTeamForm() {
  T.formOpen = false; T.form = null; T.listSig = null;
  if (location.hash === '#staff/teams/new') history.replaceState(null, '', '#staff/teams');
  renderTeams();
}

export function renderTeams() {
  var s = sig([ST.state, ST.teams, ST.staff.length, T.formOpen, T.expanded, i18n.lang, may('staff')]);
  if (s === T.listSig && host.firstChild) return;
  T.listSig = s;
  var keepForm = T.form && T.form.node;
  if (T.form) T.form.refresh();   // the accounts may have loaded since the form was built
  clear(host);
  var head = el('div', { class: 'staff-teams-head' }, [
    el('p', { class: 'kb-count', 'data-testid': 'teams-count', text: ST.state === 'ok' ? t(ST.teams.length === 1 ? 'staff.teams1' : 'staff.teamsN', { n: ST.teams.length }) : '' }),
    may('staff') && !T.formOpen ? el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'team-new', onclick: openTeamForm }, [
      el('span', { class: 'btn-plus', 'aria-hidden': 'true', text: '+' }), tx('span', 'staff.team.new')]) : null
  ]);
  host.appendChild(head);
  if (T.formOpen && may('staff')) host.appendChild(keepForm || teamForm());
  if (ST.state === 'idle' || (ST.state === 'loading' && !ST.teams.length)) { host.appendChild(el('div', { class: 'card' }, [loadingRow(t('staff.loading'))])); return; }
  if (ST.state === 'error' && !ST.teams.length) {
    host.appendChild(el('div', { class: 'card' }, [emptyState('error', t('staff.loadFailed'), ST.error, el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.retry'), onclick: staffLoad }))]));
    return;
  }
  if (!ST.teams.length) {
    if (T.formOpen) return;
    host.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('staff.team.empty'), t(may('staff') ? 'staff.team.emptyAdmin' : 'staff.team.emptyText'))]));
    return;
  }
  host.appendChild(el('div', { class: 'team-grid', 'data-testid': 'team-grid' }, ST.teams.map(teamCard)));
}

function personChip(id) {
  var a = account(id), name = personName(id);
  return el('span', { class: 'person-chip' + (a && !a.active ? ' is-off' : ''), title: a ? '@' + a.username : '' }, [avatarNode(name, 'avatar-xs'), el('span', { text: name })]);
}
function teamCard(x) {
  var members = arr(x.members), leads = arr(x.leads);
  var open = !!T.expanded[x.id], SHOW = 12;
  var shown = open ? members : members.slice(0, SHOW);
  return el('article', { class: 'card team-card', 'data-testid': 'team-card', 'data-team-id': x.id, 'data-team-name': x.name }, [
    el('header', { class: 'team-card-head' }, [
      el('span', { class: 'team-swatch', 'aria-hidden': 'true', style: { background: avatarColor('team:' + x.name) }, text: String(x.name || '?').charAt(0).toUpperCase() }),
      el('div', { class: 'team-card-title' }, [
        el('h3', { 'data-testid': 'team-name', text: x.name }),
        el('p', { class: 'team-card-sub', 'data-testid': 'team-counts', 'data-members': String(members.length), 'data-leads': String(leads.length),
          text: t(members.length === 1 ? 'staff.team.member1' : 'staff.team.membersN', { n: members.length }) + ' · ' + t(leads.length === 1 ? 'staff.team.lead1' : 'staff.team.leadsN', { n: leads.length }) })
      ])
    ]),
    el('div', { class: 'team-card-part' }, [tx('h4', 'staff.team.leads'),
      leads.length ? el('div', { class: 'chips', 'data-testid': 'team-leads' }, leads.map(personChip)) : tx('span', 'staff.team.noLeads', { class: 'muted' })]),
    el('div', { class: 'team-card-part' }, [tx('h4', 'staff.team.members'),
      members.length ? el('div', { class: 'chips', 'data-testid': 'team-members' }, shown.map(personChip).concat(members.length > SHOW ? [
        el('button', { type: 'button', class: 'link-btn team-more', 'data-testid': 'team-more',
          text: open ? t('staff.team.fewer') : t('staff.team.more', { n: members.length - SHOW }),
          onclick: function () { T.expanded[x.id] = !open; renderTeams(); } })] : [])) : tx('span', 'staff.team.noMembers', { class: 'muted' })])
  ]);
}

/**
 * A searchable list of accounts to tick: `who(a)` says which accounts may be picked.
 * Returns { node, get(), set(ids) }.
 */
function picker(testid, who, onChange) {
  var chosen = [];
  var q = '';
  var chips = el('div', { class: 'picker-chosen', 'data-testid': testid + '-chosen' });
  var search = el('input', { class: 'input input-sm', type: 'search', 'data-testid': testid + '-search', autocomplete: 'off', spellcheck: 'false',
    'data-i18n-placeholder': 'staff.team.findPh', placeholder: t('staff.team.findPh'), 'aria-label': t('staff.team.findPh') });
  var list = el('ul', { class: 'picker-list', 'data-testid': testid + '-list' });
  var more = el('p', { class: 'picker-more field-hint', hidden: true });
  var LIMIT = 60;
  search.addEventListener('input', function () { q = search.value.trim().toLowerCase(); drawList(); });
  function toggle(id, on) {
    if (on && chosen.indexOf(id) === -1) chosen.push(id);
    if (!on) chosen = chosen.filter(function (x) { return x !== id; });
    drawChips(); onChange && onChange();
  }
  function drawChips() {
    clear(chips);
    if (!chosen.length) { chips.appendChild(tx('span', 'staff.team.noneChosen', { class: 'muted' })); return; }
    chosen.forEach(function (id) {
      chips.appendChild(el('span', { class: 'person-chip is-chosen', 'data-testid': testid + '-chip', 'data-id': id }, [avatarNode(personName(id), 'avatar-xs'), el('span', { text: personName(id) }),
        el('button', { type: 'button', class: 'chip-x', 'aria-label': t('staff.skill.remove', { name: personName(id) }), text: '×',
          onclick: function () { toggle(id, false); drawList(); } })]));
    });
  }
  function drawList() {
    clear(list);
    var terms = q.split(/\s+/).filter(Boolean);
    var all = ST.staff.filter(function (a) { return a.active && who(a); }).filter(function (a) {
      var hay = (a.display_name + ' ' + a.username).toLowerCase();
      return terms.every(function (term) { return hay.indexOf(term) !== -1; });
    });
    all.slice(0, LIMIT).forEach(function (a) {
      var box = el('input', { type: 'checkbox', value: a.id, checked: chosen.indexOf(a.id) !== -1 });
      box.addEventListener('change', function () { toggle(a.id, box.checked); });
      list.appendChild(el('li', {}, [el('label', { class: 'picker-item', 'data-testid': testid + '-item', 'data-username': a.username }, [
        box, avatarNode(a.display_name, 'avatar-xs'), el('span', { class: 'picker-name', text: a.display_name }), el('span', { class: 'mono picker-user', text: '@' + a.username }), roleBadge(a.role)])]));
    });
    if (!all.length) list.appendChild(el('li', { class: 'picker-none' }, [tx('span', 'staff.team.nobody', { class: 'muted' })]));
    more.hidden = all.length <= LIMIT;
    more.textContent = t('staff.team.narrow', { n: all.length - LIMIT });
  }
  drawChips(); drawList();
  return {
    node: el('div', { class: 'picker', 'data-testid': testid }, [chips, search, list, more]),
    get: function () { return chosen.slice(); },
    set: function (ids) { chosen = arr(ids).slice(); drawChips(); drawList(); },
    refresh: function () { drawChips(); drawList(); }
  };
}

function teamForm() {
  var name = el('input', { class: 'input', id: 'team-new-name', 'data-testid': 'team-new-name', maxlength: '100', autocomplete: 'off' });
  var leads = picker('team-leads', function (a) { return a.role !== 'agent'; });
  var members = picker('team-members', function (a) { return a.role !== 'team_lead'; });
  var problems = problemsBox('team-problems');
  var submit = el('button', { type: 'submit', class: 'btn btn-primary btn-sm', 'data-testid': 'team-create' }, [tx('span', 'staff.team.create')]);
  var form = el('form', { class: 'card team-form', 'data-testid': 'team-form', novalidate: true }, [
    el('div', { class: 'card-head' }, [tx('h2', 'staff.team.newTitle'), tx('span', 'staff.team.newHint', { class: 'card-hint' })]),
    problems.node,
    el('div', { class: 'field', 'data-field': 'name' }, [el('label', { for: 'team-new-name' }, [tx('span', 'staff.team.name')]), name,
      el('p', { class: 'field-error', 'data-error-for': 'name', hidden: true })]),
    el('div', { class: 'team-form-pick' }, [
      el('div', { class: 'field', 'data-field': 'leads' }, [tx('span', 'staff.team.leads', { class: 'field-label' }), tx('p', 'staff.team.leadsHint', { class: 'field-hint' }), leads.node,
        el('p', { class: 'field-error', 'data-error-for': 'leads', hidden: true })]),
      el('div', { class: 'field', 'data-field': 'members' }, [tx('span', 'staff.team.members', { class: 'field-label' }), tx('p', 'staff.team.membersHint', { class: 'field-hint' }), members.node,
        el('p', { class: 'field-error', 'data-error-for': 'members', hidden: true })])
    ]),
    el('div', { class: 'form-actions' }, [
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'team-cancel', onclick: closeTeamForm }, [tx('span', 'common.cancel')]),
      submit
    ])
  ]);
  var busy = false;
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (busy) return;
    var body = { name: name.value, leads: leads.get(), members: members.get() };
    problems.hide(); clearFieldErrors(form);
    busy = true;
    setBusy(submit, 'staff.team.creating');
    api('POST', '/v1/teams', body).then(function (r) {
      if (r.status === 201) {
        toast(t('staff.team.created', { name: body.name.trim() }));
        closeTeamForm();
        staffLoad();
        return;
      }
      var list = problemsOf(r);
      var named = function (path) {
        var f = fieldOf(path), i = indexOf(path);
        var ids = f === 'leads' ? body.leads : f === 'members' ? body.members : null;
        return ids && i != null && ids[i] ? label(f) + ' · ' + personName(ids[i]) : label(path);
      };
      if (r.status === 422 && list.length) {
        problems.show(list.length === 1 ? t('staff.problems1') : t('staff.problems', { n: list.length }), list, named, function (path) { focusField(form, path); });
        list.forEach(function (p) { fieldError(form, fieldOf(p.path), p.message); });
      } else if (r.status === 409) {
        problems.show(t('staff.problems1'), [{ path: 'name', message: t('staff.team.nameTaken') }], named, function (path) { focusField(form, path); });
        fieldError(form, 'name', t('staff.team.nameTaken'));
      } else {
        problems.message(t('staff.team.createFailed', { msg: errMsg(r) }));
      }
    }).catch(function () { problems.message(t('staff.team.createFailed', { msg: t('common.network') })); })
      .then(function () { busy = false; setBusy(submit, null); });
  });
  name.addEventListener('input', function () { var f = name.closest('.field'); f.classList.remove('has-error'); f.querySelector('.field-error').hidden = true; });
  T.form = { node: form, refresh: function () { leads.refresh(); members.refresh(); } };
  setTimeout(function () { name.focus(); }, 0);
  return form;
}
