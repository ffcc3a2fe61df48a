/*
 * Switchboard console — opening, saving and leaving knowledge-base entries: which view #kb
 * shows (the list, an entry, a new one, or "no such entry"), GET / POST / PUT / DELETE
 * /v1/kb/entries (a save over someone else's newer version is refused and offers theirs), the
 * confirmation bar, Ctrl+S, and the question before unsaved changes are left behind.
 */
import { t } from '../../common/i18n.js';
import { el, toast } from '../../common/util.js';
import { $, app, api, errMsg } from '../shared.js';
import { arr, clear, emptyState, setBusy } from '../ui.js';
import { KB, kbChanged, kbEntries, kbFind, kbHash, kbText, kbTitle } from './store.js';
import { renderKbList } from './list.js';
import { ed, kbAutosize, kbClearProblems, kbCollect, kbDirty, kbEdited, kbFill, kbFillDatalists, kbForm, kbShowProblems, renderKbEditorHead } from './form.js';

/* --------------------------------------------------------------- views */
export function kbShowView(view) {
  ed.view = view;
  $('kb-list-view').hidden = view !== 'list';
  kbForm.hidden = view !== 'edit' && view !== 'new';
  $('kb-missing').hidden = view !== 'missing';
  $('section-kb').setAttribute('data-view', view);
  if (view === 'list' || view === 'missing') { ed.baseline = null; ed.entry = null; kbHideConfirm(); }
}
export function kbOpenList() {
  kbShowView('list');
  ed.editId = null;
  renderKbList();
}
export function kbOpenNew() {
  ed.editId = null;
  kbShowView('new');
  kbFillDatalists();
  kbFill({ id: '', status: 'published' });
  ed.entry = null;
  renderKbEditorHead();
  setTimeout(function () { $('kb-f-id').focus(); }, 0);
}
export function kbOpenEdit(id) {
  ed.editId = id;
  var known = kbFind(id);
  kbShowView('edit');
  kbFillDatalists();
  kbForm.setAttribute('aria-busy', 'true');
  if (known) kbFill(known); else { kbFill({ id: id }); $('kb-ed-title').textContent = t('kb.loadingEntry'); }
  var focusHead = function () { if (document.activeElement === document.body || !kbForm.contains(document.activeElement)) $('kb-ed-title').focus({ preventScroll: true }); };
  setTimeout(focusHead, 0);
  api('GET', '/v1/kb/entries/' + encodeURIComponent(id)).then(function (r) {
    if (ed.editId !== id || ed.view !== 'edit') return;
    if (r.ok && r.data) { if (!kbDirty()) kbFill(r.data); else ed.entry = r.data; renderKbEditorHead(); }
    else if (r.status === 404) kbShowMissing(id);
    else if (!known) toast(errMsg(r), 'error');
  }).catch(function () { if (!known) toast(t('common.network'), 'error'); })
    .then(function () { kbForm.removeAttribute('aria-busy'); });
}
function kbShowMissing(id) {
  kbShowView('missing');
  var box = clear($('kb-missing'));
  box.appendChild(emptyState('empty', t('kb.missing', { id: id }), t('kb.missingText'),
    el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('kb.back'), onclick: function () { location.hash = '#kb'; } })));
}

/* ------------------------------------------------------------- actions */
function kbSave() {
  if (ed.busy || (ed.view !== 'edit' && ed.view !== 'new')) return;
  var isNew = ed.view === 'new';
  if (!isNew && !kbDirty()) { toast(t('kb.noChanges')); return; }
  var body = kbCollect();
  kbHideConfirm();
  ed.busy = 'save';
  setBusy($('kb-save'), 'kb.saving');
  kbForm.setAttribute('aria-busy', 'true');
  var url = isNew ? '/v1/kb/entries' : '/v1/kb/entries/' + encodeURIComponent(ed.editId);
  // the version this form was loaded from: a save over someone else's newer one is refused (412)
  var version = !isNew && ed.entry && ed.entry.etag;
  api(isNew ? 'POST' : 'PUT', url, body, version ? { 'If-Match': version } : undefined).then(function (r) {
    if (r.ok) {
      var rev = r.data && r.data.revision, id = (r.data && r.data.id) || body.id;
      var saved = Object.assign({}, body, { updated_at: new Date().toISOString(), updated_by: app.session && (app.session.agent_id || app.session.username), etag: r.data && r.data.etag });
      toast(t(isNew ? 'kb.created' : 'kb.saved', { title: kbText(body.title) || id, rev: rev }));
      kbClearProblems();
      // the list knows it at once; GET /v1/kb/entries follows
      if (KB.data) {
        KB.data.entries = kbEntries().filter(function (x) { return x.id !== id; }).concat([saved]);
      }
      ed.editId = id;
      ed.view = 'edit';
      kbFill(saved);
      if (isNew) history.replaceState(null, '', kbHash(id));
      kbChanged(rev);
      kbFillDatalists();
      api('GET', '/v1/kb/entries/' + encodeURIComponent(id)).then(function (g) {
        if (g.ok && g.data && ed.editId === id && ed.view === 'edit' && !kbDirty()) kbFill(g.data);
      }).catch(function () { /* the form already shows what was saved */ });
      return;
    }
    if (r.status === 412) { kbChangedElsewhere(r); return; }
    var problems = arr(r.data && r.data.problems);
    if (r.status === 422 && problems.length) kbShowProblems(problems);
    else if (r.status === 409) kbShowProblems([{ path: 'id', message: t('kb.err.exists', { id: body.id }) }]);
    else toast(t('kb.saveFailed', { msg: errMsg(r) }), 'error');
  }).catch(function () { toast(t('kb.saveFailed', { msg: t('common.network') }), 'error'); })
    .then(function () {
      ed.busy = null;
      setBusy($('kb-save'), null);
      kbForm.removeAttribute('aria-busy');
      renderKbEditorHead();
    });
}
/**
 * A save or delete was refused because someone else saved the entry after this form loaded it
 * (412): the edits stay in the form, and the bar offers to load the other version instead.
 */
function kbChangedElsewhere(r) {
  var id = ed.editId;
  var gone = !(r && r.data && r.data.etag);
  kbConfirm(gone ? t('kb.err.gone') : t('kb.err.changed'), gone ? t('kb.err.goneSub') : t('kb.err.changedSub'), gone ? t('kb.err.toList') : t('kb.err.loadLatest'), 'kb-load-latest', function () {
    api('GET', '/v1/kb/entries/' + encodeURIComponent(id)).then(function (g) {
      if (g.ok && g.data && ed.editId === id) { kbFill(g.data); kbClearProblems(); toast(t('kb.loadedLatest')); }
      else if (g.status === 404) { ed.baseline = null; location.hash = '#kb'; }
    });
  });
}
kbForm.addEventListener('submit', function (ev) { ev.preventDefault(); kbSave(); });
kbForm.addEventListener('input', function (ev) {
  // a field (and its group) loses its error as soon as it changes
  [ev.target.closest('.field'), ev.target.closest('.kb-channel'), ev.target.closest('.kb-sec')].forEach(function (f) {
    if (!f || !f.classList.contains('has-error')) return;
    f.classList.remove('has-error');
    Array.prototype.forEach.call(f.children, function (p) { if (p.hasAttribute('data-kb-error')) { p.hidden = true; p.textContent = ''; } });
    if (f.classList.contains('field')) f.querySelectorAll('[data-kb-error]').forEach(function (p) { p.hidden = true; p.textContent = ''; });
  });
  ev.target.removeAttribute('aria-invalid');
  if (ev.target.tagName === 'TEXTAREA') kbAutosize(ev.target);
  kbEdited();
});
kbForm.addEventListener('change', kbEdited);
document.addEventListener('keydown', function (ev) {
  if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && (ev.key === 's' || ev.key === 'S') && app.section === 'kb' && !kbForm.hidden) {
    ev.preventDefault();
    kbSave();
  }
});
$('kb-back').addEventListener('click', function () { location.hash = '#kb'; });

export function kbConfirm(text, sub, okLabel, okTestId, onOk, box) {
  box = box || $('kb-confirm');
  clear(box);
  var tid = box.id + '-title', did = box.id + '-desc';
  box.setAttribute('role', 'alertdialog');
  box.setAttribute('aria-labelledby', tid);
  if (sub) box.setAttribute('aria-describedby', did); else box.removeAttribute('aria-describedby');
  box.appendChild(el('div', {}, [el('strong', { id: tid, 'data-testid': 'kb-confirm-text', text: text }), sub ? el('div', { id: did, class: 'confirm-sub', text: sub }) : null]));
  var ok = el('button', { type: 'button', class: 'btn btn-danger btn-sm', 'data-testid': okTestId, text: okLabel, onclick: function () { box.hidden = true; onOk(); } });
  var cancel = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'kb-confirm-cancel', text: box.id === 'kb-confirm' && okTestId === 'kb-leave-ok' ? t('kb.keepEditing') : t('common.cancel'),
    onclick: function () { box.hidden = true; ed.leaveTo = null; } });
  box.appendChild(el('div', { class: 'confirm-actions' }, [cancel, ok]));
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
  cancel.focus();
}
function kbHideConfirm() { $('kb-confirm').hidden = true; ed.leaveTo = null; }

$('kb-delete').addEventListener('click', function () {
  var e = ed.entry || { id: ed.editId };
  kbConfirm(t('kb.confirmDelete', { title: kbTitle(e), id: e.id }), t('kb.confirmDeleteSub'), t('kb.confirmDeleteOk'), 'kb-delete-confirm', kbDelete);
});
function kbDelete() {
  var id = ed.editId;
  if (!id || ed.busy) return;
  ed.busy = 'delete';
  setBusy($('kb-delete'), 'kb.deleting');
  var version = ed.entry && ed.entry.etag;
  api('DELETE', '/v1/kb/entries/' + encodeURIComponent(id), undefined, version ? { 'If-Match': version } : undefined).then(function (r) {
    if (r.status === 412 && r.data && r.data.etag) { kbChangedElsewhere(r); return; }
    if (r.ok || r.status === 404 || r.status === 412) {
      if (r.ok) toast(t('kb.deleted', { id: id, rev: r.data && r.data.revision }));
      if (KB.data) KB.data.entries = kbEntries().filter(function (x) { return x.id !== id; });
      ed.baseline = null;   // nothing left to lose: the list opens without asking
      location.hash = '#kb';
      kbChanged(r.data && r.data.revision);
    } else toast(t('kb.deleteFailed', { msg: errMsg(r) }), 'error');
  }).catch(function () { toast(t('kb.deleteFailed', { msg: t('common.network') }), 'error'); })
    .then(function () { ed.busy = null; setBusy($('kb-delete'), null); });
}

/**
 * route() asks before it leaves an editor with unsaved changes: the address goes back to the
 * editor and a bar offers to discard them. True when the navigation may go on.
 */
export function kbMayLeave(name, args) {
  if (app.section !== 'kb' || (ed.view !== 'edit' && ed.view !== 'new') || !kbDirty()) return true;
  var a = args[0] ? decodeURIComponent(args[0]) : '';
  if (name === 'kb' && ((ed.view === 'new' && a === 'new') || (ed.view === 'edit' && a === ed.editId))) return true;
  var target = location.hash || '#live';
  // back to the editor's address as a new history entry: replacing the current one would
  // overwrite where Back came from
  history.pushState(null, '', ed.view === 'new' ? '#kb/new' : kbHash(ed.editId));
  ed.leaveTo = target;
  kbConfirm(t('kb.leave'), t('kb.leaveSub'), t('kb.leaveOk'), 'kb-leave-ok', function () {
    var to = ed.leaveTo;
    ed.leaveTo = null;
    ed.baseline = null;   // the edits are given up: route() lets the navigation through
    location.hash = to;
  });
  return false;
}
window.addEventListener('beforeunload', function (ev) {
  if (app.session && app.section === 'kb' && kbDirty()) { ev.preventDefault(); ev.returnValue = ''; }
});
