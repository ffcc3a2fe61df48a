/*
 * Switchboard desk — the open conversation (centre pane): its header (state, give back, wrap
 * up), the transcript (grouped bubbles, day and channel-change dividers, pending and failed
 * replies with Retry) and the reply box (Enter sends; typing notices). renderSelection() redraws
 * the centre and the right pane for the conversation open.
 */
import { i18n, t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app, BOT_SVG, avatarNode, customerName, resLabel } from './shared.js';
import { channelBadge, channelIcon, channelLabel, cjkSpace, knownChannel, setChannel } from './channels.js';
import { isOpen, send, sendQuietly } from './connection.js';
import { channelOf, renderConvList } from './conversations.js';
import { renderHandoff } from './handoff.js';
import { chosen, renderAssist, renderReplySugg } from './assist.js';
import { renderContext } from './customer.js';

var el = U.el, toast = U.toast;
var PENDING_TIMEOUT_MS = 12000;
var TYPING_SEND_EVERY_MS = 2500;
var centerEmpty = $('center-empty'), centerEmptyText = $('center-empty-text');
var convView = $('conversation'), transcript = $('transcript'), tscroll = $('transcript-scroll');
var replyForm = $('reply-form'), replyInput = $('reply-input'), replySend = $('reply-send');
var wrapForm = $('wrapup-form'), wrapSelect = $('wrapup-select'), wrapBtn = $('wrapup-button');
var closedBanner = $('closed-banner'), giveBtn = $('giveback-button');
var lastTypingSent = 0;

/** Signed out: the next agent in this browser must not find this one's draft. */
export function clearReply() { replyInput.value = ''; U.autosize(replyInput); }

function msgNode(m) {
  var time = el('time', { datetime: U.toDate(m.sent_at).toISOString(), text: U.formatTime(m.sent_at) });
  var node;
  if (m.from === 'system') {
    node = el('li', { class: 't-msg t-system', 'data-testid': 'transcript-message', 'data-from': 'system' }, [
      el('span', { class: 't-note' }, [el('span', { text: m.text }), time])
    ]);
  } else {
    var conv = app.convs.get(app.selectedId);
    var cname = customerName(conv && conv.customer);
    var who, av;
    if (m.from === 'customer') { who = cname; av = avatarNode(cname); }
    else if (m.from === 'bot') { who = t('desk.bot'); av = el('span', { class: 'avatar', 'aria-hidden': 'true' }); av.innerHTML = BOT_SVG; }
    else { who = t('desk.you'); av = avatarNode(app.me.name || 'Me'); }
    var meta = el('div', { class: 't-meta' }, [time]);
    if (m.channel && m.from === 'customer') meta.appendChild(channelBadge(m.channel));
    if (m.pending) meta.appendChild(el('span', { text: '· ' + t('desk.sending') }));
    if (m.failed) {
      meta.appendChild(el('span', { text: '· ' + t('desk.notSent') }));
      meta.appendChild(el('button', { type: 'button', class: 'btn-link', text: t('desk.retry'), onclick: function () { retry(m); } }));
    }
    node = el('li', { class: 't-msg t-' + (m.from === 'customer' || m.from === 'bot' || m.from === 'agent' ? m.from : 'customer') + (m.pending ? ' is-pending' : ''), 'data-testid': 'transcript-message', 'data-from': m.from }, [
      av,
      el('div', { class: 't-col' }, [
        el('span', { class: 't-author', text: who }),
        el('div', { class: 't-bubble', 'data-testid': 'transcript-text', text: m.text }),
        meta
      ])
    ]);
  }
  if (m.id) node.setAttribute('data-id', m.id);
  node.setAttribute('data-state', m.pending ? 'pending' : m.failed ? 'failed' : 'sent');
  m.node = node;
  return node;
}

/** Where the customer changed channel: customer message index -> the channel they left. */
function channelSwitches(msgs) {
  var out = {}, last = null;
  msgs.forEach(function (m, i) {
    if (m.from !== 'customer' || !m.channel) return;
    if (last && last !== m.channel) out[i] = last;
    last = m.channel;
  });
  return out;
}

function switchNode(from, to) {
  var fromL = channelLabel(from), toL = channelLabel(to);
  var text = t('channel.switch', { from: fromL, to: toL });
  if (i18n.lang === 'zh-CN') text = cjkSpace(text);
  return el('li', {
    class: 't-switch', 'data-testid': 'channel-switch', 'data-from-channel': from, 'data-to-channel': to,
    title: t('channel.switchTitle', { from: fromL, to: toL })
  }, [el('span', { class: 't-switch-pill chan-' + (knownChannel(to) || 'other') }, [channelIcon(to), el('span', { text: text })])]);
}

function regroup(conv) {
  transcript.querySelectorAll('.t-day, .t-switch').forEach(function (n) { n.remove(); });
  var prev = null, msgs = conv.messages;
  var switches = channelSwitches(msgs);
  var side = function (m) { return m.from === 'customer' ? 'l' : (m.from === 'system' ? 's' : 'r' + m.from); };
  msgs.forEach(function (m, i) {
    if (!m.node) return;
    if (!prev || U.dayKey(prev.sent_at) !== U.dayKey(m.sent_at)) {
      transcript.insertBefore(el('li', { class: 't-day', 'aria-hidden': 'true', text: U.formatDay(m.sent_at) }), m.node);
      prev = null;
    }
    if (switches[i]) {
      transcript.insertBefore(switchNode(switches[i], m.channel), m.node);
      prev = null;
    }
    var next = msgs[i + 1];
    var same = function (a, b) {
      return a && b && side(a) === side(b) && a.from !== 'system' && U.dayKey(a.sent_at) === U.dayKey(b.sent_at) &&
        !(b === next && switches[i + 1]);
    };
    m.node.classList.toggle('group-start', !same(prev, m));
    m.node.classList.toggle('group-end', !same(m, next));
    var author = m.node.querySelector('.t-author');
    if (author) author.hidden = same(prev, m);
    prev = m;
  });
}

function nearBottom() { return tscroll.scrollHeight - tscroll.scrollTop - tscroll.clientHeight < 140; }
function toBottom(force) { if (force || nearBottom()) requestAnimationFrame(function () { tscroll.scrollTop = tscroll.scrollHeight; }); }

export function appendNode(conv, m) {
  var stick = nearBottom() || m.from === 'agent';
  transcript.appendChild(msgNode(m));
  regroup(conv);
  toBottom(stick);
}
export function refreshNode(m) {
  var conv = app.convs.get(app.selectedId);
  if (!m.node || !conv) return;
  var old = m.node;
  old.replaceWith(msgNode(m));
  regroup(conv);
}

export function renderHeaderState(conv) {
  var state = $('conv-state');
  state.textContent = conv.closed ? t('desk.closedAs', { res: resLabel(conv.resolution || 'resolved') }) : t('desk.active');
  state.className = 'conv-state badge ' + (conv.closed ? '' : 'badge-ok');
  wrapForm.hidden = conv.closed;
  wrapBtn.disabled = conv.wrapping || conv.givingBack;
  giveBtn.hidden = conv.closed;
  giveBtn.disabled = conv.wrapping || conv.givingBack;
  giveBtn.lastElementChild.textContent = conv.givingBack ? t('desk.givingBack') : t('desk.giveBack');
  wrapBtn.lastElementChild.textContent = conv.wrapping ? t('desk.wrappingUp') : t('desk.wrapUp');
}

export function renderSelection() {
  var conv = app.selectedId && app.convs.get(app.selectedId);
  if (!conv) {
    convView.hidden = true;
    centerEmpty.hidden = false;
    var anyActive = Array.from(app.convs.values()).some(function (c) { return !c.closed; });
    centerEmptyText.textContent = anyActive ? t('desk.emptyPick') :
      app.me.status === 'available' ? t('desk.emptyAvailable') : app.me.status === 'away' ? t('desk.emptyAway') : t('desk.emptyOffline');
    renderContext(null);
    renderHandoff(null); renderAssist(null); renderReplySugg();
    return;
  }
  centerEmpty.hidden = true;
  convView.hidden = false;
  var name = customerName(conv.customer);
  $('conv-name').textContent = name;
  var av = $('conv-avatar');
  av.textContent = U.initials(name); av.style.background = U.avatarColor(name);
  setChannel($('conv-channel'), channelOf(conv), 'conversation-channel');
  renderHeaderState(conv);
  if (conv.closed) {
    closedBanner.hidden = false;
    closedBanner.classList.toggle('is-unresolved', conv.resolution === 'unresolved');
    closedBanner.textContent = t('desk.closedBanner', { res: resLabel(conv.resolution || 'resolved') });
  } else closedBanner.hidden = true;
  replyInput.disabled = conv.closed;
  replyForm.classList.toggle('is-disabled', conv.closed);
  replyInput.placeholder = conv.closed ? t('desk.replyClosed') : t('desk.replyPlaceholder');
  updateReplyState();

  transcript.textContent = '';
  conv.messages.forEach(function (m) { transcript.appendChild(msgNode(m)); });
  regroup(conv);
  renderHandoff(conv);
  toBottom(true);
  renderContext(conv);
  renderAssist(conv);
  renderReplySugg();
}

/* ---------------------------------------------------------------- reply */
export function updateReplyState() { replySend.disabled = !replyInput.value.trim() || replyInput.disabled; }

function sendPending(conv, m) {
  clearTimeout(m.timer);
  var frame = { type: 'message', conversation_id: conv.id, text: m.text };
  if (m.suggestion_id) frame.suggestion_id = m.suggestion_id;
  if (!send(frame)) { m.pending = false; m.failed = true; return false; }
  m.timer = setTimeout(function () {
    if (m.pending) { m.pending = false; m.failed = true; if (app.selectedId === conv.id) refreshNode(m); }
  }, PENDING_TIMEOUT_MS);
  return true;
}

function retry(m) {
  var conv = app.convs.get(app.selectedId);
  if (!conv || conv.closed) return;
  m.failed = false; m.pending = true;
  sendPending(conv, m);
  refreshNode(m);
}

function submitReply() {
  var conv = app.convs.get(app.selectedId);
  var text = replyInput.value.replace(/\s+$/, '');
  if (!conv || conv.closed || !text.trim()) return;
  var m = { id: null, conversation_id: conv.id, from: 'agent', channel: null, text: text, sent_at: new Date().toISOString(), pending: true };
  if (!isOpen()) { toast(t('toast.notConnected'), 'error'); return; }
  // The suggestion the text came from (even if edited since) goes with it, once.
  if (chosen.sugg && chosen.sugg.conversation_id === conv.id) m.suggestion_id = chosen.sugg.id;
  var hadSugg = !!chosen.sugg;
  chosen.sugg = null;
  renderReplySugg();
  if (hadSugg) renderAssist(conv);
  conv.messages.push(m);
  sendPending(conv, m);
  appendNode(conv, m);
  replyInput.value = '';
  U.autosize(replyInput);
  updateReplyState();
  renderConvList();
}

replyForm.addEventListener('submit', function (ev) { ev.preventDefault(); submitReply(); });
replyInput.addEventListener('keydown', function (ev) {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) { ev.preventDefault(); submitReply(); }
});
replyInput.addEventListener('input', function () {
  U.autosize(replyInput);
  updateReplyState();
  if (chosen.sugg && !replyInput.value.trim()) { chosen.sugg = null; renderReplySugg(); renderAssist(app.convs.get(app.selectedId)); }
  var now = Date.now();
  if (app.selectedId && replyInput.value.trim() && isOpen() && now - lastTypingSent > TYPING_SEND_EVERY_MS) {
    lastTypingSent = now;
    sendQuietly({ type: 'typing', conversation_id: app.selectedId });
  }
});

wrapForm.addEventListener('submit', function (ev) {
  ev.preventDefault();
  var conv = app.convs.get(app.selectedId);
  if (!conv || conv.closed || conv.wrapping) return;
  if (!send({ type: 'wrap_up', conversation_id: conv.id, resolution: wrapSelect.value })) return;
  conv.wrapping = true;
  conv.resolution = wrapSelect.value;
  renderHeaderState(conv);
});

document.addEventListener('visibilitychange', function () {
  if (!document.hidden && app.selectedId && app.convs.get(app.selectedId)) { app.convs.get(app.selectedId).unread = 0; renderConvList(); }
});
