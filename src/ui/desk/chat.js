/*
 * Switchboard desk — the open conversation (centre pane): its header (state, transfer, give
 * back, wrap up), the transcript (grouped bubbles, day and channel-change dividers, pending and
 * failed replies with Retry; internal notes and supervisors' whispers drawn apart from what the
 * customer sees) and the composer (Reply to the customer, or an Internal note; Enter sends;
 * typing notices for replies only). renderSelection() redraws the centre and the right pane for
 * the conversation open.
 */
import { i18n, t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app, BOT_SVG, avatarNode, customerName, resLabel } from './shared.js';
import { channelBadge, channelIcon, channelLabel, cjkSpace, knownChannel, setChannel } from './channels.js';
import { isOpen, send, sendQuietly } from './connection.js';
import { channelOf, isMine, renderConvList } from './conversations.js';
import { renderTransferState } from './transfer.js';
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
var replyTabs = $('reply-tabs'), replySendText = $('reply-send-text'), replyHint = $('reply-hint'), replyLabel = $('reply-label');
var LOCK_SVG = '<svg viewBox="0 0 24 24" width="13" height="13" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V8a4 4 0 0 1 8 0v3"/></svg>';
var WHISPER_SVG = '<svg viewBox="0 0 24 24" width="13" height="13" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M4 12h3l4-5v10l-4-5"/><path d="M15 9.5a4 4 0 0 1 0 5"/></svg>';
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
  } else if (m.from === 'note' || m.from === 'whisper') {
    node = asideNode(m);
  } else {
    var conv = app.convs.get(app.selectedId);
    var cname = customerName(conv && conv.customer);
    var who, av, cls = m.from === 'customer' || m.from === 'bot' || m.from === 'agent' ? m.from : 'customer';
    if (m.from === 'customer') { who = cname; av = avatarNode(cname); }
    else if (m.from === 'bot') { who = t('desk.bot'); av = el('span', { class: 'avatar', 'aria-hidden': 'true' }); av.innerHTML = BOT_SVG; }
    else if (m.from === 'supervisor' || m.role === 'supervisor' || m.role === 'team_lead') {
      // A supervisor who joined the conversation: the customer sees it, it is not mine.
      who = t('desk.supervisorSaid', { name: m.author || t('desk.role.supervisor') }); av = avatarNode(m.author || 'Supervisor'); cls = 'agent t-barge';
    } else if (m.from === 'agent' && !isMine(m)) {
      // Someone else's reply: the agent before a transfer, or a supervisor who joined.
      var xf = conv && conv.transferFrom;
      var other = m.author || (xf && xf.from_agent_id && xf.from_agent_id === m.agent_id ? xf.from_name : null) || t('desk.colleague');
      who = other; av = avatarNode(other); cls = 'agent t-colleague';
    }
    else { who = t('desk.you'); av = avatarNode(app.me.name || 'Me'); }
    var meta = el('div', { class: 't-meta' }, [time]);
    if (m.channel && m.from === 'customer') meta.appendChild(channelBadge(m.channel));
    if (m.pending) meta.appendChild(el('span', { text: '· ' + t('desk.sending') }));
    if (m.failed) {
      meta.appendChild(el('span', { text: '· ' + t('desk.notSent') }));
      meta.appendChild(el('button', { type: 'button', class: 'btn-link', text: t('desk.retry'), onclick: function () { retry(m); } }));
    }
    node = el('li', { class: 't-msg t-' + cls + (m.pending ? ' is-pending' : ''), 'data-testid': 'transcript-message', 'data-from': m.from }, [
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

/**
 * An internal note (mine on the right, a colleague's on the left) or a supervisor's whisper
 * (on the left): marked as never reaching the customer.
 */
function asideNode(m) {
  var note = m.from === 'note';
  var mine = note && isMine(m);
  // A note that names nobody (a history without writers) stays on the staff side, unnamed.
  var known = !!(m.agent_id || m.mine || m.author);
  var who = note ? (mine ? t('desk.you') : known ? m.author || t('note.colleague') : null) : m.author;
  var right = note && (mine || !known);
  var icon = el('span', { class: 't-aside-icon', 'aria-hidden': 'true' });
  icon.innerHTML = note ? LOCK_SVG : WHISPER_SVG;
  var av = avatarNode(mine ? app.me.name || 'Me' : who || (note ? 'Note' : 'Supervisor'));
  if (!who) { av = el('span', { class: 'avatar t-aside-avatar', 'aria-hidden': 'true' }); av.innerHTML = note ? LOCK_SVG : WHISPER_SVG; }
  var meta = el('div', { class: 't-meta' }, [
    el('time', { datetime: U.toDate(m.sent_at).toISOString(), text: U.formatTime(m.sent_at) }),
    el('span', { class: 't-private', text: note ? t('note.private') : t('whisper.private') })
  ]);
  if (m.pending) meta.appendChild(el('span', { text: '· ' + t('desk.sending') }));
  if (m.failed) {
    meta.appendChild(el('span', { text: '· ' + t('desk.notSent') }));
    meta.appendChild(el('button', { type: 'button', class: 'btn-link', text: t('desk.retry'), onclick: function () { retry(m); } }));
  }
  return el('li', {
    class: 't-msg t-aside ' + (note ? 't-inote' : 't-whisper') + (right ? ' is-mine' : '') + (m.pending ? ' is-pending' : ''),
    'data-testid': 'transcript-message', 'data-from': m.from
  }, [
    av,
    el('div', { class: 't-col' }, [
      el('span', { class: 't-author' }, [icon, el('span', { class: 't-aside-label', text: note ? t('note.label') : t('whisper.label') }), who ? el('span', { class: 't-aside-who', text: '· ' + who }) : null]),
      el('div', { class: 't-bubble', 'data-testid': 'transcript-text', text: m.text }),
      meta
    ])
  ]);
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
  var side = function (m) { return m.from === 'customer' ? 'l' : (m.from === 'system' ? 's' : 'r' + m.from + (m.agent_id || '')); };
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
  var stick = nearBottom() || m.from === 'agent' || m.from === 'note';
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
  renderTransferState(conv);
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
    renderTransferState(null);
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
  renderComposer(conv);
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

/** Reply or Internal note: the tabs, the box's look, its placeholder, the button and the hint. */
function renderComposer(conv) {
  var mode = conv && conv.mode === 'note' ? 'note' : 'reply';
  replyForm.setAttribute('data-mode', mode);
  replyTabs.querySelectorAll('.reply-tab').forEach(function (b) {
    var on = b.getAttribute('data-mode') === mode;
    b.setAttribute('aria-checked', String(on));
    b.tabIndex = on ? 0 : -1;
    b.disabled = !!(conv && conv.closed);
  });
  replyInput.placeholder = conv && conv.closed ? t('desk.replyClosed') : mode === 'note' ? t('desk.notePlaceholder') : t('desk.replyPlaceholder');
  replySendText.textContent = mode === 'note' ? t('desk.addNote') : t('desk.send');
  replyHint.textContent = mode === 'note' ? t('desk.noteHint') : t('desk.replyHint');
  replyLabel.textContent = mode === 'note' ? t('desk.noteLabel') : t('desk.replyLabel');
}
function setMode(mode) {
  var conv = app.selectedId && app.convs.get(app.selectedId);
  if (!conv || conv.closed) return;
  conv.mode = mode === 'note' ? 'note' : 'reply';
  renderComposer(conv);
  replyInput.focus();
}
replyTabs.addEventListener('click', function (ev) {
  var b = ev.target.closest('.reply-tab');
  if (b) setMode(b.getAttribute('data-mode'));
});
replyTabs.addEventListener('keydown', function (ev) {
  if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].indexOf(ev.key) === -1) return;
  ev.preventDefault();
  var conv = app.selectedId && app.convs.get(app.selectedId);
  setMode(conv && conv.mode === 'note' ? 'reply' : 'note');
  var on = replyTabs.querySelector('[aria-checked="true"]');
  if (on) on.focus();
});

function sendPending(conv, m) {
  clearTimeout(m.timer);
  var frame = { type: m.from === 'note' ? 'note' : 'message', conversation_id: conv.id, text: m.text };
  if (m.suggestion_id && m.from !== 'note') frame.suggestion_id = m.suggestion_id;
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
  var note = conv.mode === 'note';
  var m = { id: null, conversation_id: conv.id, from: note ? 'note' : 'agent', channel: null, text: text, sent_at: new Date().toISOString(), pending: true, agent_id: app.me.id, mine: true };
  if (!isOpen()) { toast(t('toast.notConnected'), 'error'); return; }
  // The suggestion the text came from (even if edited since) goes with a reply, once.
  if (!note) {
    if (chosen.sugg && chosen.sugg.conversation_id === conv.id) m.suggestion_id = chosen.sugg.id;
    var hadSugg = !!chosen.sugg;
    chosen.sugg = null;
    renderReplySugg();
    if (hadSugg) renderAssist(conv);
  }
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
  var cur = app.selectedId && app.convs.get(app.selectedId);
  if (cur && cur.mode !== 'note' && replyInput.value.trim() && isOpen() && now - lastTypingSent > TYPING_SEND_EVERY_MS) {
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
