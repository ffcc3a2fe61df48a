/*
 * Switchboard — the "Transfer conversation" dialog shared by the agent desk and the supervisor
 * console: to a colleague (picked from the active agents with their live status and skills) or
 * to a skill (a skill and a minimum level), with an optional note for whoever takes it.
 *
 *   import { openTransfer, relabelTransfer, closeTransfer } from '../common/transfer.js';
 *   openTransfer({
 *     api: api,                  // the page's signed-in API client (util.apiClient)
 *     customerName: 'Li Wei',    // who is being transferred, for the lead text
 *     exclude: ['agt_…'],        // agents not to offer (the one who holds the conversation)
 *     skills: [{name, level}],   // skills to suggest besides the agents' (e.g. the desk's own)
 *     kicker: '…',               // optional: a line above the title (the console names the agent)
 *     onSubmit: function (to, note) { return true; }
 *       // `to` is {"agent_id"} or {"skills":[{"name","level"}]}, `note` a string or null;
 *       // return false to keep the dialog open (nothing was sent)
 *   });
 *
 * The roster is GET /v1/staff (active accounts of the agent role) with the live status and load
 * of GET /v1/queues. An agent may be refused /v1/staff (403): the live agents of GET /v1/queues
 * are listed then; with neither, only a skill can be chosen. The strings are the shared
 * `xfer.*` ones (./i18n/); the styles are in ./transfer.css. Everything shown is text.
 */
import { i18n, t } from './i18n.js';
import { el, avatarColor, initials } from './util.js';

var STATUS_ORDER = { available: 0, wrap_up: 1, away: 2, offline: 3 };
var NOTE_MAX = 500;

var dlg = null;          // the <dialog>, built once
var st = null;           // the open dialog's state

function newState(opts) {
  return {
    opts: opts, mode: 'agent', loading: true, agents: [], rosterFrom: null,
    agentId: null, filter: '', skill: '', level: 1, note: '', error: null, seq: 0
  };
}

/** Opens the dialog for one conversation (closing any other). */
export function openTransfer(opts) {
  build();
  st = newState(opts || {});
  render();
  if (typeof dlg.showModal === 'function') { if (!dlg.open) dlg.showModal(); } else dlg.setAttribute('open', '');
  load();
  setTimeout(function () { var f = dlg.querySelector('[data-testid=transfer-filter]'); if (f) f.focus(); }, 0);
}
/** Closes the dialog (signed out, the conversation left). */
export function closeTransfer() {
  if (!dlg || !st) return;
  st.seq++;
  st = null;
  if (dlg.open) { if (typeof dlg.close === 'function') dlg.close(); else dlg.removeAttribute('open'); }
}
/** True while the dialog is open for `conversationId` (or for anything, without it). */
export function transferOpenFor(conversationId) {
  return !!st && (!conversationId || st.opts.conversationId === conversationId);
}
/** The UI language changed. */
export function relabelTransfer() { if (st) render(); }

/* ------------------------------------------------------------- data */
function load() {
  var seq = ++st.seq, api = st.opts.api;
  var staff = api('GET', '/v1/staff').catch(function () { return null; });
  var live = api('GET', '/v1/queues').catch(function () { return null; });
  Promise.all([staff, live]).then(function (rs) {
    if (!st || st.seq !== seq) return;
    st.loading = false;
    var s = rs[0], q = rs[1];
    var liveById = {};
    var liveList = q && q.ok && q.data && Array.isArray(q.data.agents) ? q.data.agents.filter(Boolean) : [];
    liveList.forEach(function (a) { if (a.agent_id) liveById[a.agent_id] = a; });
    var list = [];
    if (s && s.ok && s.data && Array.isArray(s.data.staff)) {
      st.rosterFrom = 'staff';
      s.data.staff.forEach(function (p) {
        if (!p || p.active === false || (p.role && p.role !== 'agent')) return;
        var l = liveById[p.id] || {};
        list.push({
          id: p.id, name: p.display_name || l.name || p.username || p.id, skills: normSkills(p.skills || l.skills),
          status: l.status || 'offline', load: num(l.load), capacity: num(l.capacity != null ? l.capacity : p.capacity && p.capacity.chat)
        });
      });
    } else if (liveList.length) {
      st.rosterFrom = 'live';
      liveList.forEach(function (a) {
        list.push({ id: a.agent_id, name: a.name || a.agent_id, skills: normSkills(a.skills), status: a.status || 'offline', load: num(a.load), capacity: num(a.capacity) });
      });
    }
    var exclude = st.opts.exclude || [];
    st.agents = list.filter(function (a) { return a.id && exclude.indexOf(a.id) === -1; }).sort(function (a, b) {
      return rank(a.status) - rank(b.status) || String(a.name).localeCompare(String(b.name));
    });
    if (!st.agents.length) st.mode = st.mode === 'agent' && !st.rosterFrom ? 'skill' : st.mode;
    if (!st.skill) { var names = skillNames(); st.skill = names[0] || ''; }
    render();
  });
}
function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }
function rank(s) { return Object.prototype.hasOwnProperty.call(STATUS_ORDER, s) ? STATUS_ORDER[s] : 4; }
function normSkills(s) {
  if (Array.isArray(s)) return s.map(function (x) { return typeof x === 'string' ? { name: x, level: null } : { name: x && x.name, level: num(x && x.level) }; }).filter(function (x) { return x.name; });
  if (s && typeof s === 'object') return Object.keys(s).sort().map(function (k) { return { name: k, level: num(s[k]) }; });
  return [];
}
/** Every skill name known: the agents', then the page's own. */
function skillNames() {
  var seen = {}, out = [];
  var add = function (n) { if (n && !seen[n]) { seen[n] = true; out.push(n); } };
  st.agents.forEach(function (a) { a.skills.forEach(function (s) { add(s.name); }); });
  normSkills(st.opts.skills || []).forEach(function (s) { add(s.name); });
  return out.sort();
}
function statusLabel(s) { var k = 'xfer.status.' + s, v = t(k); return v === k ? String(s) : v; }

/* ------------------------------------------------------------- build */
var ICON = '<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M4 8h13l-4-4M20 16H7l4 4"/></svg>';
var X_ICON = '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6 6 18"/></svg>';

function build() {
  if (dlg) return;
  dlg = el('dialog', { class: 'xfer', id: 'transfer-dialog', 'data-testid': 'transfer-dialog', 'aria-labelledby': 'xfer-title' });
  dlg.addEventListener('cancel', function (ev) { ev.preventDefault(); closeTransfer(); });
  dlg.addEventListener('click', function (ev) { if (ev.target === dlg) closeTransfer(); });
  document.body.appendChild(dlg);
}

function render() {
  if (!st) return;
  var active = document.activeElement && dlg.contains(document.activeElement) ? document.activeElement : null;
  var keepFocus = active ? (active.getAttribute('data-agent-id') ? '[data-agent-id="' + cssq(active.getAttribute('data-agent-id')) + '"]' : active.getAttribute('data-testid') ? '[data-testid="' + active.getAttribute('data-testid') + '"]' : null) : null;
  var listScroll = dlg.querySelector('.xfer-list') ? dlg.querySelector('.xfer-list').scrollTop : 0;
  dlg.textContent = '';
  var icon = el('span', { class: 'xfer-icon', 'aria-hidden': 'true' });
  icon.innerHTML = ICON;
  var x = el('button', { type: 'button', class: 'icon-btn xfer-x', 'aria-label': t('common.close'), title: t('common.close'), onclick: closeTransfer });
  x.innerHTML = X_ICON;
  var head = el('header', { class: 'xfer-head' }, [
    icon,
    el('div', { class: 'xfer-titles' }, [
      st.opts.kicker ? el('p', { class: 'xfer-kicker', text: st.opts.kicker }) : null,
      el('h2', { id: 'xfer-title', text: t('xfer.title') }),
      el('p', { class: 'xfer-lead', text: t(st.opts.lead || 'xfer.lead', { name: st.opts.customerName || t('xfer.theCustomer') }) })
    ]),
    x
  ]);

  var tabs = el('div', { class: 'xfer-tabs', role: 'tablist', 'aria-label': t('xfer.to') }, [
    tab('agent', t('xfer.toAgent'), 'transfer-mode-agent'),
    tab('skill', t('xfer.toSkill'), 'transfer-mode-skill')
  ]);

  var body = el('div', { class: 'xfer-body' }, [tabs, st.mode === 'agent' ? agentPane() : skillPane(), notePane()]);
  if (st.error) body.appendChild(el('p', { class: 'xfer-error', role: 'alert', 'data-testid': 'transfer-error', text: st.error }));

  var ready = st.mode === 'agent' ? !!st.agentId : !!st.skill.trim();
  var submit = el('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'transfer-submit', disabled: ready ? null : true }, [
    el('span', { text: t('xfer.submit') })
  ]);
  var foot = el('footer', { class: 'xfer-foot' }, [
    el('span', { class: 'xfer-foot-hint', text: t('xfer.keepHint') }),
    el('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'transfer-cancel', text: t('xfer.cancel'), onclick: closeTransfer }),
    submit
  ]);
  var form = el('form', { class: 'xfer-card', novalidate: true }, [head, body, foot]);
  form.addEventListener('submit', function (ev) { ev.preventDefault(); submitTransfer(); });
  dlg.appendChild(form);
  var list = dlg.querySelector('.xfer-list');
  if (list) list.scrollTop = listScroll;
  if (keepFocus) { var f = dlg.querySelector(keepFocus); if (f) { f.focus(); if (f.setSelectionRange && typeof f.value === 'string') { try { f.setSelectionRange(f.value.length, f.value.length); } catch (e) { /* not a text field */ } } } }
}

function tab(mode, label, testid) {
  return el('button', {
    type: 'button', role: 'tab', class: 'xfer-tab', 'data-testid': testid, 'aria-selected': String(st.mode === mode),
    onclick: function () { if (st.mode !== mode) { st.mode = mode; st.error = null; render(); } }
  }, [label]);
}

function agentPane() {
  var pane = el('div', { class: 'xfer-pane', role: 'tabpanel' });
  if (st.loading) { pane.appendChild(el('div', { class: 'xfer-empty' }, [el('span', { class: 'xfer-spin', 'aria-hidden': 'true' }), t('xfer.loading')])); return pane; }
  if (!st.rosterFrom) {
    pane.appendChild(el('div', { class: 'xfer-empty', 'data-testid': 'transfer-no-roster' }, [t('xfer.noRoster')]));
    return pane;
  }
  var filter = el('input', {
    class: 'input xfer-filter', type: 'search', 'data-testid': 'transfer-filter', placeholder: t('xfer.filter'), 'aria-label': t('xfer.filter'),
    value: st.filter, autocomplete: 'off', spellcheck: 'false'
  });
  filter.addEventListener('input', function () { st.filter = filter.value; renderList(); });
  pane.appendChild(filter);
  var list = el('ul', { class: 'xfer-list', role: 'listbox', 'aria-label': t('xfer.agents'), 'data-testid': 'transfer-agents' });
  pane.appendChild(list);
  fillList(list);
  return pane;
}
function renderList() { var list = dlg.querySelector('.xfer-list'); if (list) { fillList(list); } }
function fillList(list) {
  list.textContent = '';
  var q = st.filter.trim().toLowerCase();
  var shown = st.agents.filter(function (a) {
    if (!q) return true;
    return String(a.name).toLowerCase().indexOf(q) !== -1 || a.skills.some(function (s) { return String(s.name).toLowerCase().indexOf(q) !== -1; });
  });
  if (!shown.length) { list.appendChild(el('li', { class: 'xfer-empty', text: st.agents.length ? t('xfer.noMatch') : t('xfer.noAgents') })); return; }
  shown.forEach(function (a) {
    var off = a.status === 'offline';
    var chosen = st.agentId === a.id;
    var full = a.capacity != null && a.load != null && a.load >= a.capacity;
    var av = el('span', { class: 'avatar xfer-avatar', 'aria-hidden': 'true', style: { background: avatarColor(a.name) }, text: initials(a.name) });
    var skills = el('span', { class: 'xfer-skills' }, a.skills.length ? a.skills.map(function (s) {
      return el('span', { class: 'xfer-skill' }, [String(s.name), s.level != null ? el('b', { text: String(s.level) }) : null]);
    }) : [el('span', { class: 'xfer-none', text: t('xfer.noSkills') })]);
    var loadText = a.load != null && a.capacity != null ? t('xfer.load', { load: a.load, cap: a.capacity }) : '';
    var item = el('li', {
      class: 'xfer-agent is-' + String(a.status).replace(/[^a-z_]/g, '') + (chosen ? ' is-chosen' : ''), role: 'option',
      'aria-selected': String(chosen), 'aria-disabled': off ? 'true' : null, tabindex: off ? null : '0',
      'data-testid': 'transfer-agent', 'data-agent-id': a.id, 'data-status': a.status,
      title: off ? t('xfer.offlineHint') : null
    }, [
      av,
      el('span', { class: 'xfer-agent-main' }, [
        el('span', { class: 'xfer-agent-top' }, [
          el('span', { class: 'xfer-agent-name', text: a.name }),
          el('span', { class: 'xfer-status' }, [statusLabel(a.status)]),
          loadText ? el('span', { class: 'xfer-load' + (full ? ' is-full' : ''), text: loadText }) : null
        ]),
        skills
      ]),
      el('span', { class: 'xfer-check', 'aria-hidden': 'true' })
    ]);
    var pick = function () { if (off) return; st.agentId = a.id; st.error = null; render(); };
    item.addEventListener('click', pick);
    item.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
    list.appendChild(item);
  });
}

function skillPane() {
  var names = skillNames();
  var pane = el('div', { class: 'xfer-pane xfer-skill-pane', role: 'tabpanel' });
  var input = el('input', {
    class: 'input', id: 'xfer-skill', 'data-testid': 'transfer-skill', list: 'xfer-skill-names', value: st.skill,
    autocomplete: 'off', spellcheck: 'false', maxlength: '64', placeholder: t('xfer.skillPlaceholder')
  });
  input.addEventListener('input', function () { st.skill = input.value; st.error = null; renderSkillHint(); syncSubmit(); markChips(); });
  var dl = el('datalist', { id: 'xfer-skill-names' }, names.map(function (n) { return el('option', { value: n }); }));
  var level = el('select', { class: 'select', id: 'xfer-level', 'data-testid': 'transfer-level' });
  for (var i = 1; i <= 5; i++) level.appendChild(el('option', { value: String(i), selected: st.level === i ? true : null, text: t('xfer.levelN', { n: i }) }));
  level.addEventListener('change', function () { st.level = Number(level.value) || 1; renderSkillHint(); });
  pane.appendChild(el('div', { class: 'xfer-skill-row' }, [
    el('div', { class: 'field' }, [el('label', { for: 'xfer-skill', text: t('xfer.skill') }), input, dl]),
    el('div', { class: 'field' }, [el('label', { for: 'xfer-level', text: t('xfer.level') }), level])
  ]));
  if (names.length) {
    pane.appendChild(el('div', { class: 'xfer-chips' }, names.map(function (n) {
      return el('button', { type: 'button', class: 'xfer-chip' + (n === st.skill ? ' is-on' : ''), 'data-testid': 'transfer-skill-chip', text: n, onclick: function () { st.skill = n; st.error = null; render(); } });
    })));
  }
  pane.appendChild(el('p', { class: 'xfer-hint', id: 'xfer-skill-hint', 'data-testid': 'transfer-skill-hint', 'aria-live': 'polite' }));
  setTimeout(renderSkillHint, 0);
  return pane;
}
/** "2 agents have billing at level 3 or more · 1 available". */
function renderSkillHint() {
  var hint = dlg && dlg.querySelector('#xfer-skill-hint');
  if (!hint || !st) return;
  var name = st.skill.trim();
  if (!name) { hint.textContent = t('xfer.skillEmpty'); return; }
  if (!st.rosterFrom) { hint.textContent = t('xfer.skillQueued'); return; }
  var has = st.agents.filter(function (a) { return a.skills.some(function (s) { return s.name === name && (s.level == null || s.level >= st.level); }); });
  var avail = has.filter(function (a) { return a.status === 'available'; }).length;
  hint.textContent = has.length ? t('xfer.skillCount', { n: has.length, available: avail }) : t('xfer.skillNobody');
  hint.classList.toggle('is-warn', !avail);
}
function cssq(s) { return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, '\\$&'); }
function markChips() {
  dlg.querySelectorAll('.xfer-chip').forEach(function (b) { b.classList.toggle('is-on', b.textContent === st.skill.trim()); });
}
function syncSubmit() {
  var b = dlg.querySelector('[data-testid=transfer-submit]');
  if (b) b.disabled = st.mode === 'agent' ? !st.agentId : !st.skill.trim();
}

function notePane() {
  var ta = el('textarea', {
    class: 'textarea xfer-note', id: 'xfer-note', 'data-testid': 'transfer-note', rows: '2', maxlength: String(NOTE_MAX),
    placeholder: t('xfer.notePlaceholder')
  });
  ta.value = st.note;
  var count = el('span', { class: 'xfer-count', text: st.note.length ? st.note.length + '/' + NOTE_MAX : '' });
  ta.addEventListener('input', function () { st.note = ta.value; count.textContent = ta.value.length ? ta.value.length + '/' + NOTE_MAX : ''; });
  ta.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submitTransfer(); } });
  return el('div', { class: 'field xfer-note-field' }, [
    el('label', { for: 'xfer-note' }, [t('xfer.note'), el('span', { class: 'xfer-optional', text: t('xfer.optional') }), count]),
    ta,
    el('p', { class: 'xfer-hint', text: t('xfer.noteHint') })
  ]);
}

function submitTransfer() {
  if (!st) return;
  var to;
  if (st.mode === 'agent') {
    if (!st.agentId) { st.error = t('xfer.pickAgent'); render(); return; }
    to = { agent_id: st.agentId };
  } else {
    var name = st.skill.trim().toLowerCase();
    if (!name) { st.error = t('xfer.pickSkill'); render(); return; }
    to = { skills: [{ name: name, level: st.level }] };
  }
  var note = st.note.trim() || null;
  var sent = st.opts.onSubmit ? st.opts.onSubmit(to, note, agentOf(st.agentId)) : true;
  if (sent !== false) closeTransfer();
}
/** {id, name} of an agent listed in the dialog. */
function agentOf(id) {
  var a = st && st.agents.find(function (x) { return x.id === id; });
  return a ? { id: a.id, name: a.name } : null;
}

// The dialog is rebuilt in the new language when it changes.
i18n.onChange(function () { relabelTransfer(); });
