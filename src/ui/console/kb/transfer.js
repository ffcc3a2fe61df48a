/*
 * Switchboard console — importing and exporting the knowledge base (#kb header): GET
 * /v1/kb/export?format=json|csv downloads a file; POST /v1/kb/import?mode=merge|replace sends
 * one (replacing everything asks first) and lists the problems that refused it.
 */
import { t } from '../../common/i18n.js';
import { el, toast } from '../../common/util.js';
import { $, app, errMsg, sessionExpired } from '../shared.js';
import { arr, clear, fmtInt, isNum, setBusy } from '../ui.js';
import { KB, kbChanged } from './store.js';
import { kbConfirm } from './editor.js';

var KB_MAX_IMPORT = 5 * 1024 * 1024;
/** An import is under way. */
var importBusy = false;
/** Signed out: an import cut short by an expired session never settles, so nothing stays busy. */
export function resetTransfer() { importBusy = false; }

function kbFetchRaw(method, url, body, type) {
  var headers = { Authorization: 'Bearer ' + (app.session && app.session.token) };
  if (type) headers['Content-Type'] = type;
  return fetch(url, { method: method, headers: headers, body: body, cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
    if (res.status === 401 && app.session) { sessionExpired(); return new Promise(function () { /* signed out */ }); }
    return res;
  });
}
function kbJsonOf(res) {
  return res.text().then(function (txt) { var d = null; try { d = txt ? JSON.parse(txt) : null; } catch (e) { d = { raw: txt }; } return { status: res.status, ok: res.ok, data: d }; });
}
function kbExport(format) {
  $('kb-export-menu').open = false;
  kbFetchRaw('GET', '/v1/kb/export?format=' + format).then(function (res) {
    if (!res.ok) return kbJsonOf(res).then(function (r) { toast(t('kb.exportFailed', { msg: errMsg(r) }), 'error'); });
    var cd = res.headers.get('Content-Disposition') || '';
    var m = /filename="?([^";]+)"?/i.exec(cd);
    var base = (m ? m[1] : 'knowledge-base.' + format).replace(/\.(json|csv)$/i, '');
    var rev = KB.data && isNum(KB.data.revision) ? '-r' + KB.data.revision : '';
    var name = base + rev + '.' + format;
    return res.blob().then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = el('a', { href: url, download: name });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 30000);
      toast(t('kb.exported', { name: name }));
    });
  }).catch(function () { toast(t('kb.exportFailed', { msg: t('common.network') }), 'error'); });
}
$('kb-export-json').addEventListener('click', function () { kbExport('json'); });
$('kb-export-csv').addEventListener('click', function () { kbExport('csv'); });
document.addEventListener('click', function (ev) {
  var menu = $('kb-export-menu');
  if (menu.open && !menu.contains(ev.target)) menu.open = false;
});
$('kb-export-menu').addEventListener('keydown', function (ev) {
  if (ev.key === 'Escape' && this.open) { this.open = false; this.querySelector('summary').focus(); }
});

function kbToggleImport(open) {
  var panel = $('kb-import');
  panel.hidden = !open;
  $('kb-import-open').setAttribute('aria-expanded', open ? 'true' : 'false');
  $('kb-import-open').classList.toggle('is-on', open);
  if (open) { $('kb-import-file').focus(); panel.scrollIntoView({ block: 'nearest' }); }
  else { $('kb-import-confirm').hidden = true; $('kb-import-open').focus(); }
}
$('kb-import-open').addEventListener('click', function () { kbToggleImport($('kb-import').hidden); });
$('kb-import-close').addEventListener('click', function () { kbToggleImport(false); });
$('kb-import-file').addEventListener('change', function () {
  $('kb-import-file-error').hidden = true;
  $('kb-import-result').hidden = true;
  $('kb-import-confirm').hidden = true;
});
$('kb-import').addEventListener('change', function (ev) { if (ev.target.name === 'kb-import-mode') $('kb-import-confirm').hidden = true; });
function kbImportError(msg) { var p = $('kb-import-file-error'); p.textContent = msg; p.hidden = false; }
/** The content type the server wants for `file`: by its name, its type, else its first byte. */
function kbImportType(file) {
  var name = String(file.name || '').toLowerCase();
  if (/\.json$/.test(name)) return Promise.resolve('application/json');
  if (/\.csv$/.test(name)) return Promise.resolve('text/csv');
  if (/json/.test(file.type)) return Promise.resolve('application/json');
  if (/csv/.test(file.type)) return Promise.resolve('text/csv');
  return file.slice(0, 64).text().then(function (head) {
    var s = head.replace(/^\uFEFF/, '').trim();
    return s.charAt(0) === '{' || s.charAt(0) === '[' ? 'application/json' : /^[\w"]/.test(s) && s.indexOf(',') !== -1 ? 'text/csv' : null;
  });
}
$('kb-import-run').addEventListener('click', function () { kbImport(false); });
function kbImport(confirmed) {
  if (importBusy) return;
  var file = $('kb-import-file').files && $('kb-import-file').files[0];
  $('kb-import-result').hidden = true;
  $('kb-import-file-error').hidden = true;
  if (!file) { kbImportError(t('kb.importNoFile')); $('kb-import-file').focus(); return; }
  if (file.size > KB_MAX_IMPORT) { kbImportError(t('kb.importTooBig')); return; }
  var modeIn = $('kb-import').querySelector('input[name=kb-import-mode]:checked');
  var mode = modeIn ? modeIn.value : 'merge';
  if (mode === 'replace' && !confirmed) {
    kbConfirm(t('kb.importConfirm', { file: file.name }), t('kb.importConfirmSub'), t('kb.importConfirmOk'), 'kb-import-confirm-ok', function () { kbImport(true); }, $('kb-import-confirm'));
    return;
  }
  kbImportType(file).then(function (type) {
    if (!type) { kbImportError(t('kb.importType')); return; }
    importBusy = true;
    setBusy($('kb-import-run'), 'kb.importing');
    return kbFetchRaw('POST', '/v1/kb/import?mode=' + mode, file, type).then(kbJsonOf).then(function (r) {
      var box = clear($('kb-import-result'));
      box.hidden = false;
      if (r.ok && r.data) {
        var n = r.data.imported, m = t('kb.mode.' + (r.data.mode || mode));
        var text = n === 1 ? t('kb.imported1', { file: file.name, mode: m, rev: r.data.revision }) : t('kb.imported', { n: fmtInt(n), file: file.name, mode: m, rev: r.data.revision });
        box.className = 'kb-import-result status-banner is-ok';
        box.setAttribute('data-outcome', 'ok');
        box.setAttribute('data-imported', String(n));
        box.appendChild(el('span', { class: 'ico', 'aria-hidden': 'true' }, [el('span', { text: '✓' })]));
        box.appendChild(el('span', { 'data-testid': 'kb-import-text', text: text }));
        toast(text);
        kbChanged(r.data.revision);
        return;
      }
      var problems = arr(r.data && r.data.problems);
      box.className = 'kb-import-result problems';
      box.setAttribute('data-outcome', 'problems');
      box.removeAttribute('data-imported');
      if (r.status === 422 && problems.length) {
        box.appendChild(el('div', { class: 'problems-head' }, [el('span', { class: 'problems-icon', 'aria-hidden': 'true', text: '!' }),
          el('strong', { 'data-testid': 'kb-import-text', text: problems.length === 1 ? t('kb.importProblems1', { file: file.name }) : t('kb.importProblems', { n: problems.length, file: file.name }) })]));
        var ol = el('ol', { class: 'problems-list', 'data-testid': 'kb-import-problems' });
        problems.slice(0, 200).forEach(function (p) {
          ol.appendChild(el('li', { class: 'problem is-static', 'data-testid': 'kb-import-problem', 'data-path': String(p.path || '') }, [
            el('span', { class: 'problem-path', text: String(p.path || '—') }), el('span', { class: 'problem-msg', text: String(p.message || '') })]));
        });
        box.appendChild(ol);
      } else {
        var msg = r.status === 413 ? t('kb.importTooBig') : r.status === 415 ? t('kb.importType') : errMsg(r);
        box.appendChild(el('div', { class: 'problems-head' }, [el('span', { class: 'problems-icon', 'aria-hidden': 'true', text: '!' }),
          el('strong', { 'data-testid': 'kb-import-text', text: t('kb.importFailed', { msg: msg }) })]));
      }
    });
  }).catch(function () {
    kbImportError(t('kb.importFailed', { msg: t('common.network') }));
  }).then(function () {
    importBusy = false;
    setBusy($('kb-import-run'), null);
  });
}
