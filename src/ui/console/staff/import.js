/*
 * Switchboard console — #staff/import, bulk import (admins): a CSV file, chosen or dropped, or
 * pasted; "Check" sends it as a dry run (POST /v1/staff/import?dry_run=true) and shows every
 * problem by row beside a preview of the first rows; once no row has a problem, "Import"
 * creates every account at once (all or nothing). A template with the columns downloads.
 */
import { i18n, t } from '../../common/i18n.js';
import { el, toast } from '../../common/util.js';
import { $, errMsg } from '../shared.js';
import { arr, clear, fmtInt, obj, setBusy, skillChip } from '../ui.js';
import { rawPost, staffLoad, tx } from './store.js';
import { capacityCell, langTags, roleBadge } from './widgets.js';
import { showAccount } from './people.js';

var host = $('staff-import');
var MAX_BYTES = 2 * 1024 * 1024;
var COLUMNS = [
  ['username', true, 'li.wei'], ['display_name', true, 'Li Wei'], ['role', true, 'agent'], ['password', true, '••••••••••'],
  ['skills', false, 'billing:4;refunds:2'], ['languages', false, 'zh;en'], ['chat_capacity', false, '3'], ['voice_capacity', false, '1'],
  ['ticket_capacity', false, '5'], ['teams', false, 'Refunds;Night shift'], ['extension', false, '4021']
];
var TEMPLATE = 'username,display_name,role,password,skills,languages,chat_capacity,voice_capacity,ticket_capacity,teams,extension\r\n' +
  'li.wei,Li Wei,agent,choose-a-passphrase-1,billing:4;refunds:2,zh;en,3,,,,4021\r\n' +
  'mia.chen,Mia Chen,team_lead,choose-a-passphrase-2,,zh;en,,,,,4022\r\n';

/**
 * source: 'file' | 'paste'; file: the chosen file's name and size; text: what is sent;
 * checked: { text, data } of the last dry run; outcome: the last import's { status, data };
 * busy: 'check' | 'import' | null.
 */
var I = newState();
function newState() { return { source: 'file', file: null, text: '', paste: '', checked: null, outcome: null, busy: null, built: false }; }
export function resetImport() { I = newState(); clear(host); }
export function importState() {
  return { source: I.source, checked: !!I.checked, rows: I.checked && I.checked.data.rows, valid: I.checked && I.checked.data.valid, busy: I.busy };
}

var ui = {};
export function renderImport() {
  if (!I.built) build();
  drawSource();
  drawResult();
}

function build() {
  clear(host);
  I.built = true;
  ui.fileInput = el('input', { type: 'file', id: 'staff-import-file', class: 'sr-only', accept: '.csv,text/csv', 'data-testid': 'staff-import-file' });
  ui.fileName = el('span', { class: 'drop-file', 'data-testid': 'staff-import-filename' });
  ui.drop = el('label', { class: 'dropzone', for: 'staff-import-file', 'data-testid': 'staff-import-drop' }, [
    icon('<path d="M12 16V4M7 9l5-5 5 5"/><path d="M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4"/>', 'drop-ico'),
    el('span', { class: 'drop-text' }, [tx('strong', 'staff.imp.choose'), tx('small', 'staff.imp.chooseHint')]),
    ui.fileName,
    ui.fileInput
  ]);
  ui.paste = el('textarea', { class: 'textarea mono import-paste', id: 'staff-import-paste', rows: '9', spellcheck: 'false', 'data-testid': 'staff-import-paste',
    placeholder: COLUMNS.map(function (c) { return c[0]; }).join(',') + '\n' + 'li.wei,Li Wei,agent,…' });
  ui.error = el('p', { class: 'field-error', 'data-testid': 'staff-import-error', hidden: true });
  ui.seg = el('div', { class: 'kb-seg import-seg', role: 'tablist', 'data-testid': 'staff-import-source' }, ['file', 'paste'].map(function (src) {
    var input = el('input', { type: 'radio', name: 'staff-import-source', value: src, checked: I.source === src, 'data-testid': 'staff-import-source-' + src });
    input.addEventListener('change', function () { I.source = src; sourceChanged(); drawSource(); });
    return el('label', { class: 'kb-seg-opt' }, [input, tx('span', 'staff.imp.src.' + src)]);
  }));
  ui.check = el('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'staff-import-check' }, [tx('span', 'staff.imp.check')]);
  ui.check.addEventListener('click', check);
  ui.template = el('button', { type: 'button', class: 'link-btn', 'data-testid': 'staff-import-template' }, [tx('span', 'staff.imp.template')]);
  ui.template.addEventListener('click', downloadTemplate);
  ui.fileBox = el('div', { class: 'import-file' }, [ui.drop]);
  ui.pasteBox = el('div', { class: 'import-paste-box' }, [el('label', { for: 'staff-import-paste', class: 'sr-only' }, [tx('span', 'staff.imp.src.paste')]), ui.paste]);
  var help = el('aside', { class: 'import-help', 'data-testid': 'staff-import-help' }, [
    tx('h3', 'staff.imp.columns'),
    el('table', { class: 'import-cols' }, [el('tbody', {}, COLUMNS.map(function (c) {
      return el('tr', {}, [el('td', {}, [el('code', { text: c[0] }), c[1] ? tx('span', 'staff.imp.required', { class: 'req' }) : null]), el('td', { class: 'mono muted', text: c[2] })]);
    }))]),
    tx('p', 'staff.imp.rules', { class: 'field-hint' })
  ]);
  ui.result = el('div', { class: 'import-result', 'data-testid': 'staff-import-result', hidden: true });
  host.appendChild(el('div', { class: 'card import-card' }, [
    el('div', { class: 'card-head' }, [tx('h2', 'staff.imp.title'), tx('span', 'staff.imp.hint', { class: 'card-hint' })]),
    el('div', { class: 'import-grid' }, [
      el('div', { class: 'import-source' }, [
        el('ol', { class: 'import-steps' }, [
          el('li', { class: 'is-current', 'data-step': '1' }, [tx('span', 'staff.imp.step1')]),
          el('li', { 'data-step': '2' }, [tx('span', 'staff.imp.step2')]),
          el('li', { 'data-step': '3' }, [tx('span', 'staff.imp.step3')])
        ]),
        ui.seg, ui.fileBox, ui.pasteBox, ui.error,
        el('div', { class: 'import-actions' }, [ui.check, ui.template])
      ]),
      help
    ])
  ]));
  host.appendChild(ui.result);

  ui.fileInput.addEventListener('change', function () { var f = ui.fileInput.files && ui.fileInput.files[0]; if (f) readFile(f); });
  ['dragenter', 'dragover'].forEach(function (type) {
    ui.drop.addEventListener(type, function (ev) { ev.preventDefault(); ui.drop.classList.add('is-over'); });
  });
  ['dragleave', 'drop'].forEach(function (type) {
    ui.drop.addEventListener(type, function (ev) { ev.preventDefault(); ui.drop.classList.remove('is-over'); });
  });
  ui.drop.addEventListener('drop', function (ev) { var f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0]; if (f) readFile(f); });
  ui.paste.addEventListener('input', function () { I.paste = ui.paste.value; sourceChanged(); drawResult(); });
}

function icon(inner, cls) {
  var s = el('span', { class: cls || 'btn-ico', 'aria-hidden': 'true' });
  s.innerHTML = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">' + inner + '</svg>';
  return s;
}
function showError(msg) { ui.error.textContent = msg; ui.error.hidden = !msg; }
/** What would be sent now. */
function current() { return I.source === 'paste' ? I.paste : I.text; }
function sourceChanged() { I.outcome = null; showError(''); }

function readFile(file) {
  showError('');
  if (file.size > MAX_BYTES) { I.file = null; I.text = ''; drawSource(); showError(t('staff.imp.tooBig')); return; }
  file.text().then(function (text) {
    I.file = { name: file.name, size: file.size };
    I.text = text;
    I.outcome = null;
    drawSource();
    drawResult();
  }).catch(function () { showError(t('staff.imp.unreadable')); });
}

function drawSource() {
  ui.fileBox.hidden = I.source !== 'file';
  ui.pasteBox.hidden = I.source !== 'paste';
  ui.seg.querySelectorAll('input').forEach(function (i) { i.checked = i.value === I.source; });
  if (ui.paste.value !== I.paste) ui.paste.value = I.paste;
  ui.drop.classList.toggle('has-file', !!I.file);
  ui.fileName.textContent = I.file ? t('staff.imp.file', { name: I.file.name, kb: Math.max(1, Math.round(I.file.size / 1024)) }) : '';
  var steps = ui.drop.closest('.import-source').querySelectorAll('.import-steps li');
  var stage = I.outcome && I.outcome.status === 201 ? 3 : I.checked && I.checked.text === current() ? 2 : 1;
  steps.forEach(function (li) {
    var n = Number(li.getAttribute('data-step'));
    li.classList.toggle('is-current', n === stage);
    li.classList.toggle('is-done', n < stage);
  });
}

function check() {
  if (I.busy) return;
  var text = current();
  showError('');
  if (!text.trim()) { showError(t(I.source === 'file' ? 'staff.imp.noFile' : 'staff.imp.noText')); return; }
  if (new Blob([text]).size > MAX_BYTES) { showError(t('staff.imp.tooBig')); return; }
  I.busy = 'check';
  setBusy(ui.check, 'staff.imp.checking');
  rawPost('/v1/staff/import?dry_run=true', text, 'text/csv; charset=utf-8').then(function (r) {
    if (r.status === 200 && r.data) {
      I.checked = { text: text, data: r.data };
      I.outcome = null;
    } else {
      showError(r.status === 413 ? t('staff.imp.tooBig') : t('staff.imp.checkFailed', { msg: errMsg(r) }));
    }
  }).catch(function () { showError(t('staff.imp.checkFailed', { msg: t('common.network') })); })
    .then(function () { I.busy = null; setBusy(ui.check, null); drawSource(); drawResult(); if (I.checked) ui.result.scrollIntoView({ block: 'nearest' }); });
}

function runImport(btn) {
  if (I.busy || !I.checked) return;
  var text = I.checked.text;
  I.busy = 'import';
  setBusy(btn, 'staff.imp.importing');
  rawPost('/v1/staff/import', text, 'text/csv; charset=utf-8').then(function (r) {
    I.outcome = { status: r.status, data: r.data };
    if (r.status === 201) {
      var n = arr(obj(r.data).created).length;
      toast(t(n === 1 ? 'staff.imp.done1' : 'staff.imp.done', { n: fmtInt(n) }));
      I.checked = null;
      staffLoad();
    } else if (r.status === 422 && arr(obj(r.data).problems).length) {
      // someone took a username meanwhile, or the file changed: the problems as a check shows them
      I.checked = { text: text, data: { rows: I.checked.data.rows, valid: null, problems: r.data.problems, preview: I.checked.data.preview } };
    }
  }).catch(function () { I.outcome = { status: 0, data: null }; })
    .then(function () { I.busy = null; drawSource(); drawResult(); });
}

function downloadTemplate() {
  var blob = new Blob(['\uFEFF' + TEMPLATE], { type: 'text/csv;charset=utf-8' });
  var url = URL.createObjectURL(blob);
  var a = el('a', { href: url, download: 'staff-import-template.csv' });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 30000);
}

/* ---------------------------------------------------------------- result */
function drawResult() {
  var box = clear(ui.result);
  var out = I.outcome;
  if (out && out.status === 201) {
    var created = arr(obj(out.data).created);
    box.hidden = false;
    box.setAttribute('data-outcome', 'created');
    box.appendChild(el('div', { class: 'status-banner is-ok', 'data-testid': 'staff-import-done' }, [
      el('span', { class: 'ico', 'aria-hidden': 'true' }, [el('span', { text: '✓' })]),
      el('span', { 'data-testid': 'staff-import-done-text', text: t(created.length === 1 ? 'staff.imp.done1' : 'staff.imp.done', { n: fmtInt(created.length) }) }),
      el('span', { class: 'banner-actions' }, [el('a', { class: 'btn btn-ghost btn-sm', href: '#staff', 'data-testid': 'staff-import-show',
        onclick: function () { if (created.length === 1) showAccount(created[0].username); } }, [tx('span', 'staff.imp.show')])])
    ]));
    return;
  }
  if (out && out.status !== 201 && out.status !== 422) {
    box.hidden = false;
    box.setAttribute('data-outcome', 'failed');
    box.appendChild(el('div', { class: 'status-banner is-error', 'data-testid': 'staff-import-failed' }, [
      el('span', { class: 'ico', 'aria-hidden': 'true' }, [el('span', { text: '!' })]),
      el('span', { text: out.status === 409 ? t('staff.imp.taken') : t('staff.imp.importFailed', { msg: out.status ? errMsg(out) : t('common.network') }) })
    ]));
  }
  var c = I.checked;
  if (!c) { box.hidden = !box.firstChild; return; }
  box.hidden = false;
  var d = c.data, problems = arr(d.problems), stale = c.text !== current();
  var rowsWith = {};
  problems.forEach(function (p) { (rowsWith[p.row] = rowsWith[p.row] || []).push(p); });
  var badRows = Object.keys(rowsWith).map(Number).sort(function (a, b) { return a - b; });
  var ready = !problems.length && d.rows > 0;
  box.setAttribute('data-outcome', ready ? 'ready' : 'problems');

  // summary
  var go = el('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'staff-import-run', disabled: !ready || stale },
    [el('span', { text: t(d.rows === 1 ? 'staff.imp.run1' : 'staff.imp.run', { n: fmtInt(d.rows) }) })]);
  go.addEventListener('click', function () { runImport(go); });
  box.appendChild(el('div', { class: 'card import-summary' + (ready ? ' is-ready' : ' has-problems'), 'data-testid': 'staff-import-summary',
    'data-rows': String(d.rows), 'data-valid': String(d.valid), 'data-problems': String(problems.length) }, [
    el('div', { class: 'import-stats' }, [
      stat(t('staff.imp.rows'), fmtInt(d.rows), ''),
      stat(t('staff.imp.valid'), d.valid == null ? '—' : fmtInt(d.valid), 'is-ok'),
      stat(t('staff.imp.withProblems'), fmtInt(badRows.length), badRows.length ? 'is-bad' : ''),
      stat(t('staff.imp.problemCount'), fmtInt(problems.length), problems.length ? 'is-bad' : '')
    ]),
    el('div', { class: 'import-verdict' }, [
      el('p', { class: 'import-verdict-text', 'data-testid': 'staff-import-verdict', text: stale ? t('staff.imp.stale')
        : ready ? t(d.rows === 1 ? 'staff.imp.ready1' : 'staff.imp.ready', { n: fmtInt(d.rows) }) : d.rows ? t('staff.imp.fix', { n: badRows.length }) : t('staff.imp.fixFile') }),
      go
    ])
  ]));

  // problems, by row
  if (problems.length) {
    var byRow = {};
    arr(d.preview).forEach(function (p) { byRow[p.row] = p; });
    var SHOW = 100;
    var ol = el('ol', { class: 'import-problems', 'data-testid': 'staff-import-problems' });
    badRows.slice(0, SHOW).forEach(function (row) {
      var p = byRow[row];
      ol.appendChild(el('li', { class: 'import-problem-row', 'data-testid': 'staff-import-problem-row', 'data-row': String(row) }, [
        el('div', { class: 'import-problem-where' }, [
          el('span', { class: 'row-tag', text: row <= 1 ? t('staff.imp.header') : t('staff.imp.row', { n: row }) }),
          p && p.username ? el('span', { class: 'mono', text: '@' + p.username }) : null
        ]),
        el('ul', {}, rowsWith[row].map(function (x) {
          return el('li', { class: 'import-problem', 'data-testid': 'staff-import-problem', 'data-field': x.field }, [
            el('span', { class: 'problem-path', text: x.field }), el('span', { class: 'problem-msg', text: x.message })]);
        }))
      ]));
    });
    box.appendChild(el('div', { class: 'problems import-problems-box' }, [
      el('div', { class: 'problems-head' }, [el('span', { class: 'problems-icon', 'aria-hidden': 'true', text: '!' }),
        el('strong', { text: t(problems.length === 1 ? 'staff.imp.problems1' : 'staff.imp.problems', { n: fmtInt(problems.length), rows: fmtInt(badRows.length) }) }),
        badRows.length > SHOW ? el('span', { class: 'problems-note', text: t('staff.imp.firstRows', { n: SHOW }) }) : null]),
      ol
    ]));
  }

  // preview
  var preview = arr(d.preview);
  if (preview.length) {
    var tbody = el('tbody', {});
    preview.forEach(function (p) {
      var bad = rowsWith[p.row];
      tbody.appendChild(el('tr', { class: bad ? 'is-bad' : '', 'data-testid': 'staff-import-preview-row', 'data-row': String(p.row), 'data-valid': p.valid ? 'true' : 'false' }, [
        el('td', { class: 'num muted', text: String(p.row) }),
        el('td', {}, [el('span', { class: 'import-ok' + (bad ? ' is-bad' : ''), title: bad ? bad.map(function (x) { return x.field + ': ' + x.message; }).join('\n') : t('staff.imp.rowOk'), text: bad ? '!' : '✓' })]),
        el('td', {}, [el('div', { class: 'import-person' }, [el('strong', { text: p.display_name || '—' }), el('span', { class: 'mono muted', text: p.username ? '@' + p.username : '—' })])]),
        el('td', {}, [/^(agent|team_lead|supervisor|admin)$/.test(p.role) ? roleBadge(p.role) : el('span', { class: 'mono bad-cell', text: p.role || '—' })]),
        el('td', {}, [arr(p.teams).length ? el('div', { class: 'chips' }, p.teams.map(function (n) { return el('span', { class: 'team-chip', text: n }); })) : el('span', { class: 'dash', text: '—' })]),
        el('td', {}, [arr(p.skills).length ? el('div', { class: 'chips' }, p.skills.map(function (k) { return skillChip(k.name, k.level >= 1 && k.level <= 5 ? k.level : null, !(k.level >= 1 && k.level <= 5)); })) : el('span', { class: 'dash', text: '—' })]),
        el('td', {}, [langTags(p.languages)]),
        el('td', {}, [capacityCell(p.capacity)]),
        el('td', { class: 'mono', text: p.extension || '—' })
      ]));
    });
    box.appendChild(el('div', { class: 'card import-preview', 'data-testid': 'staff-import-preview' }, [
      el('div', { class: 'card-head' }, [tx('h2', 'staff.imp.preview'), el('span', { class: 'card-hint', text: preview.length < d.rows ? t('staff.imp.previewFirst', { n: preview.length, total: fmtInt(d.rows) }) : t('staff.imp.previewAll') })]),
      el('div', { class: 'table-wrap' }, [el('table', { class: 'table import-table' }, [
        el('thead', {}, [el('tr', {}, ['#', '', 'staff.col.person', 'staff.col.role', 'staff.col.teams', 'staff.col.skills', 'staff.col.languages', 'staff.col.capacity', 'staff.f.extension'].map(function (k, i) {
          return i < 2 ? el('th', { class: i === 0 ? 'num' : '', text: k }) : el('th', { 'data-i18n': k, text: t(k) });
        }))]),
        tbody
      ])])
    ]));
  }
}
function stat(labelText, value, cls) {
  return el('div', { class: 'import-stat ' + cls }, [el('span', { class: 'import-stat-label', text: labelText }), el('span', { class: 'import-stat-value', text: value })]);
}

i18n.onChange(function () { if (I.built) { drawSource(); drawResult(); } });
