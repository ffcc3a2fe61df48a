/*
 * Switchboard console — #staff/new, a new account (admins): sign-in (username, password, name),
 * role and teams, routing profile (skills with levels, languages, capacity, extension).
 * POST /v1/staff; the server checks everything and a 422 lists every problem, each shown
 * beside its field too; a taken username (409) is shown at the username.
 */
import { t } from '../../common/i18n.js';
import { el, toast } from '../../common/util.js';
import { $, api, errMsg } from '../shared.js';
import { clear, setBusy } from '../ui.js';
import { ROLES, ST, problemsOf, staffLoad, tx } from './store.js';
import { capacityEditor, clearFieldErrors, fieldError, fieldOf, indexOf, languagesEditor, problemsBox, skillsEditor } from './widgets.js';
import { focusField, label } from './editor.js';
import { showAccount } from './people.js';

var form = $('staff-create');
/** The parts of the form once built; busy while it is sent. */
var parts = null;
var busy = false;

function field(key, labelKey, input, hintKey) {
  return el('div', { class: 'field', 'data-field': key }, [
    el('label', { for: input.id }, [tx('span', labelKey)]), input,
    hintKey ? tx('p', hintKey, { class: 'field-hint' }) : null,
    el('p', { class: 'field-error', 'data-error-for': key, hidden: true })
  ]);
}

/** A passphrase of four words and two digits, from the browser's random source. */
function passphrase() {
  var words = ['amber', 'brisk', 'cedar', 'delta', 'ember', 'fable', 'grove', 'harbor', 'ivory', 'jolly', 'kite', 'lumen', 'maple', 'noble', 'orbit',
    'pearl', 'quill', 'river', 'sable', 'tulip', 'umber', 'velvet', 'willow', 'xenon', 'yonder', 'zephyr', 'lotus', 'comet', 'tide', 'falcon', 'meadow', 'copper'];
  var r = new Uint32Array(5);
  window.crypto.getRandomValues(r);
  var out = [];
  for (var i = 0; i < 4; i++) out.push(words[r[i] % words.length]);
  return out.join('-') + '-' + String(10 + (r[4] % 90));
}

function build() {
  clear(form);
  busy = false;
  var username = el('input', { class: 'input mono', id: 'staff-new-username', 'data-testid': 'staff-new-username', autocomplete: 'off', spellcheck: 'false', maxlength: '64' });
  var name = el('input', { class: 'input', id: 'staff-new-name', 'data-testid': 'staff-new-name', autocomplete: 'off', maxlength: '100' });
  var password = el('input', { class: 'input mono', id: 'staff-new-password', 'data-testid': 'staff-new-password', type: 'password', autocomplete: 'new-password', spellcheck: 'false' });
  var reveal = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'staff-new-reveal', 'aria-pressed': 'false' }, [tx('span', 'staff.show')]);
  reveal.addEventListener('click', function () {
    var shown = password.type === 'text';
    password.type = shown ? 'password' : 'text';
    reveal.setAttribute('aria-pressed', shown ? 'false' : 'true');
    var span = reveal.querySelector('span'); span.setAttribute('data-i18n', shown ? 'staff.show' : 'staff.hide'); span.textContent = t(shown ? 'staff.show' : 'staff.hide');
  });
  var generate = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'staff-new-generate' }, [tx('span', 'staff.generate')]);
  generate.addEventListener('click', function () {
    password.value = passphrase();
    if (password.type !== 'text') reveal.click();
    password.focus();
  });
  var roleBox = el('div', { class: 'role-seg', role: 'radiogroup', 'data-testid': 'staff-new-role' });
  ROLES.forEach(function (r) {
    var input = el('input', { type: 'radio', name: 'staff-new-role', value: r, checked: r === 'agent', 'data-testid': 'staff-new-role-' + r });
    input.addEventListener('change', roleChanged);
    roleBox.appendChild(el('label', { class: 'role-opt role-' + r }, [input, el('span', {}, [tx('strong', 'staff.role.' + r), tx('small', 'staff.roleHint.' + r)])]));
  });
  var teams = el('div', { class: 'team-checks', 'data-testid': 'staff-new-teams' });
  ST.teams.forEach(function (x) { teams.appendChild(el('label', { class: 'team-check' }, [el('input', { type: 'checkbox', value: x.id }), el('span', { text: x.name })])); });
  if (!ST.teams.length) teams.appendChild(tx('span', 'staff.noTeamsYet', { class: 'muted' }));
  var ext = el('input', { class: 'input mono', id: 'staff-new-extension', 'data-testid': 'staff-new-extension', maxlength: '16', inputmode: 'numeric', autocomplete: 'off' });
  var skills = skillsEditor([], null, 'staff-skill-names');
  var langs = languagesEditor(['zh']);
  var cap = capacityEditor({}, null, 'staff-new-cap');
  var problems = problemsBox('staff-new-problems');
  var submit = el('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'staff-new-submit' }, [tx('span', 'staff.create')]);

  form.appendChild(el('div', { class: 'card-head staff-form-head' }, [
    el('div', {}, [tx('h2', 'staff.newTitle', { id: 'staff-create-title' }), tx('p', 'staff.newSub', { class: 'card-hint' })]),
    el('a', { class: 'btn btn-ghost btn-sm', href: '#staff', 'data-testid': 'staff-new-back' }, [tx('span', 'staff.backToList')])
  ]));
  form.appendChild(problems.node);
  form.appendChild(el('div', { class: 'staff-form-grid' }, [
    el('section', { class: 'staff-form-sec' }, [
      tx('h3', 'staff.sec.signIn'),
      el('div', { class: 'field-row' }, [field('username', 'staff.f.username', username, 'staff.f.usernameHint'), field('display_name', 'staff.f.displayName', name)]),
      el('div', { class: 'field', 'data-field': 'password' }, [
        el('label', { for: 'staff-new-password' }, [tx('span', 'staff.f.password')]),
        el('div', { class: 'pw-row' }, [password, reveal, generate]),
        tx('p', 'staff.f.passwordHint', { class: 'field-hint' }),
        el('p', { class: 'field-error', 'data-error-for': 'password', hidden: true })
      ]),
      el('div', { class: 'field', 'data-field': 'role' }, [tx('span', 'staff.f.role', { class: 'field-label' }), roleBox, el('p', { class: 'field-error', 'data-error-for': 'role', hidden: true })]),
      el('div', { class: 'field', 'data-field': 'teams' }, [tx('span', 'staff.f.teams', { class: 'field-label' }), teams, tx('p', 'staff.f.teamsHint', { class: 'field-hint' }),
        el('p', { class: 'field-error', 'data-error-for': 'teams', hidden: true })])
    ]),
    el('section', { class: 'staff-form-sec' }, [
      tx('h3', 'staff.sec.routing'),
      el('div', { class: 'field', 'data-field': 'skills' }, [tx('span', 'staff.f.skills', { class: 'field-label' }), tx('p', 'staff.f.skillsHint', { class: 'field-hint' }), skills.node,
        el('p', { class: 'field-error', 'data-error-for': 'skills', hidden: true })]),
      el('div', { class: 'field', 'data-field': 'languages' }, [tx('span', 'staff.f.languages', { class: 'field-label' }), langs.node, el('p', { class: 'field-error', 'data-error-for': 'languages', hidden: true })]),
      el('div', { class: 'field' }, [tx('span', 'staff.f.capacity', { class: 'field-label' }), cap.node, tx('p', 'staff.f.capacityHint', { class: 'field-hint' })]),
      field('extension', 'staff.f.extension', ext, 'staff.f.extensionHint')
    ])
  ]));
  form.appendChild(el('div', { class: 'staff-form-foot' }, [el('a', { class: 'btn btn-ghost', href: '#staff' }, [tx('span', 'common.cancel')]), submit]));
  parts = { username: username, name: name, password: password, teams: teams, ext: ext, skills: skills, langs: langs, cap: cap, problems: problems, submit: submit };
  roleChanged();
}
function clearOne(ev) {
  var f = ev.target.closest('.field.has-error');
  if (!f) return;
  f.classList.remove('has-error');
  f.querySelectorAll('.field-error[data-error-for]').forEach(function (p) { p.hidden = true; p.textContent = ''; });
}
/** The capacity shown when left empty: 3 chats for an agent, none for the other roles. */
function roleChanged() {
  if (!parts) return;
  var r = role();
  parts.cap.placeholders({ chat: r === 'agent' ? 3 : 0 });
}
function role() { var c = form.querySelector('input[name=staff-new-role]:checked'); return c ? c.value : ''; }

/** Shows the form, empty (built the first time, or again after an account was created). */
export function openCreate() {
  if (!parts || parts.done) build();
  setTimeout(function () { if (parts) parts.username.focus(); }, 0);
}
export function resetCreate() { parts = null; busy = false; clear(form); }
/** The teams changed (loaded, one created): the checkboxes follow, keeping what is ticked. */
export function renderCreateTeams() {
  if (!parts) return;
  var ticked = Array.prototype.map.call(parts.teams.querySelectorAll('input:checked'), function (i) { return i.value; });
  clear(parts.teams);
  ST.teams.forEach(function (x) { parts.teams.appendChild(el('label', { class: 'team-check' }, [el('input', { type: 'checkbox', value: x.id, checked: ticked.indexOf(x.id) !== -1 }), el('span', { text: x.name })])); });
  if (!ST.teams.length) parts.teams.appendChild(tx('span', 'staff.noTeamsYet', { class: 'muted' }));
}

form.addEventListener('input', clearOne);
form.addEventListener('submit', function (ev) {
  ev.preventDefault();
  if (busy || !parts) return;
  var p = parts;
  var body = {};
  var username = p.username.value.trim(), name = p.name.value;
  if (username) body.username = username;
  if (name.trim()) body.display_name = name;
  if (p.password.value) body.password = p.password.value;
  if (role()) body.role = role();
  var skills = p.skills.get(); if (skills.length) body.skills = skills;
  var langs = p.langs.get(); if (langs.length) body.languages = langs;
  var cap = p.cap.get(); if (Object.keys(cap).length) body.capacity = cap;
  var teams = Array.prototype.map.call(p.teams.querySelectorAll('input:checked'), function (i) { return i.value; }); if (teams.length) body.teams = teams;
  var ext = p.ext.value.trim(); if (ext) body.extension = ext;
  p.problems.hide(); clearFieldErrors(form);
  busy = true;
  setBusy(p.submit, 'staff.creating');
  api('POST', '/v1/staff', body).then(function (r) {
    if (parts !== p) return;
    if (r.status === 201) {
      p.done = true;
      toast(t('staff.created', { name: (name.trim() || username), username: username }));
      showAccount(username);
      staffLoad();
      location.hash = '#staff';
      return;
    }
    var list = problemsOf(r);
    if (r.status === 422 && list.length) {
      p.problems.show(list.length === 1 ? t('staff.problems1') : t('staff.problems', { n: list.length }), list, label, function (path) { focusField(form, path); });
      list.forEach(function (x) {
        var f = fieldOf(x.path);
        if (f === 'skills' && indexOf(x.path) != null) p.skills.mark(indexOf(x.path));
        fieldError(form, f, x.message);
      });
      p.problems.node.scrollIntoView({ block: 'nearest' });
    } else if (r.status === 409) {
      var taken = [{ path: 'username', message: t('staff.usernameTaken') }];
      p.problems.show(t('staff.problems1'), taken, label, function (path) { focusField(form, path); });
      fieldError(form, 'username', t('staff.usernameTaken'));
    } else {
      p.problems.message(t('staff.createFailed', { msg: errMsg(r) }));
    }
  }).catch(function () { p.problems.message(t('staff.createFailed', { msg: t('common.network') })); })
    .then(function () { busy = false; setBusy(p.submit, null); });
});
