/*
 * Switchboard console — the knowledge-base entry form (#kb/<id>, #kb/new): filling it from an
 * entry and reading it back in the API's shape, whether it has unsaved changes, the per-channel
 * answer rows, the counters (variants, characters, SMS parts), the editor's heading, and the
 * problems a save was refused for, placed next to their fields.
 */
import { t } from '../../common/i18n.js';
import { el } from '../../common/util.js';
import { $, who } from '../shared.js';
import { arr, clear, cssEscape, fmtInt, fmtWhen, obj, sig } from '../ui.js';
import { KB_CHANNELS, KB_STATUSES, kbChannelName, kbEntries, kbIcon, kbIntent, kbLang, kbText } from './store.js';

/**
 * The editor: the view the section shows (list | edit | new | missing), the entry open (its id,
 * the entry the form was filled from, and kbCollect() right after filling, as JSON), the channel
 * answers shown, what is under way (save | delete), and where a navigation it held up wanted to go.
 */
export const ed = { view: 'list', editId: null, entry: null, baseline: null, channels: [], busy: null, leaveTo: null };

export const kbForm = $('kb-editor');

function kbLines(v) { return String(v || '').split(/\r?\n/).map(function (s) { return s.trim(); }).filter(Boolean); }
function kbTagList(v) { return String(v || '').split(/[,，、;；\n]/).map(function (s) { return s.trim(); }).filter(Boolean); }
function kbTexts(zh, en) {
  var o = {};
  if (String(zh || '').trim()) o.zh = String(zh).trim();
  if (String(en || '').trim()) o.en = String(en).trim();
  return o;
}
function kbStatusValue() { var r = kbForm.querySelector('input[name=kb-status]:checked'); return r ? r.value : 'published'; }

/** The entry the form describes, exactly in the API's shape (no unknown fields). */
export function kbCollect() {
  var e = { id: $('kb-f-id').value.trim(), status: kbStatusValue() };
  var title = kbTexts($('kb-f-title-zh').value, $('kb-f-title-en').value);
  if (Object.keys(title).length) e.title = title;
  e.questions = {};
  var qzh = kbLines($('kb-f-q-zh').value), qen = kbLines($('kb-f-q-en').value);
  if (qzh.length) e.questions.zh = qzh;
  if (qen.length) e.questions.en = qen;
  var kzh = kbLines($('kb-f-kw-zh').value), ken = kbLines($('kb-f-kw-en').value);
  if (kzh.length || ken.length) { e.keywords = {}; if (kzh.length) e.keywords.zh = kzh; if (ken.length) e.keywords.en = ken; }
  e.answer = kbTexts($('kb-f-ans-zh').value, $('kb-f-ans-en').value);
  var ch = {};
  ed.channels.forEach(function (c) {
    var zh = $('kb-f-ch-' + c + '-zh'), en = $('kb-f-ch-' + c + '-en');
    if (!zh || !en) return;
    var tx = kbTexts(zh.value, en.value);
    if (Object.keys(tx).length) ch[c] = tx;
  });
  // Channels this editor has no fields for (none today) are kept as they were.
  Object.keys(obj(ed.entry && ed.entry.channel_answers)).forEach(function (c) { if (KB_CHANNELS.indexOf(c) === -1) ch[c] = ed.entry.channel_answers[c]; });
  if (Object.keys(ch).length) e.channel_answers = ch;
  var tags = kbTagList($('kb-f-tags').value);
  if (tags.length) e.tags = tags;
  var skill = $('kb-f-skill').value.trim(), intent = $('kb-f-intent').value.trim();
  if (skill) e.skill = skill;
  if (intent) e.intent = intent;
  return e;
}
export function kbDirty() {
  return (ed.view === 'edit' || ed.view === 'new') && ed.baseline != null && sig(kbCollect()) !== ed.baseline;
}

function kbChannelRow(c) {
  var field = function (lang) {
    var id = 'kb-f-ch-' + c + '-' + lang, key = 'channel_answers.' + c + '.' + lang;
    return el('div', { class: 'field', 'data-field': key }, [
      el('label', { for: id }, [
        el('span', { class: 'kb-lang kb-lang-' + lang, 'aria-hidden': 'true', text: lang === 'zh' ? '中' : 'EN' }),
        el('span', { class: 'sr-only', text: kbChannelName(c) + ' ' }),
        el('span', { 'data-i18n': 'kb.lang.' + lang, text: t('kb.lang.' + lang) }),
        el('span', { class: 'kb-n', 'data-count-for': id, 'data-sms': c === 'sms' ? lang : null, 'data-max': '4000' })
      ]),
      el('textarea', { class: 'textarea', id: id, 'data-testid': 'kb-f-ch-' + c + '-' + lang, lang: lang === 'zh' ? 'zh-CN' : 'en', rows: c === 'sms' ? '2' : '4', maxlength: '4000' }),
      el('p', { class: 'field-error', 'data-kb-error': key, 'data-testid': 'kb-field-error', 'data-field': key, hidden: true })
    ]);
  };
  return el('div', { class: 'kb-channel', 'data-channel': c, 'data-testid': 'kb-channel' }, [
    el('div', { class: 'kb-channel-head' }, [
      el('span', { class: 'chan chan-' + c, text: kbChannelName(c) }),
      c === 'sms' ? null : el('button', { type: 'button', class: 'icon-btn kb-channel-remove', 'aria-label': t('kb.removeChannel', { channel: kbChannelName(c) }), title: t('kb.removeChannel', { channel: kbChannelName(c) }),
        onclick: function () { kbRemoveChannel(c); } }, [kbIcon('x')])
    ]),
    el('div', { class: 'kb-pair' }, [field('zh'), field('en')]),
    el('p', { class: 'field-error', 'data-kb-error': 'channel_answers.' + c, 'data-testid': 'kb-field-error', 'data-field': 'channel_answers.' + c, hidden: true })
  ]);
}
/** Rebuilds the channel-answer rows (SMS always, then those in use), keeping typed texts. */
export function renderKbChannels(values) {
  var keep = values || {};
  if (!values) ed.channels.forEach(function (c) { var zh = $('kb-f-ch-' + c + '-zh'), en = $('kb-f-ch-' + c + '-en'); if (zh) keep[c] = { zh: zh.value, en: en.value }; });
  var box = clear($('kb-channels'));
  ed.channels.forEach(function (c) {
    box.appendChild(kbChannelRow(c));
    var v = obj(keep[c]);
    $('kb-f-ch-' + c + '-zh').value = v.zh || '';
    $('kb-f-ch-' + c + '-en').value = v.en || '';
  });
  kbAutosizeAll();
  var sel = clear($('kb-add-channel'));
  var left = KB_CHANNELS.filter(function (c) { return ed.channels.indexOf(c) === -1; });
  sel.appendChild(el('option', { value: '', text: t('kb.addChannelOpt') }));
  left.forEach(function (c) { sel.appendChild(el('option', { value: c, text: kbChannelName(c) })); });
  $('kb-add-channel-row').hidden = !left.length;
  kbCounts();
}
function kbRemoveChannel(c) {
  ed.channels = ed.channels.filter(function (x) { return x !== c; });
  renderKbChannels();
  kbEdited();
  $('kb-add-channel').focus();
}
$('kb-add-channel').addEventListener('change', function () {
  var c = this.value;
  if (!c) return;
  ed.channels.push(c);
  renderKbChannels();
  var f = $('kb-f-ch-' + c + '-' + kbLang());
  if (f) f.focus();
});

export function kbFill(e) {
  e = obj(e);
  ed.entry = e;
  $('kb-f-id').value = e.id || '';
  var st = KB_STATUSES.indexOf(e.status) !== -1 ? e.status : 'published';
  kbForm.querySelectorAll('input[name=kb-status]').forEach(function (r) { r.checked = r.value === st; });
  $('kb-f-intent').value = e.intent || '';
  $('kb-f-skill').value = e.skill || '';
  $('kb-f-tags').value = arr(e.tags).join(', ');
  var title = obj(e.title), q = obj(e.questions), kw = obj(e.keywords), ans = obj(e.answer);
  $('kb-f-title-zh').value = title.zh || '';
  $('kb-f-title-en').value = title.en || '';
  $('kb-f-q-zh').value = arr(q.zh).join('\n');
  $('kb-f-q-en').value = arr(q.en).join('\n');
  $('kb-f-kw-zh').value = arr(kw.zh).join('\n');
  $('kb-f-kw-en').value = arr(kw.en).join('\n');
  $('kb-f-ans-zh').value = ans.zh || '';
  $('kb-f-ans-en').value = ans.en || '';
  var ch = obj(e.channel_answers);
  ed.channels = ['sms'].concat(KB_CHANNELS.filter(function (c) { return c !== 'sms' && ch[c]; }));
  renderKbChannels(ch);
  kbClearProblems();
  ed.baseline = sig(kbCollect());
  kbEdited();
  kbAutosizeAll();
}

/** After any edit: the dirty mark, the title, the counters and the id's hint. */
export function kbEdited() {
  var dirty = kbDirty();
  $('kb-dirty').hidden = !dirty;
  kbForm.setAttribute('data-dirty', dirty ? 'true' : 'false');
  renderKbEditorHead();
  kbCounts();
  var st = kbStatusValue();
  $('kb-status-hint').textContent = t('kb.statusHint.' + st);
  $('kb-status-hint').className = 'field-hint kb-status-hint is-' + st;
}
/** Textareas grow with their text, up to their CSS max-height. */
export function kbAutosize(ta) {
  if (!ta || ta.offsetParent === null) return;
  var max = parseFloat(getComputedStyle(ta).maxHeight) || 420;
  ta.style.height = 'auto';
  ta.style.height = Math.min(ta.scrollHeight + 2, max) + 'px';
}
export function kbAutosizeAll() { kbForm.querySelectorAll('textarea').forEach(kbAutosize); }
export function kbCounts() {
  [['kb-f-q-zh', 'kb-n-q-zh', 'kb.nLines'], ['kb-f-q-en', 'kb-n-q-en', 'kb.nLines'], ['kb-f-kw-zh', 'kb-n-kw-zh', 'kb.nKeywords'], ['kb-f-kw-en', 'kb-n-kw-en', 'kb.nKeywords']].forEach(function (x) {
    var n = kbLines($(x[0]).value).length;
    $(x[1]).textContent = n ? (n === 1 ? t(x[2] + '1') : t(x[2], { n: n })) : '';
  });
  kbForm.querySelectorAll('[data-count-for]').forEach(function (span) {
    var f = $(span.getAttribute('data-count-for'));
    if (!f) return;
    var n = Array.from(f.value.trim()).length, sms = span.getAttribute('data-sms');
    span.classList.remove('is-warn');
    if (!n) { span.textContent = ''; return; }
    if (sms) {
      // One SMS holds 70 characters of Chinese (UCS-2) or 160 of Latin text; longer ones are
      // split into parts of 67 / 153.
      var wide = /[^\x00-\x7f]/.test(f.value), one = wide ? 70 : 160, part = wide ? 67 : 153;
      var parts = n <= one ? 1 : Math.ceil(n / part);
      span.textContent = parts === 1 ? t('kb.smsFits', { n: n }) : t('kb.smsParts', { n: n, parts: parts });
      span.classList.toggle('is-warn', parts > 1);
    } else {
      span.textContent = t('kb.chars', { n: fmtInt(n), max: fmtInt(4000) });
      span.classList.toggle('is-warn', n > 3600);
    }
  });
}
export function renderKbEditorHead() {
  var isNew = ed.view === 'new';
  var e = ed.entry;
  var live = kbTexts($('kb-f-title-zh').value, $('kb-f-title-en').value);
  var title = kbText(live) || (isNew ? ($('kb-f-id').value.trim() || t('kb.newTitle')) : (e && e.id) || '—');
  $('kb-ed-title').textContent = title;
  var meta = clear($('kb-ed-meta'));
  if (isNew) meta.appendChild(document.createTextNode(t('kb.metaNew')));
  else if (e) {
    meta.appendChild(el('span', { class: 'mono kb-ed-id', 'data-testid': 'kb-editor-id', text: e.id }));
    if (e.updated_at) meta.appendChild(el('span', { text: t('kb.meta', { when: fmtWhen(e.updated_at), who: who(e.updated_by, e.updated_by_name) }) }));
  }
  var save = $('kb-save').querySelector('span');
  if (!ed.busy) { save.setAttribute('data-i18n', isNew ? 'kb.create' : 'kb.save'); save.textContent = t(isNew ? 'kb.create' : 'kb.save'); }
  $('kb-delete').hidden = isNew;
  var idIn = $('kb-f-id');
  idIn.readOnly = !isNew;
  idIn.setAttribute('aria-readonly', isNew ? 'false' : 'true');
  $('kb-f-id-hint').textContent = t(isNew ? 'kb.f.idHint' : 'kb.f.idFixed');
  kbForm.setAttribute('data-mode', ed.view);
}
export function kbFillDatalists() {
  var intents = {}, skills = {};
  kbEntries().forEach(function (e) { intents[kbIntent(e)] = 1; if (e.skill) skills[e.skill] = 1; });
  var a = clear($('kb-intents')), b = clear($('kb-skills'));
  Object.keys(intents).sort().forEach(function (x) { a.appendChild(el('option', { value: x })); });
  Object.keys(skills).sort().forEach(function (x) { b.appendChild(el('option', { value: x })); });
}

/* ------------------------------------------------------------ problems */
export function kbClearProblems() {
  kbForm.querySelectorAll('[data-kb-error]').forEach(function (p) { p.hidden = true; p.textContent = ''; });
  kbForm.querySelectorAll('.has-error').forEach(function (n) { n.classList.remove('has-error'); });
  kbForm.querySelectorAll('[aria-invalid]').forEach(function (n) { n.removeAttribute('aria-invalid'); });
  $('kb-problems').hidden = true;
}
/** Where a problem goes in the form, and its message there (`questions.en[3]` → line 4). */
function kbProblemTarget(p) {
  var path = String(p.path || '').replace(/^entries\[\d+\]\./, ''), msg = String(p.message || '');
  var m = /^(questions|keywords)\.(zh|en)\[(\d+)\]$/.exec(path);
  if (m) return { key: m[1] + '.' + m[2], message: t('kb.err.line', { n: Number(m[3]) + 1, msg: msg }) };
  m = /^tags\[(\d+)\]$/.exec(path);
  if (m) return { key: 'tags', message: t('kb.err.tag', { n: Number(m[1]) + 1, msg: msg }) };
  return { key: path, message: msg };
}
export function kbShowProblems(problems) {
  kbClearProblems();
  var list = clear($('kb-problems-list'));
  var firstField = null;
  problems.forEach(function (p) {
    var tg = kbProblemTarget(p);
    var box = kbForm.querySelector('[data-kb-error="' + cssEscape(tg.key) + '"]');
    var field = null;
    if (box) {
      box.textContent = box.textContent ? box.textContent + ' · ' + tg.message : tg.message;
      box.hidden = false;
      var f = box.closest('.field, .kb-channel, .kb-sec');
      if (f) f.classList.add('has-error');
      field = f && f.querySelector('input:not([type=radio]), textarea') || (f && f.querySelector('input'));
      if (field) { field.setAttribute('aria-invalid', 'true'); if (!firstField) firstField = field; }
    }
    var item = el('li', { class: 'problem', tabindex: '0', role: 'button', 'data-testid': 'kb-problem', 'data-path': String(p.path || ''), 'data-placed': box ? 'true' : 'false',
      onclick: function () { if (field) { field.focus(); field.scrollIntoView({ block: 'center', behavior: 'smooth' }); } },
      onkeydown: function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); this.click(); } } }, [
      el('span', { class: 'problem-path', text: String(p.path || '—') }),
      el('span', { class: 'problem-msg', text: String(p.message || '') })
    ]);
    list.appendChild(item);
  });
  $('kb-problems-title').textContent = problems.length === 1 ? t('kb.problems1') : t('kb.problems', { n: problems.length });
  $('kb-problems').hidden = false;
  $('kb-problems').scrollIntoView({ block: 'nearest' });
  if (firstField) firstField.focus({ preventScroll: true });
}
