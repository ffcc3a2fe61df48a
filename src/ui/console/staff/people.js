/*
 * Switchboard console — #staff, the people list: search (name, username), filters (role,
 * team, skill, active / deactivated) with counts, one row per account, and the account's
 * editor opened under its row (editor.js). Long lists show 100 rows at a time.
 */
import { i18n, t } from '../../common/i18n.js';
import { el } from '../../common/util.js';
import { $, app } from '../shared.js';
import { arr, clear, emptyState, loadingRow, sig, skillChip } from '../ui.js';
import { ROLES, ST, editScope, isSelf, skillNames, staffLoad, teamName } from './store.js';
import { capacityCell, langTags, personCell, roleBadge } from './widgets.js';
import { accountEditor, forgetDraft } from './editor.js';

var PAGE = 100;
/** The filters, how many rows are shown, the account whose editor is open, what is drawn. */
var F = { q: '', role: '', team: '', skill: '', status: 'active', limit: PAGE, open: null, flash: null, filtersSig: null, listSig: null };
export function peopleState() { return { q: F.q, role: F.role, team: F.team, skill: F.skill, status: F.status, open: F.open }; }
export function resetPeople() {
  F.q = ''; F.role = ''; F.team = ''; F.skill = ''; F.status = 'active'; F.limit = PAGE; F.open = null; F.flash = null; F.filtersSig = null; F.listSig = null;
  $('staff-search').value = '';
  forgetDraft();
}
export function forgetDrawn() { F.filtersSig = null; F.listSig = null; }
/** Shows one account (after creating it): searched for by its username, flashed. */
export function showAccount(username) {
  F.q = username; F.role = ''; F.team = ''; F.skill = ''; F.status = 'active'; F.flash = username;
  $('staff-search').value = username;
  forgetDrawn();
}

function matches(a, terms) {
  if (F.status === 'active' && !a.active) return false;
  if (F.status === 'inactive' && a.active) return false;
  if (F.role && a.role !== F.role) return false;
  if (F.team === '-' && arr(a.teams).length) return false;
  if (F.team && F.team !== '-' && arr(a.teams).indexOf(F.team) === -1) return false;
  if (F.skill && !arr(a.skills).some(function (s) { return s.name === F.skill; })) return false;
  if (!terms.length) return true;
  var hay = [a.display_name, a.username, a.extension].filter(Boolean).map(function (s) { return String(s).toLowerCase(); });
  return terms.every(function (term) { return hay.some(function (h) { return h.indexOf(term) !== -1; }); });
}
function terms() { return F.q.toLowerCase().split(/\s+/).filter(Boolean); }

export function renderFilters() {
  var s = sig([ST.staff.map(function (a) { return [a.role, a.active, a.teams, a.skills]; }), ST.teams, F.role, F.team, F.skill, F.status, i18n.lang]);
  if (s === F.filtersSig) return;
  F.filtersSig = s;
  var all = ST.staff;
  var counts = { active: 0, inactive: 0, all: all.length };
  all.forEach(function (a) { counts[a.active ? 'active' : 'inactive'] += 1; });
  var box = clear($('staff-status-filter'));
  ['active', 'inactive', 'all'].forEach(function (st) {
    box.appendChild(el('button', { type: 'button', class: 'chip-btn kb-chip' + (F.status === st ? ' is-on' : '') + ' staff-chip-' + st, 'aria-pressed': F.status === st ? 'true' : 'false',
      'data-testid': 'staff-filter-status', 'data-status': st, onclick: function () { F.status = st; F.limit = PAGE; renderFilters(); renderPeople(); } },
    [st !== 'all' ? el('span', { class: 'kb-chip-dot', 'aria-hidden': 'true' }) : null, t('staff.status.' + st), el('span', { class: 'kb-chip-n', text: String(counts[st]) })]));
  });
  var roles = clear($('staff-role-filter'));
  roles.appendChild(el('option', { value: '', text: t('staff.f.allRoles') }));
  ROLES.forEach(function (r) {
    var n = all.filter(function (a) { return a.role === r; }).length;
    if (n || F.role === r) roles.appendChild(el('option', { value: r, text: t('staff.role.' + r) + ' (' + n + ')' }));
  });
  roles.value = F.role;
  roles.classList.toggle('is-on', !!F.role);
  var teams = clear($('staff-team-filter'));
  teams.appendChild(el('option', { value: '', text: t('staff.f.allTeams') }));
  ST.teams.forEach(function (x) { teams.appendChild(el('option', { value: x.id, text: x.name })); });
  teams.appendChild(el('option', { value: '-', text: t('staff.f.noTeam') }));
  if (F.team && F.team !== '-' && !ST.teams.some(function (x) { return x.id === F.team; })) F.team = '';
  teams.value = F.team;
  teams.classList.toggle('is-on', !!F.team);
  var skills = clear($('staff-skill-filter'));
  skills.appendChild(el('option', { value: '', text: t('staff.f.allSkills') }));
  skillNames().forEach(function (k) { skills.appendChild(el('option', { value: k, text: k })); });
  if (F.skill && skillNames().indexOf(F.skill) === -1) F.skill = '';
  skills.value = F.skill;
  skills.classList.toggle('is-on', !!F.skill);
  var names = $('staff-skill-names');
  if (names) { clear(names); skillNames().forEach(function (k) { names.appendChild(el('option', { value: k })); }); }
}

export function renderPeople() {
  var s = sig([ST.state, ST.error, ST.staff, ST.teams, F.q, F.role, F.team, F.skill, F.status, F.limit, F.open, i18n.lang, app.session && app.session.agent_id]);
  if (s === F.listSig) return;
  F.listSig = s;
  var body = clear($('staff-rows')), count = $('staff-count'), more = $('staff-more');
  more.hidden = true;
  var full = function (node) { body.appendChild(el('tr', { class: 'is-empty' }, [el('td', { colspan: '8' }, [node])])); };
  $('staff-people').setAttribute('data-state', ST.state);
  if (ST.state === 'idle' || (ST.state === 'loading' && !ST.staff.length)) { count.textContent = ''; full(loadingRow(t('staff.loading'))); return; }
  if (ST.state === 'error' && !ST.staff.length) {
    count.textContent = '';
    full(emptyState('error', t('staff.loadFailed'), ST.error, el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.retry'), onclick: staffLoad })));
    return;
  }
  var all = ST.staff, tm = terms();
  var rows = all.filter(function (a) { return matches(a, tm); });
  var filtered = !!(tm.length || F.role || F.team || F.skill || F.status !== 'all');
  count.textContent = filtered ? t('staff.countFiltered', { n: rows.length, total: all.length }) : t('staff.count', { n: all.length });
  count.setAttribute('data-shown', String(rows.length));
  count.setAttribute('data-total', String(all.length));
  if (!all.length) {
    full(emptyState('empty', t(app.session && app.session.role === 'team_lead' ? 'staff.emptyLead' : 'staff.empty'), t(app.session && app.session.role === 'team_lead' ? 'staff.emptyLeadText' : 'staff.emptyText')));
    return;
  }
  if (!rows.length) {
    full(emptyState('empty', F.q.trim() ? t('staff.noMatch', { q: F.q.trim() }) : t('staff.noMatchFiltered'), t('staff.noMatchText'),
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'staff-clear-filters', text: t('staff.clearFilters'), onclick: clearFilters })));
    return;
  }
  rows.slice(0, F.limit).forEach(function (a) {
    var tr = row(a);
    body.appendChild(tr);
    if (F.open === a.id && editScope(a)) body.appendChild(accountEditor(a, closeEditor));
  });
  if (rows.length > F.limit) {
    more.hidden = false;
    clear(more).appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'staff-more',
      text: t('staff.showMore', { n: Math.min(PAGE, rows.length - F.limit), left: rows.length - F.limit }), onclick: function () { F.limit += PAGE; renderPeople(); } }));
  }
  if (F.flash) {
    var flashed = body.querySelector('[data-username="' + F.flash.replace(/"/g, '') + '"]');
    F.flash = null;
    if (flashed) { flashed.classList.add('is-flash'); flashed.scrollIntoView({ block: 'nearest' }); }
  }
}

function openEditor(id) {
  F.open = F.open === id ? null : id;
  forgetDraft();
  forgetDrawn();
  renderPeople();
  var ed = document.querySelector('[data-testid=staff-editor]');
  if (ed) { ed.scrollIntoView({ block: 'nearest' }); var first = ed.querySelector('input, button'); if (first) first.focus({ preventScroll: true }); }
}
function closeEditor(id) {
  F.open = null;
  forgetDraft();
  if (id) F.flash = (ST.staff.find(function (a) { return a.id === id; }) || {}).username || null;
  forgetDrawn();
  renderPeople();
  var back = id && document.querySelector('[data-testid=staff-row][data-id="' + id + '"] [data-testid=staff-edit]');
  if (back) back.focus({ preventScroll: true });
}

function row(a) {
  var scope = editScope(a);
  var teams = arr(a.teams);
  var skills = arr(a.skills);
  var open = F.open === a.id;
  var edit = scope ? el('button', { type: 'button', class: 'btn btn-ghost btn-sm staff-edit-btn' + (open ? ' is-on' : ''), 'data-testid': 'staff-edit', 'aria-expanded': open ? 'true' : 'false',
    onclick: function () { openEditor(a.id); } }, [el('span', { text: t(open ? 'staff.close' : 'staff.edit') })]) : null;
  return el('tr', { class: 'staff-row' + (a.active ? '' : ' is-inactive') + (open ? ' is-open' : ''), 'data-testid': 'staff-row', 'data-id': a.id, 'data-username': a.username,
    'data-active': a.active ? 'true' : 'false', onclick: function (ev) { if (!scope || ev.target.closest('a, button')) return; openEditor(a.id); } }, [
    el('td', { class: 'staff-cell-person' }, [personCell(a, isSelf(a) ? el('span', { class: 'badge badge-accent staff-you', text: t('staff.you') }) : null)]),
    el('td', { class: 'staff-cell-role' }, [roleBadge(a.role)]),
    el('td', { class: 'staff-col-teams' }, [teams.length ? el('div', { class: 'chips', 'data-testid': 'staff-teams-cell' }, teams.map(function (id) { return el('span', { class: 'team-chip', text: teamName(id) }); }))
      : el('span', { class: 'dash', text: '—' })]),
    el('td', { class: 'staff-cell-skills' }, [skills.length ? el('div', { class: 'chips', 'data-testid': 'staff-skills' }, skills.map(function (k) { return skillChip(k.name, k.level); }))
      : el('span', { class: 'muted staff-noskill', text: t('live.noSkills') })]),
    el('td', {}, [langTags(a.languages)]),
    el('td', {}, [capacityCell(a.capacity)]),
    el('td', {}, [el('span', { class: 'pill ' + (a.active ? 'pill-available' : 'pill-offline'), 'data-testid': 'staff-status', text: t(a.active ? 'staff.active' : 'staff.inactive') })]),
    el('td', { class: 'col-action' }, [edit])
  ]);
}

function clearFilters() {
  F.q = ''; F.role = ''; F.team = ''; F.skill = ''; F.status = 'all'; F.limit = PAGE;
  $('staff-search').value = '';
  renderFilters(); renderPeople();
  $('staff-search').focus();
}

var searchTimer = null;
$('staff-search').addEventListener('input', function () {
  var v = this.value;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(function () { F.q = v; F.limit = PAGE; renderPeople(); }, 80);
});
$('staff-search').addEventListener('keydown', function (ev) { if (ev.key === 'Escape' && this.value) { ev.preventDefault(); this.value = ''; F.q = ''; renderPeople(); } });
$('staff-role-filter').addEventListener('change', function () { F.role = this.value; F.limit = PAGE; renderFilters(); renderPeople(); });
$('staff-team-filter').addEventListener('change', function () { F.team = this.value; F.limit = PAGE; renderFilters(); renderPeople(); });
$('staff-skill-filter').addEventListener('change', function () { F.skill = this.value; F.limit = PAGE; renderFilters(); renderPeople(); });
