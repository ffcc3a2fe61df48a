/*
 * Switchboard console — an account's editor, opened under its row in the people list: skills
 * with levels, languages and capacity for whoever may change them (supervisors; team leads
 * for the agents of their teams), and for admins the account itself (name, role, extension,
 * teams) and its deactivation, asked first. Saving sends PATCH /v1/staff/{id} with the fields
 * that changed; a 422 shows every problem beside its field. What is typed survives a redraw
 * of the list (the draft is kept until the editor closes).
 */
import { t } from '../../common/i18n.js';
import { el, toast } from '../../common/util.js';
import { api, errMsg } from '../shared.js';
import { arr, clear, obj, setBusy, sig } from '../ui.js';
import { ROLES, ST, editScope, isSelf, problemsOf, putAccount, tx } from './store.js';
import { capacityEditor, clearFieldErrors, fieldError, fieldOf, indexOf, languagesEditor, problemsBox, skillsEditor } from './widgets.js';

/** What is being edited: { id, skills, languages, capacity, display_name, role, extension, teams }. */
var draft = null;
var busy = false;
export function forgetDraft() { draft = null; busy = false; }

function draftOf(a) {
  var c = obj(a.capacity);
  return { id: a.id, skills: arr(a.skills).map(function (s) { return { name: s.name, level: s.level }; }), languages: arr(a.languages).slice(),
    capacity: { chat: c.chat, voice: c.voice, ticket: c.ticket }, display_name: a.display_name, role: a.role, extension: a.extension || '', teams: arr(a.teams).slice() };
}

/** The fields of the draft that differ from `a`, as a PATCH body (admins: every field). */
function changes(a, scope) {
  var body = {};
  var was = draftOf(a);
  if (sig(draft.skills) !== sig(was.skills)) body.skills = draft.skills;
  if (sig(draft.languages) !== sig(was.languages)) body.languages = draft.languages;
  var cap = {};
  ['chat', 'voice', 'ticket'].forEach(function (m) { if (draft.capacity[m] !== was.capacity[m] && draft.capacity[m] != null) cap[m] = draft.capacity[m]; });
  if (Object.keys(cap).length) body.capacity = cap;
  if (scope === 'all') {
    if (draft.display_name.trim() !== was.display_name) body.display_name = draft.display_name;
    if (draft.role !== was.role) body.role = draft.role;
    var ext = draft.extension.trim();
    if (ext !== was.extension) body.extension = ext === '' ? null : ext;
    if (sig(draft.teams.slice().sort()) !== sig(was.teams.slice().sort())) body.teams = draft.teams;
  }
  return body;
}

/** The editor's table row under the row of `a`; `onClose(id?)` closes it (id: it saved). */
export function accountEditor(a, onClose) {
  var scope = editScope(a);
  if (!draft || draft.id !== a.id) draft = draftOf(a);
  var root = el('div', { class: 'staff-editor', 'data-testid': 'staff-editor', 'data-id': a.id });
  var problems = problemsBox('staff-editor-problems');
  var confirm = el('div', { class: 'confirm-bar', 'data-testid': 'staff-deactivate-confirm', hidden: true });
  var note = el('span', { class: 'staff-editor-note', 'data-testid': 'staff-editor-note' });
  var save = el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'staff-save' }, [tx('span', 'staff.save')]);

  function edited() {
    var n = Object.keys(changes(a, scope)).length;
    note.textContent = n ? t('staff.unsaved') : t('staff.routingNote');
    note.classList.toggle('is-dirty', !!n);
    root.classList.toggle('is-dirty', !!n);
  }
  var skills = skillsEditor(draft.skills, function () { draft.skills = skills.get(); edited(); }, 'staff-skill-names');
  var langs = languagesEditor(draft.languages, function () { draft.languages = langs.get(); edited(); });
  var cap = capacityEditor(draft.capacity, function () {
    var got = cap.get();
    ['chat', 'voice', 'ticket'].forEach(function (m) { draft.capacity[m] = got[m] == null ? null : got[m]; });
    edited();
  }, 'staff-ed-cap-' + a.id.slice(-6));

  var groups = [
    el('div', { class: 'staff-ed-group staff-ed-skills' }, [
      el('div', { class: 'field', 'data-field': 'skills' }, [tx('h4', 'staff.f.skills'), tx('p', 'staff.f.skillsHint', { class: 'field-hint' }), skills.node,
        el('p', { class: 'field-error', 'data-error-for': 'skills', hidden: true })])
    ]),
    el('div', { class: 'staff-ed-group' }, [
      el('div', { class: 'field', 'data-field': 'languages' }, [tx('h4', 'staff.f.languages'), langs.node, el('p', { class: 'field-error', 'data-error-for': 'languages', hidden: true })]),
      el('div', { class: 'field staff-ed-cap' }, [tx('h4', 'staff.f.capacity'), cap.node])
    ])
  ];
  if (scope === 'all') groups.push(accountGroup(a));
  root.appendChild(problems.node);
  root.appendChild(el('div', { class: 'staff-ed-grid' + (scope === 'all' ? ' is-admin' : '') }, groups));
  root.appendChild(confirm);

  var foot = el('div', { class: 'staff-ed-foot' });
  if (scope === 'all' && !isSelf(a)) {
    foot.appendChild(el('button', { type: 'button', class: 'btn btn-danger-ghost btn-sm', 'data-testid': 'staff-deactivate', onclick: askDeactivate }, [
      svg('<path d="M18.4 5.6 5.6 18.4"/><circle cx="12" cy="12" r="9"/>'), tx('span', 'staff.deactivate')]));
  }
  foot.appendChild(note);
  foot.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'staff-cancel', onclick: function () { onClose(null); } }, [tx('span', 'common.cancel')]));
  foot.appendChild(save);
  root.appendChild(foot);
  edited();

  save.addEventListener('click', function () {
    if (busy) return;
    var body = changes(a, scope);
    problems.hide(); clearFieldErrors(root);
    if (!Object.keys(body).length) { toast(t('staff.noChanges')); return; }
    busy = true;
    setBusy(save, 'staff.saving');
    var id = a.id;
    api('PATCH', '/v1/staff/' + encodeURIComponent(id), body).then(function (r) {
      if (!draft || draft.id !== id) return;
      if (r.ok && r.data) {
        toast(t('staff.saved', { name: r.data.display_name }));
        forgetDraft();
        putAccount(r.data);
        onClose(id);
        return;
      }
      var list = problemsOf(r);
      if (r.status === 422 && list.length) {
        problems.show(list.length === 1 ? t('staff.problems1') : t('staff.problems', { n: list.length }), list, label, function (path) { focusField(root, path); });
        list.forEach(function (p) {
          var f = fieldOf(p.path);
          if (f === 'skills' && indexOf(p.path) != null) skills.mark(indexOf(p.path));
          fieldError(root, f, p.message);
        });
      } else {
        problems.message(t('staff.saveFailed', { msg: errMsg(r) }));
      }
    }).catch(function () { problems.message(t('staff.saveFailed', { msg: t('common.network') })); })
      .then(function () { busy = false; setBusy(save, null); });
  });

  function askDeactivate() {
    clear(confirm);
    confirm.appendChild(el('div', {}, [
      el('strong', { 'data-testid': 'staff-deactivate-text', text: t('staff.deactivateAsk', { name: a.display_name, username: a.username }) }),
      el('div', { class: 'confirm-sub', text: t('staff.deactivateSub') })
    ]));
    var cancel = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'staff-deactivate-cancel', text: t('common.cancel'), onclick: function () { confirm.hidden = true; } });
    var ok = el('button', { type: 'button', class: 'btn btn-danger btn-sm', 'data-testid': 'staff-deactivate-ok' }, [el('span', { text: t('staff.deactivateOk') })]);
    ok.addEventListener('click', function () {
      if (busy) return;
      busy = true;
      setBusy(ok, 'staff.deactivating');
      var id = a.id;
      api('POST', '/v1/staff/' + encodeURIComponent(id) + '/deactivate').then(function (r) {
        if (r.ok && r.data) {
          toast(t('staff.deactivated', { name: r.data.display_name }));
          forgetDraft();
          putAccount(r.data);
          onClose(id);
          return;
        }
        confirm.hidden = true;
        problems.message(t('staff.deactivateFailed', { msg: errMsg(r) }));
      }).catch(function () { confirm.hidden = true; problems.message(t('staff.deactivateFailed', { msg: t('common.network') })); })
        .then(function () { busy = false; });
    });
    confirm.appendChild(el('div', { class: 'confirm-actions' }, [cancel, ok]));
    confirm.hidden = false;
    confirm.scrollIntoView({ block: 'nearest' });
    cancel.focus();
  }

  function accountGroup() {
    var name = el('input', { class: 'input input-sm', id: 'staff-ed-name', 'data-testid': 'staff-ed-name', maxlength: '100', autocomplete: 'off', value: draft.display_name });
    name.addEventListener('input', function () { draft.display_name = name.value; edited(); });
    var role = el('select', { class: 'select select-sm', id: 'staff-ed-role', 'data-testid': 'staff-ed-role', disabled: isSelf(a) },
      ROLES.map(function (r) { return el('option', { value: r, 'data-i18n': 'staff.role.' + r, text: t('staff.role.' + r) }); }));
    role.value = draft.role;
    role.addEventListener('change', function () { draft.role = role.value; edited(); });
    var ext = el('input', { class: 'input input-sm mono', id: 'staff-ed-ext', 'data-testid': 'staff-ed-extension', maxlength: '16', inputmode: 'numeric', autocomplete: 'off', value: draft.extension });
    ext.addEventListener('input', function () { draft.extension = ext.value; edited(); });
    var teams = el('div', { class: 'team-checks', 'data-testid': 'staff-ed-teams' });
    ST.teams.forEach(function (x) {
      var box = el('input', { type: 'checkbox', value: x.id, checked: draft.teams.indexOf(x.id) !== -1 });
      box.addEventListener('change', function () {
        if (box.checked) { if (draft.teams.indexOf(x.id) === -1) draft.teams.push(x.id); }
        else draft.teams = draft.teams.filter(function (id) { return id !== x.id; });
        edited();
      });
      teams.appendChild(el('label', { class: 'team-check' }, [box, el('span', { text: x.name })]));
    });
    if (!ST.teams.length) teams.appendChild(tx('span', 'staff.noTeamsYet', { class: 'muted' }));
    return el('div', { class: 'staff-ed-group staff-ed-account' }, [
      tx('h4', 'staff.f.account'),
      el('div', { class: 'field', 'data-field': 'display_name' }, [el('label', { for: 'staff-ed-name' }, [tx('span', 'staff.f.displayName')]), name,
        el('p', { class: 'field-error', 'data-error-for': 'display_name', hidden: true })]),
      el('div', { class: 'field-row' }, [
        el('div', { class: 'field', 'data-field': 'role' }, [el('label', { for: 'staff-ed-role' }, [tx('span', 'staff.f.role')]), role,
          isSelf(a) ? tx('p', 'staff.ownRole', { class: 'field-hint' }) : null, el('p', { class: 'field-error', 'data-error-for': 'role', hidden: true })]),
        el('div', { class: 'field', 'data-field': 'extension' }, [el('label', { for: 'staff-ed-ext' }, [tx('span', 'staff.f.extension')]), ext,
          el('p', { class: 'field-error', 'data-error-for': 'extension', hidden: true })])
      ]),
      el('div', { class: 'field', 'data-field': 'teams' }, [tx('span', 'staff.f.teams', { class: 'field-label' }), teams, el('p', { class: 'field-error', 'data-error-for': 'teams', hidden: true })])
    ]);
  }

  return el('tr', { class: 'staff-editor-row', 'data-testid': 'staff-editor-row' }, [el('td', { colspan: '8' }, [root])]);
}

function svg(inner) {
  var s = el('span', { class: 'btn-ico', 'aria-hidden': 'true' });
  s.innerHTML = '<svg viewBox="0 0 24 24" width="15" height="15" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">' + inner + '</svg>';
  return s;
}

/** The name of a problem's field, in the UI language. */
export function label(path) {
  var f = fieldOf(path), i = indexOf(path);
  var key = { username: 'staff.f.username', display_name: 'staff.f.displayName', password: 'staff.f.password', role: 'staff.f.role', skills: 'staff.f.skills',
    languages: 'staff.f.languages', 'capacity.chat': 'staff.cap.chat', 'capacity.voice': 'staff.cap.voice', 'capacity.ticket': 'staff.cap.ticket',
    teams: 'staff.f.teams', extension: 'staff.f.extension', name: 'staff.team.name', leads: 'staff.team.leads', members: 'staff.team.members' }[f];
  var text = key ? t(key) : String(path);
  return i != null ? text + ' #' + (i + 1) : text;
}
/** Focuses the field of a problem. */
export function focusField(root, path) {
  var box = root.querySelector('[data-field="' + fieldOf(path) + '"]');
  var input = box && box.querySelector('input:not([type=checkbox]):not([type=radio]), select, textarea, button');
  if (input) { input.focus(); box.scrollIntoView({ block: 'nearest' }); }
}
