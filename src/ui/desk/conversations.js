/*
 * Switchboard desk — the conversations the desk holds (left pane): what the server says about
 * them (assigned, message, wrapped up), the list (active, then "recently closed") with unread
 * counts, which one is open, and the document title's count.
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app, avatarNode, customerName } from './shared.js';
import { setChannel } from './channels.js';
import { offerCount, offerInfoFor, removeOffer, renderOffers } from './offers.js';
import { appendNode, refreshNode, renderSelection, updateReplyState } from './chat.js';
import { chosen, renderReplySugg } from './assist.js';
import { noteChannel } from './customer.js';

var el = U.el;
var convList = $('conv-list'), convEmpty = $('conv-empty'), convsCount = $('convs-count');
var closedBox = $('closed-box'), closedList = $('closed-list'), closedCount = $('closed-count');
var replyInput = $('reply-input');

/** Signed out: the lists are emptied. */
export function clearConvLists() { convList.textContent = ''; closedList.textContent = ''; }

/** "(3) Switchboard Desk": offers plus unread messages. */
export function updateTitle() {
  var n = offerCount();
  app.convs.forEach(function (c) { if (!c.closed) n += c.unread; });
  document.title = (n > 0 ? '(' + n + ') ' : '') + t('desk.docTitle');
}

export function newConv(id) {
  return {
    id: id, task_id: null, customer: null, context: null, messages: [], byId: new Set(), unread: 0, closed: false, resolution: null,
    wrapping: false, givingBack: false, ctxOpen: false,
    transfer: null,       // a transfer asked for here: {state: 'sending'|'pending', to, label}
    transferFrom: null,   // how it came here: {from_agent_id, from_name, note}
    mode: 'reply'         // the composer: 'reply' (to the customer) or 'note' (internal)
  };
}

/** Who wrote a message other than the customer or the bot, when the server says (notes, whispers, a supervisor's replies). */
function authorOf(m) {
  return m.author_name || m.agent_name || m.from_name || m.supervisor_name || m.name || null;
}

function normalize(m) {
  return {
    id: m.id || null, conversation_id: m.conversation_id, from: m.from || 'system', channel: m.channel || null,
    text: m.text == null ? '' : String(m.text), sent_at: m.sent_at || new Date().toISOString(), pending: false,
    agent_id: m.agent_id || m.author_id || m.from_agent_id || null, author: authorOf(m), role: m.role || m.author_role || null
  };
}

export function mergeHistory(conv, history) {
  history.forEach(function (raw) {
    var m = normalize(raw);
    if (m.id && conv.byId.has(m.id)) return;
    if (m.id) conv.byId.add(m.id);
    conv.messages.push(m);
  });
}

export function onAssigned(msg) {
  var id = msg.conversation_id;
  if (msg.task_id) removeOffer(msg.task_id);
  renderOffers();
  var conv = app.convs.get(id) || newConv(id);
  conv.task_id = msg.task_id || conv.task_id;
  conv.customer = msg.customer || conv.customer;
  conv.context = msg.context || conv.context || (msg.task_id && offerInfoFor(msg.task_id) && offerInfoFor(msg.task_id).context) || null;
  conv.closed = false; conv.resolution = null; conv.wrapping = false; conv.givingBack = false; conv.transfer = null;
  var offered = msg.task_id && offerInfoFor(msg.task_id);
  conv.transferFrom = msg.transfer || (offered && offered.transfer) || conv.transferFrom || null;
  mergeHistory(conv, msg.history || []);
  app.convs.set(id, conv);
  // A half-written reply keeps its conversation: the new one waits in the list, unread.
  var current = app.selectedId && app.convs.get(app.selectedId);
  if (current && current.id !== id && !current.closed && replyInput.value.trim()) {
    conv.unread = (conv.unread || 0) + 1;
    renderConvList(); renderSelection();
    return;
  }
  setSelected(id);
  conv.unread = 0;
  renderConvList(); renderSelection();
  replyInput.focus();
}

/** The reply (or note: `from`) sent from here that the server's echo confirms. */
function findPending(conv, text, from) {
  for (var i = 0; i < conv.messages.length; i++) {
    var m = conv.messages[i];
    if (m.pending && m.from === from && m.text === text) return m;
  }
  for (var j = 0; j < conv.messages.length; j++) { if (conv.messages[j].pending && conv.messages[j].from === from) return conv.messages[j]; }
  return null;
}
/**
 * A reply or note written by me (not by the agent before a transfer, nor a supervisor who
 * joined). Messages that name their writer say it; one that does not is mine if it was sent
 * from here, or — a reply, as desks always assumed — unless it arrived live without being one
 * of mine (`foreign`: a supervisor who barged in). A note that names nobody is nobody's.
 */
export function isMine(m) {
  if (m.agent_id && app.me.id) return m.agent_id === app.me.id;
  if (m.mine) return true;
  return m.from === 'agent' && !m.foreign;
}

export function onMessage(raw) {
  var conv = app.convs.get(raw.conversation_id);
  if (!conv) return; // not one of ours (e.g. already closed and pruned)
  var m = normalize(raw);
  if (m.id && conv.byId.has(m.id)) return;
  if ((m.from === 'agent' || m.from === 'note') && (!m.agent_id || isMine(m))) {
    var p = findPending(conv, m.text, m.from);
    if (!p && !m.agent_id) m.foreign = true;   // not sent from here and names nobody: someone else's
    if (p) {
      clearTimeout(p.timer);
      p.pending = false; p.failed = false; p.id = m.id; p.sent_at = m.sent_at; p.channel = m.channel;
      if (m.id) conv.byId.add(m.id);
      if (app.selectedId === conv.id) refreshNode(p);
      renderConvList();
      return;
    }
  }
  if (m.id) conv.byId.add(m.id);
  conv.messages.push(m);
  var visible = app.selectedId === conv.id && !document.hidden;
  if (!visible && (m.from === 'customer' || m.from === 'whisper')) conv.unread++;
  if (app.selectedId === conv.id) {
    appendNode(conv, m);
    if (m.from === 'customer' && m.channel) {
      setChannel($('conv-channel'), channelOf(conv), 'conversation-channel');
      setChannel($('cust-channel'), channelOf(conv), 'customer-channel-badge');
    }
  }
  noteChannel(conv, m);
  renderConvList();
}

export function onWrappedUp(msg) {
  var conv = app.convs.get(msg.conversation_id);
  if (!conv) return;
  conv.closed = true; conv.wrapping = false; conv.unread = 0;
  conv.resolution = msg.resolution || conv.resolution;
  renderConvList();
  if (app.selectedId === conv.id) renderSelection();
}

export function lastMessage(conv) {
  for (var i = conv.messages.length - 1; i >= 0; i--) if (conv.messages[i].from !== 'system') return conv.messages[i];
  return conv.messages[conv.messages.length - 1] || null;
}
export function channelOf(conv) {
  for (var i = conv.messages.length - 1; i >= 0; i--) {
    if (conv.messages[i].from === 'customer' && conv.messages[i].channel) return conv.messages[i].channel;
  }
  var any = conv.messages.find(function (m) { return m.channel; });
  return any ? any.channel : 'web';
}

function buildConvItem(conv) {
  var name = customerName(conv.customer);
  var last = lastMessage(conv);
  var prefix = !last ? '' : last.from === 'agent' && isMine(last) ? t('desk.you') + ': ' : last.from === 'note' ? t('note.prefix') + ': '
    : last.from === 'whisper' ? t('whisper.prefix') + ': ' : '';
  var preview = last ? prefix + last.text : t('desk.noMessages');
  var row2 = el('div', { class: 'conv-row' }, [el('span', { class: 'conv-preview', text: preview })]);
  if (conv.transfer && !conv.closed) row2.insertBefore(el('span', { class: 'badge badge-accent conv-xfer', 'data-testid': 'conversation-transfer-pending', text: t('xfer.pendingShort') }), row2.firstChild);
  if (conv.unread > 0 && !conv.closed) row2.appendChild(el('span', { class: 'unread', 'data-testid': 'unread-count', 'aria-label': t('conv.unread', { n: conv.unread }), text: String(conv.unread) }));
  var btn = el('button', {
    type: 'button', class: 'conv-item' + (conv.unread && !conv.closed ? ' has-unread' : ''),
    'data-testid': 'conversation-item', 'data-conversation-id': conv.id,
    'aria-current': app.selectedId === conv.id ? 'true' : 'false',
    onclick: function () { select(conv.id); }
  }, [
    avatarNode(name),
    el('div', { class: 'conv-main' }, [
      el('div', { class: 'conv-row' }, [
        el('span', { class: 'conv-name', text: name }),
        el('span', { class: 'conv-time', text: last ? U.formatTime(last.sent_at) : '' })
      ]),
      row2
    ])
  ]);
  return el('li', {}, [btn]);
}

export function renderConvList() {
  var active = [], closed = [];
  app.convs.forEach(function (c) { (c.closed ? closed : active).push(c); });
  var byRecent = function (a, b) {
    var la = lastMessage(a), lb = lastMessage(b);
    return (lb ? U.toDate(lb.sent_at).getTime() : 0) - (la ? U.toDate(la.sent_at).getTime() : 0);
  };
  active.sort(byRecent); closed.sort(byRecent);
  convList.textContent = '';
  active.forEach(function (c) { convList.appendChild(buildConvItem(c)); });
  closedList.textContent = '';
  closed.forEach(function (c) { closedList.appendChild(buildConvItem(c)); });
  convEmpty.hidden = active.length > 0;
  convsCount.textContent = String(active.length);
  closedBox.hidden = closed.length === 0;
  closedCount.textContent = String(closed.length);
  updateTitle();
}

/**
 * Changes the selected conversation. The reply box is per conversation: what was typed (and
 * the suggestion it came from) stays with its conversation and comes back with it, so a
 * draft never goes to another customer.
 */
export function setSelected(id) {
  if (id === app.selectedId) return;
  var prev = app.selectedId && app.convs.get(app.selectedId);
  if (prev) {
    prev.draft = replyInput.value;
    prev.sugg = chosen.sugg && chosen.sugg.conversation_id === prev.id ? chosen.sugg : null;
  }
  app.selectedId = id;
  var next = id && app.convs.get(id);
  replyInput.value = (next && next.draft) || '';
  chosen.sugg = (next && next.sugg) || null;
  U.autosize(replyInput);
  updateReplyState();
  renderReplySugg();
}

function select(id) {
  setSelected(id);
  var conv = app.convs.get(id);
  if (conv) conv.unread = 0;
  renderConvList(); renderSelection();
  if (conv && !conv.closed) replyInput.focus();
}
