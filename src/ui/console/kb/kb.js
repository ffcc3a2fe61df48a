/*
 * Switchboard console — #kb, the knowledge-base section: #kb is the list, #kb/<id> an entry in
 * the editor and #kb/new a new one, with "Try a question" beside both and import / export in
 * the header. The parts: store.js (the entries as loaded), list.js, form.js and editor.js (the
 * entry editor), try.js, transfer.js.
 */
import { $ } from '../shared.js';
import { setBusy } from '../ui.js';
import { KB, kbLoad, renderKbRevision, resetStore } from './store.js';
import { renderKbFilters, renderKbList } from './list.js';
import { ed, kbDirty, kbEdited, renderKbChannels } from './form.js';
import { kbMayLeave, kbOpenEdit, kbOpenList, kbOpenNew, kbShowView } from './editor.js';
import { renderKbTry, resetTry } from './try.js';
import { resetTransfer } from './transfer.js';

export function enter(args, changed) {
  if (changed || KB.state === 'idle' || KB.state === 'error') kbLoad();
  var a = args[0] ? decodeURIComponent(args[0]) : '';
  if (a === 'new') { if (changed || ed.view !== 'new') kbOpenNew(); }
  else if (a) { if (changed || !(ed.view === 'edit' && ed.editId === a)) kbOpenEdit(a); }
  else if (ed.view !== 'list' || changed) kbOpenList();
  renderKbTry();
}

/** Leaving an entry with unsaved changes asks first (the router waits for the answer). */
export function mayLeave(name, args) { return kbMayLeave(name, args); }

/** Signed out: everything is forgotten, and nothing may stay busy (a call cut short by an
 *  expired session never settles). */
export function resetKb() {
  resetStore();
  ed.view = 'list'; ed.editId = null; ed.entry = null; ed.baseline = null; ed.busy = null; ed.leaveTo = null;
  resetTry();
  resetTransfer();
  ['kb-save', 'kb-delete', 'kb-import-run', 'kb-try-submit'].forEach(function (id) { if ($(id)) setBusy($(id), null); });
  kbShowView('list');
}

/** The UI language changed. */
export function renderKbAll() {
  renderKbRevision(); renderKbFilters(); renderKbList(); renderKbTry();
  if (ed.view === 'edit' || ed.view === 'new') { renderKbChannels(); kbEdited(); }
}

/** For window.SwitchboardConsole. */
export function kbState() {
  return { state: KB.state, view: ed.view, id: ed.editId, dirty: kbDirty(), revision: KB.data && KB.data.revision,
    botRevision: KB.data && KB.data.bot_revision };
}
