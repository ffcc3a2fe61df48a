/*
 * Switchboard desk — giving a conversation back to the bot: the confirmation dialog, the
 * give_back frame, and the conversation leaving the desk when the server confirms (it stays open
 * for the customer).
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app, customerName } from './shared.js';
import { send } from './connection.js';
import { renderConvList, setSelected } from './conversations.js';
import { renderHeaderState, renderSelection, updateReplyState } from './chat.js';
import { chosen, forgetAssist } from './assist.js';

var toast = U.toast;
var giveBtn = $('giveback-button'), replyInput = $('reply-input'), gbDlg = $('giveback-dialog');

/** The UI language changed. */
export function relabelGiveBack() { if (gbDlg.open) renderGiveBackDialog(); }
/** Signed out. */
export function resetGiveBack() { if (gbDlg && gbDlg.open) gbDlg.close(); }

function renderGiveBackDialog() {
  var conv = app.convs.get(gbDlg.dataset.conversationId || app.selectedId);
  $('giveback-lead').textContent = t('giveback.lead', { name: customerName(conv && conv.customer) });
}

function openGiveBack() {
  var conv = app.selectedId && app.convs.get(app.selectedId);
  if (!conv || conv.closed || conv.givingBack) return;
  gbDlg.dataset.conversationId = conv.id;
  renderGiveBackDialog();
  if (typeof gbDlg.showModal === 'function') gbDlg.showModal(); else gbDlg.setAttribute('open', '');
  $('giveback-cancel').focus();
}
function closeGiveBack() {
  if (gbDlg.open) { if (typeof gbDlg.close === 'function') gbDlg.close(); else gbDlg.removeAttribute('open'); }
}

giveBtn.addEventListener('click', openGiveBack);
$('giveback-cancel').addEventListener('click', function () { closeGiveBack(); giveBtn.focus(); });
gbDlg.addEventListener('click', function (ev) { if (ev.target === gbDlg) closeGiveBack(); });
$('giveback-form').addEventListener('submit', function (ev) {
  ev.preventDefault();
  var conv = app.convs.get(gbDlg.dataset.conversationId);
  closeGiveBack();
  if (!conv || conv.closed || conv.givingBack) return;
  if (!send({ type: 'give_back', conversation_id: conv.id })) return;
  conv.givingBack = true;
  if (app.selectedId === conv.id) renderHeaderState(conv);
});

/** The conversation went back to the bot: it leaves the desk entirely (it is still open for the customer). */
export function onGivenBack(msg) {
  var conv = app.convs.get(msg.conversation_id);
  forgetAssist(msg.conversation_id);
  if (!conv) return;
  app.convs.delete(conv.id);
  if (gbDlg.open && gbDlg.dataset.conversationId === conv.id) closeGiveBack();
  toast(t('toast.givenBack', { name: customerName(conv.customer) }));
  if (app.selectedId === conv.id) {
    // its draft goes with it
    app.selectedId = null; chosen.sugg = null;
    replyInput.value = ''; U.autosize(replyInput); updateReplyState();
    var next = Array.from(app.convs.values()).find(function (c) { return !c.closed; });
    setSelected(next ? next.id : null);
  }
  renderConvList(); renderSelection();
}
