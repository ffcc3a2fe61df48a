/*
 * Switchboard desk — transferring the open conversation to a colleague or to a skill: the
 * header's Transfer button opens the shared dialog (/ui/common/transfer.js), which sends
 * {"type":"transfer","conversation_id","to","note"}. The agent keeps the conversation (and can
 * still write) while the server looks for someone: "Transfer pending…" until `transferred` (it
 * leaves the desk, like a give-back) or `transfer_failed` (it stays, and the agent is told why).
 * A conversation that came by transfer says who sent it and their note.
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { openTransfer, closeTransfer, transferOpenFor } from '../common/transfer.js';
import { $, app, api, customerName } from './shared.js';
import { send } from './connection.js';
import { renderConvList, setSelected } from './conversations.js';
import { renderHeaderState, renderSelection, updateReplyState } from './chat.js';
import { chosen, forgetAssist } from './assist.js';

var el = U.el, toast = U.toast;
var xferBtn = $('transfer-button'), banner = $('transfer-banner'), fromBox = $('transfer-from'), replyInput = $('reply-input');

/** Signed out. */
export function resetTransfer() { closeTransfer(); }

/** Where a transfer goes, for people: "Bob", or "billing (level 3+)". */
function targetLabel(to, agentName) {
  if (to && to.agent_id) return agentName || t('xfer.aColleague');
  var s = to && to.skills && to.skills[0];
  return s ? t('xfer.skillTarget', { skill: s.name, level: s.level || 1 }) : t('xfer.aColleague');
}

xferBtn.addEventListener('click', function () {
  var conv = app.selectedId && app.convs.get(app.selectedId);
  if (!conv || conv.closed || conv.transfer) return;
  openTransfer({
    api: api,
    conversationId: conv.id,
    customerName: customerName(conv.customer),
    exclude: [app.me.id],
    skills: app.me.skills,
    onSubmit: function (to, note, agent) {
      var c = app.convs.get(conv.id);
      if (!c || c.closed) return true;
      var frame = { type: 'transfer', conversation_id: c.id, to: to };
      if (note) frame.note = note;
      if (!send(frame)) return false;
      c.transfer = { state: 'sending', to: to, label: targetLabel(to, agent && agent.name), at: Date.now() };
      if (app.selectedId === c.id) renderTransferState(c);
      renderConvList();
      return true;
    }
  });
});

/** The header button, the pending banner and where the conversation came from. */
export function renderTransferState(conv) {
  var x = conv && !conv.closed && conv.transfer;
  xferBtn.hidden = !conv || conv.closed;
  xferBtn.disabled = !!x || !!(conv && (conv.wrapping || conv.givingBack));
  xferBtn.lastElementChild.textContent = x ? t('xfer.pendingShort') : t('desk.transfer');
  xferBtn.title = xferBtn.lastElementChild.textContent;
  xferBtn.setAttribute('aria-label', xferBtn.title);
  xferBtn.classList.toggle('is-pending', !!x);
  banner.hidden = !x;
  banner.textContent = '';
  if (x) {
    banner.setAttribute('data-state', x.state);
    banner.appendChild(el('span', { class: 'xfer-banner-spin', 'aria-hidden': 'true' }));
    banner.appendChild(el('span', { class: 'xfer-banner-text' }, [
      el('strong', { text: x.state === 'sending' ? t('xfer.sending') : t('xfer.pending') }),
      ' ',
      el('span', { text: t('xfer.pendingText', { to: x.label }) })
    ]));
  }
  var from = conv && conv.transferFrom;
  fromBox.hidden = !from;
  fromBox.textContent = '';
  if (from) {
    fromBox.appendChild(el('span', { class: 'xfer-from-icon', 'aria-hidden': 'true', text: '⇄' }));
    var body = el('div', { class: 'xfer-from-body' }, [
      el('strong', { 'data-testid': 'transfer-from-who', text: t('xfer.from', { name: from.from_name || t('xfer.aColleague') }) })
    ]);
    if (from.note) body.appendChild(el('p', { class: 'xfer-from-note', 'data-testid': 'transfer-from-note', text: from.note }));
    fromBox.appendChild(body);
  }
}

/** The server is looking for someone to take it. */
export function onTransferRequested(msg) {
  var conv = app.convs.get(msg.conversation_id);
  if (!conv) return;
  conv.transfer = Object.assign({ to: null, label: t('xfer.aColleague') }, conv.transfer || {}, { state: 'pending', task_id: msg.task_id || null });
  if (app.selectedId === conv.id) renderTransferState(conv);
  renderConvList();
}

/** Someone accepted: the conversation leaves this desk (it is theirs now). */
export function onTransferred(msg) {
  var conv = app.convs.get(msg.conversation_id);
  forgetAssist(msg.conversation_id);
  if (!conv) return;
  var label = conv.transfer && conv.transfer.label;
  app.convs.delete(conv.id);
  if (transferOpenFor(conv.id)) closeTransfer();
  toast(t('toast.transferred', { name: customerName(conv.customer), to: label || t('xfer.aColleague') }));
  if (app.selectedId === conv.id) {
    // its draft goes with it
    app.selectedId = null; chosen.sugg = null;
    replyInput.value = ''; U.autosize(replyInput); updateReplyState();
    var next = Array.from(app.convs.values()).find(function (c) { return !c.closed; });
    setSelected(next ? next.id : null);
  }
  renderConvList(); renderSelection();
}

/** Nobody took it (declined, timed out, closed, nobody available): it stays here. */
export function onTransferFailed(msg) {
  var conv = app.convs.get(msg.conversation_id);
  var label = conv && conv.transfer && conv.transfer.label;
  var reason = ['declined', 'timeout', 'closed', 'unavailable'].indexOf(msg.reason) !== -1 ? msg.reason : 'other';
  toast(t('toast.transferFailed.' + reason, { to: label || t('xfer.aColleague'), name: customerName(conv && conv.customer) }), reason === 'closed' ? null : 'error');
  if (!conv) return;
  conv.transfer = null;
  if (app.selectedId === conv.id) { renderTransferState(conv); renderHeaderState(conv); }
  renderConvList();
}

/**
 * An error while a transfer was being asked for is the transfer's (unknown agent, not the
 * owner, one already pending…): the conversation is not transferring after all — except for
 * `transfer_pending`, which says one already is. True when the error was the transfer's.
 */
export function onTransferError(msg) {
  var conv = null;
  if (msg.conversation_id) conv = app.convs.get(msg.conversation_id) || null;
  if (!conv) app.convs.forEach(function (c) { if (c.transfer && c.transfer.state === 'sending') conv = conv || c; });
  var mine = msg.code === 'transfer_pending' || msg.code === 'unknown_agent' || (conv && conv.transfer && conv.transfer.state === 'sending' && msg.code !== 'rate_limited');
  if (!mine || !conv || !conv.transfer) return msg.code === 'transfer_pending' || msg.code === 'unknown_agent';
  if (msg.code === 'transfer_pending') conv.transfer.state = 'pending';
  else conv.transfer = null;
  if (app.selectedId === conv.id) renderTransferState(conv);
  renderConvList();
  return true;
}
