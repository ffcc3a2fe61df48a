/*
 * Switchboard console — the pieces the staff section builds its list and forms from: role
 * badges, language tags, capacity figures, a person's cell, and the editors of a routing
 * profile (skills with a level stepper, languages, capacity per media), plus the box that
 * lists a 422's problems and the errors shown beside the fields.
 */
import { t } from '../../common/i18n.js';
import { el } from '../../common/util.js';
import { arr, avatarNode, clear, isNum, obj } from '../ui.js';
import { CAP_MAX, LANGS, tx } from './store.js';

/* --------------------------------------------------------------- display */
export function roleBadge(role) {
  return el('span', { class: 'role-badge role-' + String(role || ''), 'data-testid': 'staff-role', 'data-role': role || '', 'data-i18n': 'staff.role.' + role, text: t('staff.role.' + role) });
}
export function langTags(langs) {
  var list = arr(langs);
  if (!list.length) return el('span', { class: 'dash', text: '—' });
  return el('span', { class: 'lang-tags', 'data-testid': 'staff-languages', 'data-languages': list.join(',') }, list.map(function (l) {
    if (LANGS.indexOf(l) === -1) return el('span', { class: 'kb-lang kb-lang-bad', text: String(l) });
    return el('span', { class: 'kb-lang kb-lang-' + l, title: t('language.' + l), text: l === 'zh' ? '中' : 'EN' });
  }));
}
var CAP_ICONS = {
  chat: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/></svg>',
  voice: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1.9.4 1.8.7 2.7a2 2 0 0 1-.5 2.1L8 9.8a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.7.7a2 2 0 0 1 1.7 2z"/></svg>',
  ticket: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M3 9a3 3 0 0 0 0 6v4h18v-4a3 3 0 0 1 0-6V5H3z"/><path d="M13 5v2M13 11v2M13 17v2"/></svg>'
};
function capIcon(media) { var s = el('span', { class: 'cap-ico', 'aria-hidden': 'true' }); s.innerHTML = CAP_ICONS[media]; return s; }
export function capacityCell(capacity) {
  var c = obj(capacity);
  return el('span', { class: 'cap', 'data-testid': 'staff-capacity', 'data-chat': String(c.chat), 'data-voice': String(c.voice), 'data-ticket': String(c.ticket) },
    ['chat', 'voice', 'ticket'].map(function (m) {
      var n = isNum(c[m]) ? c[m] : '—';
      return el('span', { class: 'cap-item' + (c[m] === 0 ? ' is-zero' : ''), title: t('staff.cap.' + m) + ': ' + n }, [capIcon(m), el('span', { class: 'cap-n', text: String(n) })]);
    }));
}
export function personCell(a, extra) {
  return el('div', { class: 'person-cell' }, [
    avatarNode(a.display_name || a.username, 'avatar-md' + (a.active === false ? ' is-off' : '')),
    el('div', { class: 'person-text' }, [
      el('span', { class: 'person-name', 'data-testid': 'staff-name', text: a.display_name || a.username }),
      el('span', { class: 'person-sub' }, [
        el('span', { class: 'mono', 'data-testid': 'staff-username', text: '@' + a.username }),
        a.extension ? el('span', { class: 'person-ext', title: t('staff.f.extension'), text: '☎ ' + a.extension }) : null
      ])
    ]),
    extra || null
  ]);
}

/* --------------------------------------------------------------- editors */
var SKILL_NAME = /^[a-z0-9_-]{1,64}$/;

/**
 * Skills with levels 1–5: a chip per skill with − / five dots / + and ×, and a row that adds
 * one (the names some account has are offered). `onChange` runs after every edit.
 * Returns { node, get(), set(skills), mark(index, on) }.
 */
export function skillsEditor(initial, onChange, listId) {
  var skills = arr(initial).map(function (s) { return { name: s.name, level: s.level }; });
  var list = el('ul', { class: 'skills-ed-list', 'data-testid': 'skills-list' });
  var name = el('input', { class: 'input input-sm skills-ed-name', list: listId || null, 'data-testid': 'skill-add-name', autocomplete: 'off', spellcheck: 'false', maxlength: '64',
    'data-i18n-placeholder': 'staff.skill.addPh', placeholder: t('staff.skill.addPh'), 'aria-label': t('staff.skill.addPh') });
  var level = el('select', { class: 'select select-sm skills-ed-level', 'data-testid': 'skill-add-level', 'aria-label': t('staff.skill.level') },
    [1, 2, 3, 4, 5].map(function (n) { return el('option', { value: String(n), text: t('staff.skill.levelN', { n: n }) }); }));
  level.value = '3';
  var hint = el('p', { class: 'field-error skills-ed-hint', hidden: true });
  var node = el('div', { class: 'skills-ed', 'data-testid': 'skills-editor' }, [list, el('div', { class: 'skills-ed-add' }, [
    name, level,
    el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'skill-add', onclick: add }, [tx('span', 'staff.skill.add')])
  ]), hint]);
  name.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { ev.preventDefault(); add(); } });
  name.addEventListener('input', function () { hint.hidden = true; });

  function add() {
    var n = name.value.trim().toLowerCase();
    if (!n) { name.focus(); return; }
    if (!SKILL_NAME.test(n)) { hint.textContent = t('staff.skill.badName'); hint.hidden = false; name.focus(); return; }
    var existing = skills.find(function (s) { return s.name === n; });
    if (existing) existing.level = Number(level.value);
    else skills.push({ name: n, level: Number(level.value) });
    name.value = '';
    draw();
    onChange && onChange();
    name.focus();
  }
  /** Sets a level and keeps the focus on the control used (`which`: its selector). */
  function setLevel(i, lv, which) {
    skills[i].level = Math.max(1, Math.min(5, lv));
    draw();
    onChange && onChange();
    var chip = list.children[i];
    var focus = chip && (chip.querySelector(which + ':not(:disabled)') || chip.querySelector('[aria-checked="true"]'));
    if (focus) focus.focus();
  }
  function draw() {
    clear(list);
    if (!skills.length) list.appendChild(el('li', { class: 'skills-ed-empty', 'data-i18n': 'staff.skill.none', text: t('staff.skill.none') }));
    skills.forEach(function (s, i) {
      var dots = el('span', { class: 'skill-ed-dots', role: 'radiogroup', 'aria-label': t('staff.skill.levelOf', { name: s.name }) });
      for (var lv = 1; lv <= 5; lv++) {
        (function (lv) {
          dots.appendChild(el('button', { type: 'button', class: 'skill-ed-dot' + (lv <= s.level ? ' on' : ''), role: 'radio', 'aria-checked': lv === s.level ? 'true' : 'false',
            'aria-label': t('staff.skill.levelN', { n: lv }), title: t('staff.skill.levelN', { n: lv }), 'data-testid': 'skill-dot', 'data-level': String(lv),
            onclick: function () { setLevel(i, lv, '[data-level="' + lv + '"]'); } }));
        })(lv);
      }
      list.appendChild(el('li', { class: 'skill-ed', 'data-testid': 'skill-edit', 'data-skill': s.name, 'data-level': String(s.level) }, [
        el('span', { class: 'skill-ed-name', text: s.name }),
        el('button', { type: 'button', class: 'skill-ed-step', 'data-testid': 'skill-down', 'aria-label': t('staff.skill.down', { name: s.name }), disabled: s.level <= 1,
          onclick: function () { setLevel(i, s.level - 1, '[data-testid=skill-down]'); } }, ['−']),
        dots,
        el('span', { class: 'skill-ed-n', 'data-testid': 'skill-level', text: String(s.level) }),
        el('button', { type: 'button', class: 'skill-ed-step', 'data-testid': 'skill-up', 'aria-label': t('staff.skill.up', { name: s.name }), disabled: s.level >= 5,
          onclick: function () { setLevel(i, s.level + 1, '[data-testid=skill-up]'); } }, ['+']),
        el('button', { type: 'button', class: 'skill-ed-remove', 'data-testid': 'skill-remove', 'aria-label': t('staff.skill.remove', { name: s.name }), title: t('staff.skill.remove', { name: s.name }),
          onclick: function () { skills.splice(i, 1); draw(); onChange && onChange(); name.focus(); } }, ['×'])
      ]));
    });
  }
  draw();
  return {
    node: node,
    get: function () { return skills.map(function (s) { return { name: s.name, level: s.level }; }); },
    set: function (v) { skills = arr(v).map(function (s) { return { name: s.name, level: s.level }; }); draw(); },
    mark: function (i) { var chip = list.children[i]; if (chip) chip.classList.add('is-bad'); },
    redraw: draw
  };
}

/** Languages as two toggles (zh, en), in the order chosen. Returns { node, get(), set() }. */
export function languagesEditor(initial, onChange) {
  var langs = arr(initial).slice();
  var node = el('div', { class: 'lang-toggles', role: 'group', 'data-testid': 'languages-editor' });
  function draw() {
    clear(node);
    LANGS.forEach(function (l) {
      var on = langs.indexOf(l) !== -1;
      node.appendChild(el('button', { type: 'button', class: 'chip-btn lang-toggle' + (on ? ' is-on' : ''), 'aria-pressed': on ? 'true' : 'false', 'data-testid': 'language-toggle', 'data-language': l,
        onclick: function () {
          if (on) langs = langs.filter(function (x) { return x !== l; }); else langs.push(l);
          draw(); onChange && onChange();
          node.querySelector('[data-language="' + l + '"]').focus();
        } }, [el('span', { class: 'kb-lang kb-lang-' + l, 'aria-hidden': 'true', text: l === 'zh' ? '中' : 'EN' }), tx('span', 'language.' + l)]));
    });
  }
  draw();
  return { node: node, get: function () { return langs.slice(); }, set: function (v) { langs = arr(v).slice(); draw(); } };
}

/**
 * Chats, calls and tickets at once: three number fields. `initial` {chat, voice, ticket}
 * (null: empty, the default of the role or deployment). Returns { node, get(), set(), field(m) }.
 */
export function capacityEditor(initial, onChange, idPrefix) {
  var inputs = {}, fields = {};
  var node = el('div', { class: 'cap-ed', 'data-testid': 'capacity-editor' });
  ['chat', 'voice', 'ticket'].forEach(function (m) {
    var id = (idPrefix || 'cap') + '-' + m;
    var input = el('input', { class: 'input input-sm', type: 'number', id: id, min: '0', max: String(CAP_MAX[m]), step: '1', inputmode: 'numeric', 'data-testid': 'capacity-' + m });
    input.addEventListener('input', function () { onChange && onChange(); });
    inputs[m] = input;
    fields[m] = el('div', { class: 'field cap-field', 'data-field': 'capacity.' + m }, [
      el('label', { for: id, class: 'cap-label' }, [capIcon(m), tx('span', 'staff.cap.' + m)]),
      input,
      el('span', { class: 'field-hint tabular', text: '0–' + CAP_MAX[m] }),
      el('p', { class: 'field-error', 'data-error-for': 'capacity.' + m, hidden: true })
    ]);
    node.appendChild(fields[m]);
  });
  function set(v) {
    var c = obj(v);
    ['chat', 'voice', 'ticket'].forEach(function (m) { inputs[m].value = isNum(c[m]) ? String(c[m]) : ''; });
  }
  set(initial);
  return {
    node: node,
    /** {media: number} of the fields filled in (an unreadable one as NaN, for the server to refuse). */
    get: function () {
      var out = {};
      ['chat', 'voice', 'ticket'].forEach(function (m) { var v = inputs[m].value.trim(); if (v !== '') out[m] = Number(v); });
      return out;
    },
    set: set,
    placeholders: function (p) { ['chat', 'voice', 'ticket'].forEach(function (m) { inputs[m].placeholder = isNum(obj(p)[m]) ? String(p[m]) : ''; }); }
  };
}

/* --------------------------------------------------------------- problems */
/** A problem's message in the UI language where the server's is a bare word ("required"). */
export function problemText(message) { return message === 'required' ? t('staff.err.required') : String(message || ''); }

/** The red box that lists every problem of a 422 (each a button that focuses its field). */
export function problemsBox(testid) {
  var title = el('strong', { 'data-testid': testid + '-title' });
  var list = el('ol', { class: 'problems-list', 'data-testid': testid + '-list' });
  var node = el('div', { class: 'problems', role: 'alert', 'data-testid': testid, hidden: true }, [
    el('div', { class: 'problems-head' }, [el('span', { class: 'problems-icon', 'aria-hidden': 'true', text: '!' }), title]), list]);
  return {
    node: node,
    show: function (heading, problems, label, focus) {
      title.textContent = heading;
      clear(list);
      problems.forEach(function (p) {
        list.appendChild(el('li', { class: 'problem', tabindex: '0', 'data-testid': 'problem', 'data-path': String(p.path || ''),
          onclick: function () { if (focus) focus(p.path); }, onkeydown: function (ev) { if (ev.key === 'Enter' && focus) focus(p.path); } }, [
          el('span', { class: 'problem-path', text: label ? label(p.path) : String(p.path || '') }),
          el('span', { class: 'problem-msg', text: problemText(p.message) })
        ]));
      });
      node.hidden = false;
    },
    message: function (heading) { title.textContent = heading; clear(list); node.hidden = false; },
    hide: function () { node.hidden = true; clear(list); }
  };
}

/** Shows `message` under the field `[data-field=key]` of `root` (or clears every error). */
export function fieldError(root, key, message) {
  var box = root.querySelector('[data-field="' + key + '"]');
  if (!box) return false;
  box.classList.add('has-error');
  var p = box.querySelector('[data-error-for="' + key + '"]') || box.querySelector('.field-error');
  if (p) {
    message = problemText(message);
    p.textContent = p.hidden || !p.textContent ? message : p.textContent + ' ' + message;
    p.hidden = false;
  }
  return true;
}
export function clearFieldErrors(root) {
  root.querySelectorAll('.has-error').forEach(function (n) { n.classList.remove('has-error'); });
  root.querySelectorAll('.field-error[data-error-for]').forEach(function (p) { p.hidden = true; p.textContent = ''; });
  root.querySelectorAll('.skill-ed.is-bad').forEach(function (n) { n.classList.remove('is-bad'); });
}
/** The field a problem's path belongs to: `skills[1].level` → skills, `capacity.chat` stays. */
export function fieldOf(path) {
  var p = String(path || '');
  if (/^capacity\./.test(p)) return p;
  return p.replace(/\[.*$/, '').replace(/\..*$/, '');
}
/** The index in `skills[2].name` (or null). */
export function indexOf(path) { var m = /\[(\d+)\]/.exec(String(path || '')); return m ? Number(m[1]) : null; }
