/*
 * Switchboard console — #rules: the rule set in force (GET /v1/routing/rules) and the JSON
 * editor beside its preview cards. Validate (POST …/validate), save as a new version
 * (POST /v1/routing/rules), dry-run a saved version and activate it; problems are shown in
 * place: in a list, on the cards and in the gutter. Malformed JSON is reported locally.
 */
import { t } from '../common/i18n.js';
import { el, toast } from '../common/util.js';
import { $, app, api, errMsg } from './shared.js';
import { arr, clear, emptyState, has, isNum, lbl, obj, setBusy } from './ui.js';
import { lineCol, locate, pathOffset } from './rules-json.js';
import { problemRow, queueCard, ruleCard } from './rules-cards.js';
import { go, renderActiveInfo, setNavCount } from './frame.js';
import { activateVersion, activeVersion, loadVersions, noteSaved, noteVersion, versionNumbers, versionsState } from './versions.js';
import { auditState, loadAudit } from './history.js';
import { goDryRun } from './dryrun.js';
import { renderOverrideForm } from './overrides.js';

/* The cheat sheet's words and the template a new rule set starts from. */
var ATTRIBUTES = ['channel', 'intent', 'language', 'tier', 'tags', 'wait_secs', 'hour', 'weekday', 'queue'];
var STRATEGIES = ['least_occupied', 'longest_idle', 'best_skill'];
var FALLBACKS = ['callback', 'ticket', 'bot_message'];
var TEMPLATE = {
  rules: [
    { name: 'vip', when: "tier == 'vip' || 'vip' in tags", queue: 'vip', skills: [{ name: 'vip', min_level: 1 }], priority: 100 },
    { name: 'billing', when: "intent == 'billing'", queue: 'billing', skills: [{ name: 'billing', min_level: 4 }],
      aging_per_minute: 2, strategy: 'best_skill',
      overflow: [{ after_secs: 30, skills: [{ name: 'billing', min_level: 2 }] }, { after_secs: 300, queue: 'general', skills: [] }] },
    { name: 'everyone', when: 'true', queue: 'general' }
  ],
  queues: {
    billing: { max_wait_secs: 600, fallback: 'callback', hours: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '18:00' }], utc_offset_minutes: 480 }
  }
};

/** The rule set in force (GET /v1/routing/rules) and how loading it went (idle | loading | ok | error). */
var ruleSet = { data: null, state: 'idle', error: null };
export function activeRuleSet() { return ruleSet.data; }
export function activeRulesState() { return ruleSet.state; }

/** The editor: what it was filled from, the problems the server found and where they point. */
var E = {
  base: null,            // {kind: active|version|template|builtin|saved, version}
  savedText: '',
  problems: [],          // [{path, message}]
  problemsKind: null,    // validate | save
  problemsText: null,    // editor text the problems belong to
  jsonError: null,       // {line, col, msg, pos} of malformed JSON
  doc: null,             // the parsed document
  paths: null,           // where each path of the document starts (rules-json.js)
  focusLine: 0,          // the line flashed in the gutter
  busy: null             // validate | save | activate
};
/** For window.SwitchboardConsole: the problems shown and the JSON error. */
export function editorState() { return { problems: E.problems.slice(), jsonError: E.jsonError }; }

/** Signed out: the rule set and the editor's base are forgotten. */
export function resetRules() {
  ruleSet.data = null; ruleSet.state = 'idle';
  E.base = null; E.problems = []; E.jsonError = null;
}

var editor = $('rules-json'), gutter = $('gutter');
var previewTimer = null;

/** Keys in a reading order (known ones first, the rest after), null values dropped. */
function ordered(o, order) {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
  var out = {};
  order.concat(Object.keys(o).sort()).forEach(function (k) {
    if (has(o, k) && !has(out, k) && o[k] !== null) out[k] = o[k];
  });
  return out;
}
var RULE_KEYS = ['name', 'when', 'queue', 'skills', 'priority', 'aging_per_minute', 'strategy', 'sticky_secs', 'overflow'];
var QUEUE_KEYS = ['hours', 'utc_offset_minutes', 'holidays', 'max_wait_secs', 'fallback'];
function orderSkills(list) { return Array.isArray(list) ? list.map(function (x) { return ordered(x, ['name', 'min_level']); }) : list; }
function docFromRuleSet(rs) {
  var doc = { rules: arr(rs && rs.rules).map(function (r) {
    r = ordered(r, RULE_KEYS);
    if (!r || typeof r !== 'object') return r;
    if (has(r, 'skills')) r.skills = orderSkills(r.skills);
    if (Array.isArray(r.overflow)) r.overflow = r.overflow.map(function (o) {
      o = ordered(o, ['after_secs', 'queue', 'skills']);
      if (o && has(o, 'skills')) o.skills = orderSkills(o.skills);
      return o;
    });
    return r;
  }) };
  var qs = obj(rs && rs.queues);
  if (Object.keys(qs).length) {
    doc.queues = {};
    Object.keys(qs).forEach(function (q) { doc.queues[q] = ordered(qs[q], QUEUE_KEYS); });
  }
  return doc;
}
function pretty(doc) { return JSON.stringify(doc, null, 2); }
export function isDirty() { return editor.value !== E.savedText; }

function setEditor(text, base) {
  editor.value = text;
  E.savedText = text;
  E.base = base;
  E.problems = []; E.problemsText = null; E.problemsKind = null; E.jsonError = null;
  hideRulesStatus(); hideRulesConfirm();
  editor.scrollTop = 0;
  try { editor.setSelectionRange(0, 0); } catch (e) { /* not focused */ }
  afterEdit(true);
}

export function loadActive(force) {
  if (ruleSet.state === 'loading' && !force) return Promise.resolve();
  ruleSet.state = 'loading';
  if (!E.base) renderRulesBase();
  return api('GET', '/v1/routing/rules').then(function (r) {
    if (r.ok && r.data) {
      ruleSet.data = r.data; ruleSet.state = 'ok';
      noteVersion(r.data.version);
      fillIfUntouched();
    } else {
      ruleSet.state = 'error'; ruleSet.error = errMsg(r);
      if (!E.base) setEditor(pretty(TEMPLATE), { kind: 'template' });
    }
  }).catch(function () {
    ruleSet.state = 'error'; ruleSet.error = t('common.network');
    if (!E.base) setEditor(pretty(TEMPLATE), { kind: 'template' });
  }).then(function () {
    renderActiveInfo(); renderRulesBase(); renderLoadSelect(); renderOverrideForm();
  });
}
function fillIfUntouched() {
  if (!E.base || ((E.base.kind === 'active' || E.base.kind === 'builtin') && !isDirty())) fillFromActive();
}
function fillFromActive() {
  var a = ruleSet.data;
  if (a && isNum(a.version) && a.version > 0 && !a.builtin) setEditor(pretty(docFromRuleSet(a)), { kind: 'active', version: a.version });
  else setEditor(pretty(TEMPLATE), { kind: 'builtin' });
}

export function renderRulesBase() {
  var box = clear($('editor-base'));
  var b = E.base;
  if (!b) { box.appendChild(el('span', { class: 'muted', text: ruleSet.state === 'error' ? t('rules.loadFailed', { msg: ruleSet.error }) : t('rules.loading') })); return; }
  var active = activeVersion();
  var text;
  if (b.kind === 'builtin') text = t('rules.base.builtin');
  else if (b.kind === 'template') text = t('rules.base.template');
  else if (b.kind === 'saved') text = t('rules.base.saved', { v: b.version });
  else if (b.version === active) text = t('rules.base.active', { v: b.version });
  else text = t('rules.base.version', { v: b.version });
  if (b.version && b.version === active && b.kind === 'saved') text = t('rules.base.active', { v: b.version });
  var m = /^(.*?)(v?\d+)(.*)$/.exec(text);
  if (b.version && m) { box.appendChild(document.createTextNode(m[1])); box.appendChild(el('strong', { 'data-testid': 'editor-version', text: m[2] })); box.appendChild(document.createTextNode(m[3])); }
  else box.textContent = text;
  if (b.version && b.version === active) box.appendChild(el('span', { class: 'badge badge-ok', style: { marginLeft: '8px' }, text: t('hist.active') }));
  var dirty = isDirty();
  $('dirty-dot').hidden = !dirty;
  if (dirty) box.appendChild(el('span', { class: 'muted', text: t('rules.base.edited') }));
  $('dirty-dot').title = t('rules.unsaved');
}

export function renderLoadSelect() {
  var sel = clear($('rules-load'));
  sel.appendChild(el('option', { value: '', text: t('rules.loadHeader') }));
  var a = ruleSet.data && ruleSet.data.version > 0 ? ruleSet.data.version : null;
  if (a) sel.appendChild(el('option', { value: 'active', text: t('rules.loadActive', { v: a }) }));
  sel.appendChild(el('option', { value: 'template', text: t('rules.loadTemplate') }));
  versionNumbers().forEach(function (v) { if (v !== a) sel.appendChild(el('option', { value: 'v:' + v, text: t('rules.loadVersion', { v: v }) })); });
  sel.value = '';
}

$('rules-load').addEventListener('change', function () {
  var v = this.value;
  this.value = '';
  if (!v) return;
  var doLoad = function () {
    if (v === 'active') { if (ruleSet.data) fillFromActive(); }
    else if (v === 'template') setEditor(pretty(TEMPLATE), { kind: 'template' });
    else openVersion(Number(v.slice(2)));
  };
  if (isDirty()) showRulesConfirm(t('rules.discard'), null, t('common.confirm'), 'btn-danger', doLoad);
  else doLoad();
});

export function openVersion(v) {
  if (ruleSet.data && ruleSet.data.version === v) { fillFromActive(); go('rules'); return; }
  api('GET', '/v1/routing/rules/' + v).then(function (r) {
    if (r.ok && r.data) { setEditor(pretty(docFromRuleSet(r.data)), { kind: 'version', version: v }); go('rules'); }
    else toast(errMsg(r), 'error');
  }).catch(function () { toast(t('common.network'), 'error'); });
}

/* ------------------------------------------------------- editor chrome */
var gutterSig = '';
function renderGutter() {
  var lines = editor.value.split('\n').length;
  var bad = {};
  problemTargets().forEach(function (p) { if (p.line) bad[p.line] = true; });
  if (E.jsonError) bad[E.jsonError.line] = true;
  var focus = E.focusLine || 0;
  var s = lines + '|' + Object.keys(bad).join(',') + '|' + focus;
  if (s === gutterSig) return;
  gutterSig = s;
  var frag = document.createDocumentFragment();
  for (var i = 1; i <= lines; i++) frag.appendChild(el('span', { class: 'ln' + (bad[i] ? ' is-problem' : '') + (i === focus ? ' is-focus' : ''), text: String(i) }));
  clear(gutter).appendChild(frag);
  gutter.scrollTop = editor.scrollTop;
}
editor.addEventListener('scroll', function () { gutter.scrollTop = editor.scrollTop; });
function updateCaret() {
  var lc = lineCol(editor.value, editor.selectionStart);
  $('editor-pos').textContent = lc.line + ':' + lc.col;
}
['keyup', 'click', 'select'].forEach(function (ev) { editor.addEventListener(ev, updateCaret); });
editor.addEventListener('input', function () {
  E.focusLine = 0;
  clearTimeout(previewTimer);
  previewTimer = setTimeout(function () { afterEdit(false); }, 220);
  renderGutter(); updateCaret();
  renderRulesBase();
});
editor.addEventListener('keydown', function (ev) {
  if (ev.key === 'Tab' && !ev.shiftKey && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
    ev.preventDefault();
    var s = editor.selectionStart, e = editor.selectionEnd;
    editor.setRangeText('  ', s, e, 'end');
    editor.dispatchEvent(new Event('input'));
  } else if ((ev.ctrlKey || ev.metaKey) && ev.key === 's') {
    ev.preventDefault(); saveRules();
  } else if ((ev.ctrlKey || ev.metaKey) && ev.key === 'Enter') {
    ev.preventDefault(); validateRules();
  }
});

/** Moves the caret to a problem path and flashes its line. */
function jumpTo(path) {
  var parsed = safeLocate(editor.value);
  var off = parsed && parsed.paths ? pathOffset(parsed.paths, path) : null;
  if (off == null) return;
  var lc = lineCol(editor.value, off);
  editor.focus();
  editor.setSelectionRange(off, off);
  editor.scrollTop = Math.max(0, (lc.line - 4) * 20);
  E.focusLine = lc.line;
  renderGutter(); updateCaret();
}
function safeLocate(text) { try { return locate(text); } catch (e) { return null; } }

/* ------------------------------------------------------------- preview */
function parseProblemPath(path) {
  var p = String(path || ''), m;
  if ((m = /^rules\[(\d+)\](?:\.([A-Za-z_]+))?(?:\[(\d+)\])?(?:\.([A-Za-z_]+))?/.exec(p))) {
    return { rule: Number(m[1]), field: m[2] || null, sub: m[3] != null ? Number(m[3]) : null, subField: m[4] || null };
  }
  if ((m = /^queues\.([^.[\]]+)(?:\.([A-Za-z_]+))?/.exec(p))) return { queue: m[1], field: m[2] || null };
  return { doc: true };
}
function problemTargets() {
  var paths = E.paths || {};
  return E.problems.map(function (pr) {
    var tg = parseProblemPath(pr.path);
    tg.path = pr.path; tg.message = pr.message;
    var off = pathOffset(paths, pr.path);
    tg.line = off != null ? lineCol(editor.value, off).line : null;
    return tg;
  });
}
function problemsStale() { return E.problemsText != null && E.problemsText !== editor.value; }

function afterEdit(fresh) {
  var text = editor.value;
  E.jsonError = null;
  try {
    E.doc = JSON.parse(text);
    var loc = safeLocate(text);
    E.paths = loc ? loc.paths : {};
  } catch (e) {
    try { locate(text); E.jsonError = { line: 1, col: 1, msg: e.message }; }
    catch (err) {
      var lc = lineCol(text, err.pos || 0);
      var msg = t('rules.json.' + err.code, { tok: err.tok ? '“' + err.tok + '”' : '' });
      E.jsonError = { line: lc.line, col: lc.col, msg: msg, pos: err.pos };
    }
  }
  if (fresh) gutterSig = '';
  renderPreview(); renderProblems(); renderGutter(); updateCaret(); renderRulesBase();
}

export function renderPreview() {
  var errBox = $('preview-error');
  clear(errBox);
  var je = E.jsonError;
  var doc = E.doc;
  var notObject = !je && (!doc || typeof doc !== 'object' || Array.isArray(doc));
  errBox.hidden = !je && !notObject;
  if (je) {
    errBox.appendChild(el('strong', { text: t('rules.json.title') }));
    errBox.appendChild(el('button', { type: 'button', class: 'link-btn', style: { textAlign: 'left', color: 'inherit' }, text: t('rules.json.at', { line: je.line, col: je.col, msg: je.msg }),
      onclick: function () { if (je.pos != null) { editor.focus(); editor.setSelectionRange(je.pos, je.pos); E.focusLine = je.line; editor.scrollTop = Math.max(0, (je.line - 4) * 20); renderGutter(); updateCaret(); } } }));
  } else if (notObject) {
    errBox.appendChild(el('strong', { text: t('rules.json.notObject') }));
  }
  $('preview').classList.toggle('is-stale', !!je);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) doc = { rules: [] };

  var targets = problemTargets();
  var byRule = {}, byQueue = {}, docLevel = [];
  var rules = Array.isArray(doc.rules) ? doc.rules : [];
  var queues = obj(doc.queues);
  targets.forEach(function (tg) {
    if (tg.rule != null && tg.rule < rules.length) (byRule[tg.rule] = byRule[tg.rule] || []).push(tg);
    else if (tg.queue != null && has(queues, tg.queue)) (byQueue[tg.queue] = byQueue[tg.queue] || []).push(tg);
    else docLevel.push(tg);
  });

  $('preview-hint').textContent = t('rules.previewHint', { rules: rules.length, queues: Object.keys(queues).length });
  var dp = clear($('doc-problems'));
  dp.hidden = !docLevel.length;
  docLevel.forEach(function (tg) { dp.appendChild(el('div', { class: 'notice notice-danger', 'data-testid': 'doc-problem' }, [problemRow(tg, jumpTo)])); });

  var list = clear($('rule-cards'));
  if (!rules.length) list.appendChild(emptyState('empty', t('rules.empty'), t('rules.emptyText')));
  rules.forEach(function (r, idx) { list.appendChild(ruleCard(obj(r), idx, byRule[idx] || [], jumpTo)); });

  var qbox = clear($('queue-cards'));
  var qnames = Object.keys(queues);
  if (qnames.length) qbox.appendChild(el('h2', { class: 'block-title', style: { margin: '8px 2px 0' }, text: t('rules.queueSettings') }));
  else if (rules.length) qbox.appendChild(el('p', { class: 'card-hint', style: { padding: '0 4px' }, text: t('rules.noQueues') }));
  qnames.forEach(function (q) { qbox.appendChild(queueCard(q, obj(queues[q]), byQueue[q] || [], jumpTo)); });
}


export function renderProblems() {
  var box = $('problems');
  var n = E.problems.length;
  box.hidden = !n;
  setNavCount('nav-count-rules', n);
  if (!n) return;
  var kind = E.problemsKind === 'save' ? 'rules.problems' : 'rules.problemsValidate';
  $('problems-title').textContent = n === 1 ? t(kind + '1') : t(kind, { n: n });
  $('problems-note').textContent = problemsStale() ? t('rules.problemsStale') : '';
  var list = clear($('problems-list'));
  var doc = E.doc && typeof E.doc === 'object' ? E.doc : {};
  problemTargets().forEach(function (tg) {
    var where = tg.rule != null ? t('rules.problemWhere', { n: tg.rule + 1 }) + (arr(doc.rules)[tg.rule] && doc.rules[tg.rule].name ? ' · ' + doc.rules[tg.rule].name : '')
      : tg.queue != null ? t('rules.problemQueue', { q: tg.queue }) : t('rules.problemDoc');
    list.appendChild(el('li', { class: 'problem', tabindex: '0', 'data-testid': 'problem', 'data-path': tg.path,
      onclick: function () { jumpTo(tg.path); var c = tg.rule != null && $('rule-card-' + tg.rule); if (c) { c.classList.remove('is-flash'); void c.offsetWidth; c.classList.add('is-flash'); c.scrollIntoView({ block: 'nearest', behavior: 'smooth' }); } },
      onkeydown: function (ev) { if (ev.key === 'Enter') this.click(); } }, [
      el('code', { class: 'problem-path', text: tg.path }),
      el('span', { class: 'problem-msg', text: tg.message }),
      el('span', { class: 'problem-where', text: where + (tg.line ? ' · L' + tg.line : '') })
    ]));
  });
}

/* ------------------------------------------------------ banner, confirm */
function showRulesStatus(kind, text, actions, testValue) {
  var box = clear($('rules-status'));
  box.className = 'status-banner is-' + kind;
  box.setAttribute('data-kind', kind);
  box.appendChild(el('span', { class: 'ico', 'aria-hidden': 'true' }, [el('span', { text: kind === 'ok' ? '✓' : kind === 'error' ? '!' : 'i' })]));
  var txt = el('span', { 'data-testid': 'rules-status-text', text: text });
  box.appendChild(txt);
  if (testValue != null) box.appendChild(el('span', { class: 'ver ver-cand', 'data-testid': 'saved-version', 'data-version': String(testValue), text: t('rules.savedVersion', { v: testValue }) }));
  if (actions && actions.length) box.appendChild(el('div', { class: 'banner-actions' }, actions));
  box.hidden = false;
  if (app.section === 'rules') box.scrollIntoView({ block: 'nearest' });
}
export function hideRulesStatus() { $('rules-status').hidden = true; }
export function showRulesConfirm(text, sub, okLabel, okClass, onOk) {
  var bar = clear($('rules-confirm'));
  bar.appendChild(el('div', {}, [el('strong', { text: text }), sub ? el('div', { style: { fontSize: '13px' }, text: sub }) : null]));
  var ok = el('button', { type: 'button', class: 'btn btn-sm ' + (okClass || 'btn-primary'), 'data-testid': 'rules-confirm-ok', text: okLabel,
    onclick: function () { hideRulesConfirm(); onOk(); } });
  bar.appendChild(el('div', { class: 'confirm-actions' }, [
    el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'rules-confirm-cancel', text: t('common.cancel'), onclick: hideRulesConfirm }),
    ok
  ]));
  bar.hidden = false;
  ok.focus();
}
function hideRulesConfirm() { $('rules-confirm').hidden = true; }

/* -------------------------------------------------------------- actions */
/** The editor's document, or null after reporting malformed JSON in place. */
function docForSend() {
  afterEdit(false);
  var je = E.jsonError;
  if (je) {
    showRulesStatus('error', t('rules.json.title') + ' ' + t('rules.json.at', { line: je.line, col: je.col, msg: je.msg }), [
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'json-error-goto', text: 'L' + je.line,
        onclick: function () { if (je.pos != null) { editor.focus(); editor.setSelectionRange(je.pos, je.pos); E.focusLine = je.line; renderGutter(); } } })
    ]);
    $('rules-status').setAttribute('data-testid', 'rules-status');
    if (je.pos != null) { editor.focus({ preventScroll: true }); editor.setSelectionRange(je.pos, je.pos); E.focusLine = je.line; editor.scrollTop = Math.max(0, (je.line - 4) * 20); renderGutter(); }
    $('rules-status').scrollIntoView({ block: 'nearest' });
    return null;
  }
  if (!E.doc || typeof E.doc !== 'object' || Array.isArray(E.doc)) { showRulesStatus('error', t('rules.json.notObject')); return null; }
  return E.doc;
}
function setProblems(problems, kind) {
  E.problems = arr(problems).map(function (p) { return { path: String((p && p.path) || 'document'), message: String((p && p.message) || '') }; });
  E.problemsKind = kind;
  E.problemsText = editor.value;
  gutterSig = '';
  renderPreview(); renderProblems(); renderGutter();
  if (E.problems.length) $('problems').scrollIntoView({ block: 'nearest' });
}
function rulesBusy(which) {
  E.busy = which;
  setBusy($('btn-validate'), which === 'validate' ? 'rules.validating' : null);
  setBusy($('btn-save'), which === 'save' ? 'rules.saving' : null);
  setBusy($('btn-activate'), which === 'activate' ? 'rules.activating' : null);
  ['btn-validate', 'btn-save', 'btn-activate', 'btn-dryrun', 'btn-format'].forEach(function (id) { $(id).disabled = !!which; });
}

function validateRules() {
  if (E.busy) return;
  hideRulesConfirm();
  var doc = docForSend();
  if (!doc) return;
  rulesBusy('validate');
  api('POST', '/v1/routing/rules/validate', doc).then(function (r) {
    if (r.ok) { setProblems([], null); showRulesStatus('ok', t('rules.valid')); }
    else if (r.status === 422) { hideRulesStatus(); setProblems(r.data && r.data.problems && r.data.problems.length ? r.data.problems : [{ path: 'document', message: errMsg(r) }], 'validate'); }
    else showRulesStatus('error', t('rules.validateFailed', { msg: errMsg(r) }));
  }).catch(function () { showRulesStatus('error', t('rules.validateFailed', { msg: t('common.network') })); })
    .then(function () { rulesBusy(null); });
}

function saveRules() {
  if (E.busy) return;
  hideRulesConfirm();
  var doc = docForSend();
  if (!doc) return;
  rulesBusy('save');
  var text = editor.value;
  api('POST', '/v1/routing/rules', doc).then(function (r) {
    if (r.ok && r.data && isNum(r.data.version)) {
      var v = r.data.version;
      noteVersion(v);
      noteSaved(v);
      E.savedText = text;
      E.base = { kind: 'saved', version: v };
      setProblems([], null);
      showRulesStatus('ok', t('rules.saved', { v: v }), [
        el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'saved-dryrun', text: t('rules.tryIt', { v: v }), onclick: function () { goDryRun(v, true); } }),
        el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'saved-activate', text: t('rules.activateIt', { v: v }), onclick: function () { confirmActivateFromRules(v); } })
      ], v);
      renderRulesBase(); renderLoadSelect();
      if (versionsState() !== 'idle') loadVersions();
      if (auditState() === 'ok') loadAudit();
    } else if (r.status === 422) {
      hideRulesStatus();
      setProblems(r.data && r.data.problems && r.data.problems.length ? r.data.problems : [{ path: 'document', message: errMsg(r) }], 'save');
    } else {
      showRulesStatus('error', t('rules.saveFailed', { msg: errMsg(r) }));
    }
  }).catch(function () { showRulesStatus('error', t('rules.saveFailed', { msg: t('common.network') })); })
    .then(function () { rulesBusy(null); });
}

function needSaveBanner(key) {
  showRulesStatus('warn', t(key), [el('button', { type: 'button', class: 'btn btn-primary btn-sm', text: t('rules.save'), onclick: saveRules })]);
}
function editorVersion() { return E.base && E.base.version && !isDirty() ? E.base.version : null; }

function dryRunFromEditor() {
  hideRulesConfirm();
  var v = editorVersion();
  if (!v) { needSaveBanner('rules.needSave'); return; }
  goDryRun(v, false);
}
function activateFromEditor() {
  hideRulesConfirm();
  if (isDirty() || !E.base || !E.base.version) { needSaveBanner(isDirty() && E.base && E.base.version ? 'rules.needSaveActivate' : 'rules.nothingToActivate'); return; }
  confirmActivateFromRules(E.base.version);
}
function confirmActivateFromRules(v) {
  var active = activeVersion();
  if (v === active) { showRulesStatus('info', t('rules.alreadyActive', { v: v })); return; }
  var rollback = active && v < active;
  showRulesConfirm(t(rollback ? 'rules.confirmRollback' : 'rules.confirmActivate', { v: v }), active ? t('rules.confirmActivateWas', { prev: 'v' + active }) : null,
    rollback ? t('hist.rollback', { v: v }) : t('rules.activateIt', { v: v }), 'btn-primary', function () {
      rulesBusy('activate');
      activateVersion(v).then(function (res) {
        if (res.ok) showRulesStatus('ok', res.message);
        else showRulesStatus('error', res.message);
      }).then(function () { rulesBusy(null); });
    });
}

$('btn-validate').addEventListener('click', validateRules);
$('btn-save').addEventListener('click', saveRules);
$('btn-dryrun').addEventListener('click', dryRunFromEditor);
$('btn-activate').addEventListener('click', activateFromEditor);
$('btn-format').addEventListener('click', function () {
  afterEdit(false);
  if (E.jsonError) { docForSend(); return; }
  var text = pretty(E.doc);
  if (text !== editor.value) { editor.value = text; editor.dispatchEvent(new Event('input')); afterEdit(false); }
});

export function renderCheatSheet() {
  var box = clear($('cheat-body'));
  var dl = el('dl', { style: { margin: '0', display: 'grid', gap: '8px' } });
  var row = function (title, items) {
    dl.appendChild(el('div', {}, [el('dt', { text: title }), el('dd', {}, items.map(function (x) { return el('code', { title: x[1] || '', text: x[0] }); }))]));
  };
  row(t('rules.cheatAttrs'), ATTRIBUTES.map(function (a) { return [a]; }));
  row(t('rules.cheatOps'), [['=='], ['!='], ['<'], ['>='], ['&&'], ['||'], ['!'], ["'vip' in tags"], ["intent in ['billing', 'refunds']"], ['true']]);
  row(t('rules.cheatStrategies'), STRATEGIES.map(function (s) { return [s, lbl('strategy.', s)]; }));
  row(t('rules.cheatFallbacks'), FALLBACKS.map(function (s) { return [s, lbl('fallback.', s)]; }));
  box.appendChild(dl);
}

export function enter() {
  if (ruleSet.state === 'idle' || ruleSet.state === 'error') loadActive();
  if (versionsState() === 'idle') loadVersions();
  renderRulesBase(); renderLoadSelect(); renderGutter();
}
