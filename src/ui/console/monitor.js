/*
 * Switchboard console — the monitor panel of #conversations: one live conversation watched
 * through the supervisor's own socket (socket.js): {"type":"monitor"} answers `monitoring`
 * (the customer, the agent, the history), then the conversation's messages arrive as they are
 * written. From the panel the supervisor whispers to the agent (the customer never sees it),
 * barges in (then writes to the customer), or transfers the conversation (the shared dialog).
 * The agent's activity today (GET /v1/staff/{id}/activity) is at its foot.
 *
 * Only text from the server is shown (textContent); nothing is parsed as HTML.
 */
import { i18n, t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { openTransfer, closeTransfer } from '../common/transfer.js';
import { $, app, api, errMsg } from './shared.js';
import { arr, avatarNode, channelBadge, clear, fmtClock, fmtDateTime, fmtSecs, lbl, loadingRow } from './ui.js';
import { configureSocket, closeSocket, openSocket, sendFrame, socketState } from './socket.js';
import { boardRow, refreshBoard, renderBoard } from './board.js';

var el = U.el, toast = U.toast;
var PENDING_MS = 6000;
var panel = $('monitor'), transcript = $('mon-transcript'), scroller = $('mon-scroll');
var input = $('mon-input'), sendBtn = $('mon-send'), bargeBtn = $('mon-barge'), banner = $('mon-banner');
var compose = $('mon-compose'), tabs = $('mon-tabs');

var M = newMonitor();
function newMonitor() {
  return {
    id: null, row: null, info: null, state: 'idle', messages: [], byId: {}, barged: false, bargeAsk: false, bargeSent: false,
    mode: 'whisper', ended: false, activity: { state: 'idle', data: null, error: null, agent: null }
  };
}
/** Transfers asked for from here: conversation id -> {label, name}. */
var transfers = {};

/** The conversation watched, or null. */
export function monitoredId() { return M.id; }

/* ------------------------------------------------------------- open / close */
export function openMonitor(row) {
  if (M.id && M.id !== row.conversation_id) stopWatching();
  var again = M.id === row.conversation_id;
  if (!again) { M = newMonitor(); M.id = row.conversation_id; }
  M.row = Object.assign({}, row);
  M.state = socketState() === 'ready' ? 'loading' : 'connecting';
  panel.hidden = false;
  document.body.classList.add('has-monitor');
  input.value = '';
  render();
  renderBoard();
  if (!again) sendFrame({ type: 'monitor', conversation_id: M.id });
  setTimeout(function () { $('mon-close').focus(); }, 0);
}
function stopWatching() {
  if (M.id && socketState() === 'ready') sendFrame({ type: 'unmonitor', conversation_id: M.id });
}
/** Stops watching; `quiet` for leaving the section (the socket closes too). */
export function closeMonitor(quiet) {
  if (!M.id) { if (quiet) closeSocket(); return; }
  var id = M.id;
  stopWatching();
  M = newMonitor();
  panel.hidden = true;
  document.body.classList.remove('has-monitor');
  if (quiet) { closeSocket(); return; }
  renderBoard();
  var back = document.querySelector('#board-body tr[data-conversation-id="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"] [data-testid=board-monitor]');
  if (back) back.focus();
}
/** Signed out. */
export function resetMonitor() {
  M = newMonitor(); transfers = {};
  panel.hidden = true;
  document.body.classList.remove('has-monitor');
  closeTransfer();
  closeSocket();
}
/** The board's row of the watched conversation changed (or it left the list: it closed). */
export function monitorRowChanged(row, filtered) {
  if (!M.id) return;
  if (!row && filtered) return;   // filtered out of the list, not closed
  if (!row) {
    if (!M.ended && M.state === 'live') { M.ended = true; render(); }
    return;
  }
  var before = JSON.stringify([M.row && M.row.status, M.row && M.row.agent_id]);
  M.row = Object.assign({}, row);
  if (M.ended) M.ended = false;
  if (before !== JSON.stringify([row.status, row.agent_id])) { renderHead(); renderCompose(); }
}

/* ------------------------------------------------------------- the socket */
configureSocket({
  onState: function (s) {
    if (!M.id) return;
    if (s === 'ready') { if (M.state === 'connecting' || M.state === 'offline') { M.state = 'loading'; sendFrame({ type: 'monitor', conversation_id: M.id }); } }
    else if (s === 'offline' || s === 'connecting') { if (M.state !== 'idle') M.state = 'connecting'; }
    else if (s === 'refused') M.state = 'refused';
    else if (s === 'replaced') M.state = 'replaced';
    render();
  },
  onMessage: onFrame
});

function onFrame(msg) {
  switch (msg.type) {
    case 'monitoring': onMonitoring(msg); break;
    case 'message': onMessage(msg); break;
    case 'barged': onBarged(msg); break;
    case 'wrapped_up': if (msg.conversation_id === M.id) { M.ended = true; render(); } break;
    case 'transfer_requested': onTransferRequested(msg); break;
    case 'transferred': onTransferred(msg); break;
    case 'transfer_failed': onTransferFailed(msg); break;
    case 'error': onError(msg); break;
    default: break;   // hello, status: a supervisor is never offered anything
  }
}

function onMonitoring(msg) {
  if (msg.conversation_id !== M.id) return;
  M.info = msg;
  M.state = 'live';
  M.ended = false;
  M.messages = []; M.byId = {};
  arr(msg.history).forEach(function (m) { addMessage(m, true); });
  render();
  toBottom(true);
}

function normalize(m) {
  return {
    id: m.id || null, from: m.from || 'system', text: m.text == null ? '' : String(m.text), sent_at: m.sent_at || new Date().toISOString(),
    channel: m.channel || null, agent_id: m.agent_id || m.author_id || null, author: m.author_name || m.agent_name || m.from_name || m.name || null,
    role: m.role || m.author_role || null
  };
}
/** The supervisor's own whisper or customer message sent from here, confirmed by its echo. */
/** A message to the customer from someone other than the agent who holds the conversation: a supervisor's. */
function fromSupervisor(m) {
  if (m.from === 'supervisor' || m.role === 'supervisor' || m.role === 'team_lead') return true;
  return m.from === 'agent' && !!m.agent_id && !!app.session && m.agent_id === app.session.agent_id;
}
function findPending(m) {
  // The echo of the supervisor's own message to the customer may not name its writer: the
  // same text as one waiting from here is it.
  var kind = m.from === 'whisper' ? 'whisper' : (m.from === 'agent' || m.from === 'supervisor') ? 'customer' : null;
  if (!kind) return null;
  if (kind === 'customer' && m.agent_id && app.session && app.session.agent_id && m.agent_id !== app.session.agent_id && m.from !== 'supervisor') return null;
  return M.messages.find(function (p) { return p.pending && p.kind === kind && p.text === m.text; }) || null;
}
function addMessage(raw, quiet) {
  var m = normalize(raw);
  if (m.id && M.byId[m.id]) return;
  var p = findPending(m);
  if (p) {
    clearTimeout(p.timer);
    p.pending = false; p.id = m.id; p.sent_at = m.sent_at; p.agent_id = m.agent_id || p.agent_id; p.author = m.author || p.author;
    if (m.id) M.byId[m.id] = true;
    if (!quiet) redrawMessage(p);
    return;
  }
  if (m.id) M.byId[m.id] = true;
  M.messages.push(m);
  if (!quiet) { var stick = nearBottom(); transcript.appendChild(msgNode(m)); toBottom(stick); }
}
function onMessage(msg) {
  if (!M.id || msg.conversation_id !== M.id) return;
  if (M.state !== 'live') return;   // the history of `monitoring` comes first
  addMessage(msg);
}
function onBarged(msg) {
  if (msg.conversation_id !== M.id) { toast(t('mon.bargedElsewhere')); return; }
  M.barged = true; M.bargeAsk = false; M.bargeSent = false; M.mode = 'customer';
  render();
  input.focus();
  refreshBoard();
}
function onError(msg) {
  var key = 'err.' + msg.code, text = t(key);
  if (text === key) text = msg.message || msg.code || 'Error';
  if (msg.code === 'replaced') { M.state = M.id ? 'replaced' : M.state; render(); return; }
  toast(text, 'error');
  // what was waiting for an answer failed
  if (M.bargeSent) { M.bargeSent = false; }
  var failed = M.messages.find(function (m) { return m.pending; });
  if (failed) { clearTimeout(failed.timer); failed.pending = false; failed.failed = true; redrawMessage(failed); }
  Object.keys(transfers).forEach(function (id) { if (transfers[id].state === 'sending') delete transfers[id]; });
  if (M.id && M.state === 'loading' && (msg.code === 'forbidden' || msg.code === 'not_found' || msg.code === 'conversation_closed')) { M.state = 'error'; M.error = text; }
  render();
}

/* ------------------------------------------------------------- transfers */
/** Transfer (reassign) a listed conversation with the shared dialog. */
export function transferConversation(row) {
  if (!row) return;
  var agentName = row.agent_name || (row.agent_id ? row.agent_id : null);
  var name = (row.customer && (row.customer.name || row.customer.id)) || t('card.unnamed');
  openTransfer({
    api: api,
    conversationId: row.conversation_id,
    customerName: name,
    exclude: row.agent_id ? [row.agent_id] : [],
    lead: 'xfer.leadConsole',
    kicker: agentName ? t('mon.transferKicker', { agent: agentName }) : null,
    onSubmit: function (to, note, agent) {
      var frame = { type: 'transfer', conversation_id: row.conversation_id, to: to };
      if (note) frame.note = note;
      if (!sendFrame(frame)) return false;
      var s = to.skills && to.skills[0];
      transfers[row.conversation_id] = { state: 'sending', name: name, label: to.agent_id ? (agent && agent.name) || t('xfer.aColleague') : t('xfer.skillTarget', { skill: s.name, level: s.level || 1 }) };
      toast(t('mon.transferAsked', { name: name, to: transfers[row.conversation_id].label }));
      if (M.id === row.conversation_id) renderHead();
      return true;
    }
  });
}
function onTransferRequested(msg) {
  var x = transfers[msg.conversation_id];
  if (x) x.state = 'pending';
  if (M.id === msg.conversation_id) renderHead();
}
function onTransferred(msg) {
  var x = transfers[msg.conversation_id] || { name: t('card.unnamed'), label: t('xfer.aColleague') };
  delete transfers[msg.conversation_id];
  toast(t('mon.transferDone', { name: x.name, to: x.label }));
  if (M.id === msg.conversation_id) renderHead();
  refreshBoard();
}
function onTransferFailed(msg) {
  var x = transfers[msg.conversation_id] || { name: t('card.unnamed'), label: t('xfer.aColleague') };
  delete transfers[msg.conversation_id];
  var reason = ['declined', 'timeout', 'closed', 'unavailable'].indexOf(msg.reason) !== -1 ? msg.reason : 'other';
  toast(t('mon.transferFailed.' + reason, { name: x.name, to: x.label }), 'error');
  if (M.id === msg.conversation_id) renderHead();
}

/* ------------------------------------------------------------- drawing */
function nearBottom() { return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120; }
function toBottom(force) { if (force) requestAnimationFrame(function () { scroller.scrollTop = scroller.scrollHeight; }); }

function customerOf() { return (M.info && M.info.customer) || (M.row && M.row.customer) || {}; }
/** Who holds it now: the board's row is polled, `monitoring` said it once. */
function agentIdOf() { return M.row ? M.row.agent_id || null : (M.info && M.info.agent_id) || null; }
function agentNameOf() {
  var id = agentIdOf();
  if (M.row && M.row.agent_id === id && M.row.agent_name) return M.row.agent_name;
  var a = arr(app.live && app.live.agents).find(function (x) { return x && x.agent_id === id; });
  return (a && a.name) || id;
}
/** An agent's name: the one who holds it, a live agent, or the id. */
function nameOfAgent(id) {
  if (!id) return agentNameOf();
  if (id === agentIdOf()) return agentNameOf();
  var a = arr(app.live && app.live.agents).find(function (x) { return x && x.agent_id === id; });
  return (a && a.name) || null;
}
function statusOf() { return (M.row && M.row.status) || (M.info && M.info.status) || null; }

function msgNode(m) {
  var cust = customerOf();
  var cname = cust.name || cust.id || t('card.unnamed');
  var mine = m.agent_id && app.session && m.agent_id === app.session.agent_id;
  var time = el('time', { datetime: U.toDate(m.sent_at).toISOString(), text: U.formatTime(m.sent_at) });
  if (m.from === 'system') {
    return el('li', { class: 'mm mm-system', 'data-testid': 'monitor-message', 'data-from': 'system' }, [el('span', { class: 'mm-sys' }, [el('span', { text: m.text }), time])]);
  }
  var kind, who;
  if (m.from === 'customer') { kind = 'customer'; who = cname; }
  else if (m.from === 'bot') { kind = 'bot'; who = t('mon.bot'); }
  else if (m.from === 'note') { kind = 'note'; who = t('mon.note') + (m.author ? ' · ' + m.author : ''); }
  else if (m.from === 'whisper') { kind = 'whisper'; who = mine || m.pending || m.kind === 'whisper' ? t('mon.youWhispered') : t('mon.whisperFrom', { name: m.author || t('mon.supervisor') }); }
  else if (m.kind === 'customer' || fromSupervisor(m)) { kind = 'sup'; who = mine || m.kind === 'customer' ? t('mon.youToCustomer') : t('mon.supervisorSaid', { name: m.author || t('mon.supervisor') }); }
  else { kind = 'agent'; who = m.author || nameOfAgent(m.agent_id) || t('mon.agent'); }
  var meta = el('span', { class: 'mm-meta' }, [time]);
  if (kind === 'note' || kind === 'whisper') meta.appendChild(el('span', { class: 'mm-private', text: t('mon.private') }));
  if (m.pending) meta.appendChild(el('span', { text: '· ' + t('mon.sending') }));
  if (m.failed) meta.appendChild(el('span', { class: 'mm-failed', text: '· ' + t('mon.notSent') }));
  var node = el('li', { class: 'mm mm-' + kind + (m.pending ? ' is-pending' : ''), 'data-testid': 'monitor-message', 'data-from': m.from, 'data-kind': kind }, [
    el('span', { class: 'mm-who', text: who }),
    el('div', { class: 'mm-bubble', 'data-testid': 'monitor-text', text: m.text }),
    meta
  ]);
  m.node = node;
  return node;
}
function redrawMessage(m) { if (m.node && m.node.parentNode) m.node.replaceWith(msgNode(m)); }

function stateText() {
  if (M.ended) return t('mon.state.ended');
  return t('mon.state.' + M.state);
}
function renderHead() {
  var cust = customerOf();
  var name = cust.name || cust.id || t('card.unnamed');
  $('mon-title').textContent = name;
  panel.setAttribute('data-state', M.ended ? 'ended' : M.state);
  panel.setAttribute('data-conversation-id', M.id || '');
  $('mon-kicker').setAttribute('data-state', M.ended ? 'ended' : M.state);
  $('mon-kicker-text').textContent = stateText();
  var sub = clear($('mon-sub'));
  var ch = (M.row && M.row.channel) || null;
  if (ch) sub.appendChild(channelBadge(ch));
  if (cust.tier && String(cust.tier).toLowerCase() !== 'standard') sub.appendChild(el('span', { class: 'badge tier-' + String(cust.tier).toLowerCase().replace(/[^a-z]/g, ''), text: lbl('tier.', String(cust.tier).toLowerCase()) }));
  var st = statusOf();
  var agentId = agentIdOf();
  if (agentId) sub.appendChild(el('span', { class: 'person mon-agent' }, [avatarNode(agentNameOf(), 'avatar-xs'), el('span', { 'data-testid': 'monitor-agent', text: t('mon.withAgent', { name: agentNameOf() }) })]));
  else if (st) sub.appendChild(el('span', { class: 'pill board-pill board-pill-' + String(st).replace(/[^a-z_]/g, ''), text: lbl('board.state.', st) }));
  arr(cust.tags).slice(0, 3).forEach(function (tag) { sub.appendChild(el('span', { class: 'board-tag', text: String(tag) })); });
  var x = transfers[M.id];
  var xb = $('mon-transfer');
  xb.disabled = !agentId || !!x || M.ended;
  xb.title = !agentId ? t('board.transferOnlyAssigned') : '';
  xb.lastElementChild.textContent = x ? t('mon.transferPending') : t('mon.transfer');
  renderActivityHead();
}
function renderBanner() {
  banner.textContent = '';
  var kind = null, text = null, action = null;
  if (M.state === 'refused') { kind = 'error'; text = t('mon.refused'); action = [t('common.retry'), function () { openSocket(); }]; }
  else if (M.state === 'replaced') { kind = 'error'; text = t('mon.replaced'); action = [t('mon.useHere'), function () { openSocket(); }]; }
  else if (M.state === 'error') { kind = 'error'; text = M.error || t('mon.state.error'); }
  else if (M.ended) { kind = 'muted'; text = t('mon.endedText'); }
  else if (M.bargeAsk) {
    kind = 'confirm'; text = t('mon.bargeConfirm');
  } else if (M.barged) { kind = 'barged'; text = t('mon.bargedText'); }
  banner.hidden = !text;
  banner.className = 'mon-banner' + (kind ? ' is-' + kind : '');
  if (!text) return;
  banner.appendChild(el('span', { class: 'mon-banner-text', text: text }));
  if (M.bargeAsk) {
    banner.appendChild(el('span', { class: 'mon-banner-actions' }, [
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'monitor-barge-cancel', text: t('common.cancel'), onclick: function () { M.bargeAsk = false; render(); } }),
      el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'monitor-barge-confirm', text: t('mon.bargeGo'), onclick: doBarge })
    ]));
  } else if (action) {
    banner.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: action[0], onclick: action[1] }));
  }
}
function renderCompose() {
  var live = M.state === 'live' && !M.ended;
  var hasAgent = !!agentIdOf();
  if (M.mode === 'whisper' && !hasAgent && M.barged) M.mode = 'customer';
  if (M.mode === 'customer' && !M.barged) M.mode = 'whisper';
  compose.setAttribute('data-mode', M.mode);
  tabs.querySelectorAll('.mon-tab').forEach(function (b) {
    var mode = b.getAttribute('data-mode');
    b.setAttribute('aria-checked', String(mode === M.mode));
    b.disabled = !live || (mode === 'customer' ? !M.barged : !hasAgent);
    b.title = mode === 'customer' && !M.barged ? t('mon.customerNeedsBarge') : mode === 'whisper' && !hasAgent ? t('mon.whisperNeedsAgent') : '';
  });
  var canWrite = live && (M.mode === 'customer' ? M.barged : hasAgent);
  input.disabled = !canWrite;
  input.placeholder = !live ? t('mon.placeholderOff') : M.mode === 'customer' ? t('mon.placeholderCustomer', { name: customerOf().name || t('card.unnamed') })
    : hasAgent ? t('mon.placeholderWhisper', { name: agentNameOf() }) : t('mon.whisperNeedsAgent');
  $('mon-input-label').textContent = M.mode === 'customer' ? t('mon.modeCustomer') : t('mon.modeWhisper');
  $('mon-send-text').textContent = M.mode === 'customer' ? t('mon.send') : t('mon.whisper');
  $('mon-hint').textContent = !live ? '' : M.mode === 'customer' ? t('mon.hintCustomer') : t('mon.hintWhisper');
  bargeBtn.hidden = M.barged;
  bargeBtn.disabled = !live || M.bargeSent || M.bargeAsk;
  bargeBtn.lastElementChild.textContent = M.bargeSent ? t('mon.barging') : t('mon.barge');
  sendBtn.disabled = !canWrite || !input.value.trim();
}
function renderTranscript() {
  clear(transcript);
  if (M.state === 'connecting' || M.state === 'loading') { transcript.appendChild(el('li', { class: 'mm-loading' }, [loadingRow(t('mon.loading'))])); return; }
  if (!M.messages.length && M.state === 'live') { transcript.appendChild(el('li', { class: 'mm-empty', text: t('mon.noMessages') })); return; }
  M.messages.forEach(function (m) { transcript.appendChild(msgNode(m)); });
}
function render() {
  if (!M.id) return;
  renderHead();
  renderBanner();
  renderTranscript();
  renderCompose();
  renderActivity();
}
/** The UI language changed. */
export function relabelMonitor() { if (M.id) { render(); toBottom(true); } }

/* ------------------------------------------------------------- composing */
function submit() {
  var text = input.value.replace(/\s+$/, '');
  if (!text.trim() || !M.id || M.state !== 'live' || M.ended) return;
  var kind = M.mode === 'customer' ? 'customer' : 'whisper';
  if (kind === 'customer' && !M.barged) return;
  var frame = kind === 'customer' ? { type: 'message', conversation_id: M.id, text: text } : { type: 'whisper', conversation_id: M.id, text: text };
  if (!sendFrame(frame)) { toast(t('mon.notConnected'), 'error'); return; }
  var m = { id: null, from: kind === 'customer' ? 'supervisor' : 'whisper', kind: kind, text: text, sent_at: new Date().toISOString(), pending: true, agent_id: app.session && app.session.agent_id };
  // Nothing may echo a whisper back: without an error in a few seconds it counts as sent.
  m.timer = setTimeout(function () { if (m.pending) { m.pending = false; redrawMessage(m); } }, PENDING_MS);
  M.messages.push(m);
  var empty = transcript.querySelector('.mm-empty');
  if (empty) empty.remove();
  transcript.appendChild(msgNode(m));
  toBottom(true);
  input.value = '';
  U.autosize(input);
  renderCompose();
}
compose.addEventListener('submit', function (ev) { ev.preventDefault(); submit(); });
input.addEventListener('keydown', function (ev) {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) { ev.preventDefault(); submit(); }
});
input.addEventListener('input', function () { U.autosize(input); sendBtn.disabled = input.disabled || !input.value.trim(); });
tabs.addEventListener('click', function (ev) {
  var b = ev.target.closest('.mon-tab');
  if (!b || b.disabled) return;
  M.mode = b.getAttribute('data-mode');
  renderCompose();
  input.focus();
});
bargeBtn.addEventListener('click', function () { if (!M.barged && M.state === 'live') { M.bargeAsk = true; renderBanner(); renderCompose(); banner.querySelector('[data-testid=monitor-barge-confirm]').focus(); } });
function doBarge() {
  M.bargeAsk = false;
  if (!sendFrame({ type: 'barge', conversation_id: M.id })) { render(); return; }
  M.bargeSent = true;
  render();
}
$('mon-close').addEventListener('click', function () { closeMonitor(); });
$('mon-transfer').addEventListener('click', function () {
  var row = boardRow(M.id) || M.row;
  if (row) transferConversation(Object.assign({}, row, { agent_id: agentIdOf(), agent_name: agentNameOf() }));
});
document.addEventListener('keydown', function (ev) {
  if (!M.id || (ev.key !== 'Escape' && ev.key !== 'Esc')) return;
  if (document.querySelector('dialog[open]')) return;
  if (M.bargeAsk) { M.bargeAsk = false; render(); return; }
  if (panel.contains(document.activeElement)) closeMonitor();
});

/* ------------------------------------------------------------- activity */
var activityBox = $('mon-activity');
var ACT_ORDER = ['available', 'away', 'offline'];
function renderActivityHead() {
  var id = agentIdOf();
  activityBox.hidden = !id;
  if (!id) return;
  $('mon-activity-title').textContent = t('act.title', { name: agentNameOf() });
  if (M.activity.agent !== id) { M.activity = { state: 'idle', data: null, error: null, agent: id }; if (activityBox.open) loadActivity(); }
}
activityBox.addEventListener('toggle', function () { if (activityBox.open) loadActivity(); });
function dayStart() { var d = new Date(); d.setHours(0, 0, 0, 0); return d; }
function loadActivity() {
  var id = agentIdOf();
  if (!id) return;
  var from = dayStart(), to = new Date();
  var a = M.activity;
  a.agent = id; a.state = a.data ? 'refreshing' : 'loading'; a.from = from.getTime(); a.to = to.getTime();
  renderActivity();
  api('GET', '/v1/staff/' + encodeURIComponent(id) + '/activity?from=' + encodeURIComponent(from.toISOString()) + '&to=' + encodeURIComponent(to.toISOString())).then(function (r) {
    if (M.activity !== a) return;
    if (r.ok && r.data) { a.state = 'ok'; a.data = arr(r.data.entries).filter(function (e) { return e && e.at; }); }
    else { a.state = 'error'; a.error = errMsg(r); }
  }).catch(function () { if (M.activity === a) { a.state = 'error'; a.error = t('common.network'); } }).then(function () { if (M.activity === a) renderActivity(); });
}
function actLabel(e) {
  var s = lbl('status.', e.state);
  return e.state === 'away' && e.reason ? t('act.awayWhy', { status: s, reason: lbl('reason.away.', e.reason) }) : s;
}
function renderActivity() {
  var body = $('mon-activity-body');
  if (activityBox.hidden) return;
  clear(body);
  var a = M.activity;
  if (a.state === 'idle') return;
  if (a.state === 'loading') { body.appendChild(loadingRow(t('act.loading'))); return; }
  if (a.state === 'error') {
    body.appendChild(el('p', { class: 'act-error', text: t('act.error', { msg: a.error || '' }) }));
    body.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.retry'), onclick: loadActivity }));
    return;
  }
  var entries = arr(a.data).slice().sort(function (x, y) { return U.toDate(x.at) - U.toDate(y.at); });
  if (!entries.length) { body.appendChild(el('p', { class: 'act-empty', text: t('act.empty') })); return; }
  // The bar: from the first change today (or midnight) to now, one segment per state.
  var start = Math.max(a.from, Math.min(U.toDate(entries[0].at).getTime(), a.to)), end = a.to;
  var span = Math.max(1, end - start);
  var bar = el('div', { class: 'act-bar', role: 'img', 'aria-label': t('act.barLabel') });
  var totals = {};
  entries.forEach(function (e, i) {
    var s = Math.max(start, U.toDate(e.at).getTime());
    var f = i + 1 < entries.length ? Math.min(end, U.toDate(entries[i + 1].at).getTime()) : end;
    if (f <= s) return;
    totals[e.state] = (totals[e.state] || 0) + (f - s);
    bar.appendChild(el('span', {
      class: 'act-seg act-' + String(e.state).replace(/[^a-z_]/g, ''), title: actLabel(e) + ' · ' + U.formatTime(s) + '–' + U.formatTime(f),
      style: { left: ((s - start) / span * 100) + '%', width: Math.max(0.4, (f - s) / span * 100) + '%' }
    }));
  });
  body.appendChild(bar);
  body.appendChild(el('div', { class: 'act-axis' }, [el('span', { text: U.formatTime(start) }), el('span', { text: t('act.now') })]));
  var legend = el('div', { class: 'act-legend' });
  ACT_ORDER.concat(Object.keys(totals).filter(function (k) { return ACT_ORDER.indexOf(k) === -1; })).forEach(function (k) {
    if (!totals[k]) return;
    legend.appendChild(el('span', { class: 'act-key' }, [el('i', { class: 'act-' + k.replace(/[^a-z_]/g, '') }), lbl('status.', k) + ' ', el('b', { text: fmtSecs(Math.round(totals[k] / 60000) * 60 || Math.round(totals[k] / 1000)) })]));
  });
  body.appendChild(legend);
  var list = el('ol', { class: 'act-list', 'data-testid': 'activity-entries' });
  entries.slice(-8).reverse().forEach(function (e) {
    list.appendChild(el('li', { class: 'act-entry', 'data-testid': 'activity-entry', 'data-state': e.state }, [
      el('time', { text: U.toDate(e.at).toDateString() === new Date().toDateString() ? U.formatTime(e.at) : fmtDateTime(e.at) }),
      el('span', { class: 'pill pill-' + String(e.state).replace(/[^a-z_]/g, ''), text: actLabel(e) })
    ]));
  });
  body.appendChild(list);
  body.appendChild(el('p', { class: 'act-foot', text: t('act.updated', { time: fmtClock(a.to) }) }));
}

i18n.onChange(function () { relabelMonitor(); });
