/*
 * Switchboard — customer chat widget, one ES module (no bundler), on a small help-center page.
 *
 * Flow: ensure a visitor token (POST /v1/visitors, kept in localStorage)
 *       → GET /v1/conversations/current (404 = greeting)
 *       → WebSocket /v1/ws/customer for live messages, acks and typing.
 * Messages the customer sends get a client_id; the bubble stays "pending"
 * until an ack (or the echoed message) arrives, and is re-sent after a
 * reconnect if it never got one (the server de-duplicates by client_id).
 * Strings: i18n/en.js and i18n/zh-CN.js.
 */
import { i18n, t } from '../common/i18n.js';
import * as U from '../common/util.js';
import en from './i18n/en.js';
import zhCN from './i18n/zh-CN.js';

var el = U.el;

var TOKEN_KEY = 'switchboard.visitor_token';
var ACK_TIMEOUT_MS = 12000;
var TYPING_SHOW_MS = 3000;
var TYPING_SEND_EVERY_MS = 2500;

i18n.register({ en: en, 'zh-CN': zhCN });

/* ------------------------------------------------------------- elements */
var $ = function (id) { return document.getElementById(id); };
var panel = $('chat-panel'), launcher = $('chat-launcher'), launcherBadge = $('launcher-badge');
var statusEl = $('chat-status'), avatarEl = $('chat-avatar'), banner = $('chat-banner');
var body = $('chat-body'), list = $('message-list'), greeting = $('greeting');
var typingEl = $('typing'), typingLabel = $('typing-label'), typingAvatar = $('typing-avatar');
var notice = $('chat-notice'), noticeText = $('chat-notice-text');
var form = $('composer'), input = $('composer-input'), sendBtn = $('send-button');
var BOT_ICON = avatarEl.innerHTML;

/* ---------------------------------------------------------------- state */
var token = null;
var conv = null;              // {id, status, agent_name} or null
var hadConversation = false;
var items = [];               // rendered messages, in display order
var byId = new Map();         // server id -> item
var byClient = new Map();     // client_id -> item (ours)
var pending = new Map();      // client_id -> item awaiting ack
var ws = null, wsEverOpened = false, wsAttempts = 0, reconnectTimer = null, bannerTimer = null;
var typingTimer = null, lastTypingSent = 0, unread = 0, refreshTimer = null;
var loaded = false;

/* ------------------------------------------------------------- helpers */
function saveToken(v) {
  token = v;
  try { if (v) localStorage.setItem(TOKEN_KEY, v); else localStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
}
function loadToken() {
  try { return localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
}
function isOpen() { return !panel.classList.contains('is-hidden'); }
function nearBottom() { return body.scrollHeight - body.scrollTop - body.clientHeight < 120; }
function scrollToBottom(force) {
  if (force || nearBottom()) requestAnimationFrame(function () { body.scrollTop = body.scrollHeight; });
}
var lastAgentName = null;
function agentName() { return (conv && conv.agent_name) || lastAgentName || t('chat.agentFallback'); }

/* --------------------------------------------------------------- header */
function renderStatus() {
  var s = !loaded ? 'connecting' : (conv ? conv.status : (hadConversation ? 'closed' : 'bot'));
  if (s !== 'bot' && s !== 'queued' && s !== 'assigned' && s !== 'closed' && s !== 'connecting') s = 'bot';
  panel.setAttribute('data-status', s);
  var text = s === 'assigned' ? t('status.assigned', { name: agentName() }) : t('status.' + s);
  statusEl.textContent = text;
  if (s === 'assigned') {
    avatarEl.innerHTML = '';
    avatarEl.textContent = U.initials(agentName());
    avatarEl.style.background = U.avatarColor(agentName());
  } else {
    avatarEl.style.background = '';
    avatarEl.innerHTML = BOT_ICON;
  }
}

function setBanner(kind) {
  clearTimeout(bannerTimer);
  panel.setAttribute('data-conn', kind === 'reconnecting' || kind === 'offline' ? 'down' : 'up');
  if (!kind) { banner.hidden = true; return; }
  banner.classList.toggle('is-ok', kind === 'back');
  banner.textContent = t('banner.' + kind);
  banner.hidden = false;
  if (kind === 'back') bannerTimer = setTimeout(function () { banner.hidden = true; }, 1800);
}

function showNotice(text) {
  noticeText.textContent = text;
  notice.hidden = false;
}
function hideNotice() { notice.hidden = true; }

/* ------------------------------------------------------------- messages */
function normalize(m) {
  return {
    id: m.id || m.message_id || null,
    client_id: m.client_id || null,
    conversation_id: m.conversation_id || null,
    from: m.from || 'system',
    channel: m.channel || 'web',
    text: m.text == null ? '' : String(m.text),
    sent_at: m.sent_at || new Date().toISOString(),
    state: 'sent'
  };
}

function avatarFor(item) {
  if (item.from === 'bot') {
    var a = el('span', { class: 'avatar', 'aria-hidden': 'true' });
    a.innerHTML = BOT_ICON;
    return a;
  }
  var name = agentName();
  return el('span', { class: 'avatar', 'aria-hidden': 'true', style: { background: U.avatarColor(name) }, text: U.initials(name) });
}

function buildNode(item) {
  var time = el('time', { datetime: U.toDate(item.sent_at).toISOString(), text: U.formatTime(item.sent_at) });
  var node;
  if (item.from === 'system') {
    node = el('li', { class: 'msg msg-system', 'data-testid': 'message', 'data-from': 'system' }, [
      el('span', { class: 'system-note' }, [el('span', { class: 'system-text', text: item.text }), time])
    ]);
  } else if (item.from === 'customer') {
    var meta = el('div', { class: 'msg-meta' }, [time]);
    node = el('li', { class: 'msg msg-customer', 'data-testid': 'message', 'data-from': 'customer' }, [
      el('div', { class: 'msg-col' }, [
        el('span', { class: 'sr-only', text: t('chat.you') + ':' }),
        el('div', { class: 'bubble', 'data-testid': 'message-text', text: item.text }),
        meta
      ])
    ]);
    item.meta = meta;
    item.timeEl = time;
  } else {
    var isBot = item.from === 'bot';
    var author = isBot ? t('chat.bot') : agentName();
    node = el('li', { class: 'msg ' + (isBot ? 'msg-bot' : 'msg-agent'), 'data-testid': 'message', 'data-from': isBot ? 'bot' : 'agent' }, [
      avatarFor(item),
      el('div', { class: 'msg-col' }, [
        el('span', { class: 'msg-author', text: author }),
        el('div', { class: 'bubble', 'data-testid': 'message-text', text: item.text }),
        el('div', { class: 'msg-meta' }, [time])
      ])
    ]);
  }
  if (item.id) node.setAttribute('data-id', item.id);
  if (item.client_id) node.setAttribute('data-client-id', item.client_id);
  item.node = node;
  if (item.from === 'customer') renderDelivery(item);
  return node;
}

function renderDelivery(item) {
  if (!item.meta) return;
  var meta = item.meta;
  while (meta.childNodes.length > 1) meta.removeChild(meta.lastChild);
  item.node.classList.toggle('is-pending', item.state === 'pending');
  item.node.classList.toggle('is-failed', item.state === 'failed');
  item.node.setAttribute('data-state', item.state);
  if (item.state === 'pending') {
    meta.appendChild(el('span', { class: 'delivery', 'data-testid': 'delivery', text: '· ' + t('chat.sending') }));
  } else if (item.state === 'failed') {
    meta.appendChild(el('span', { class: 'delivery', 'data-testid': 'delivery', text: '· ' + t('chat.notSent') }));
    meta.appendChild(el('button', {
      type: 'button', class: 'retry', text: t('chat.retry'),
      onclick: function () { item.state = 'pending'; renderDelivery(item); transmit(item); }
    }));
  } else {
    meta.appendChild(el('span', { class: 'tick', 'data-testid': 'delivery', 'aria-label': t('chat.sent'), title: t('chat.sent'), text: '✓' }));
  }
}

/** Recompute day separators + bubble grouping classes (no re-creation). */
function regroup() {
  list.querySelectorAll('.day-sep').forEach(function (n) { n.remove(); });
  var prev = null;
  items.forEach(function (it, i) {
    var n = it.node;
    var next = items[i + 1];
    if (!prev || U.dayKey(prev.sent_at) !== U.dayKey(it.sent_at)) {
      list.insertBefore(el('li', { class: 'day-sep', 'aria-hidden': 'true', text: U.formatDay(it.sent_at) }), n);
      prev = null;
    }
    var same = function (a, b) { return a && b && a.from === b.from && a.from !== 'system' && U.dayKey(a.sent_at) === U.dayKey(b.sent_at); };
    n.classList.toggle('group-start', !same(prev, it));
    n.classList.toggle('group-end', !same(it, next));
    // hide repeated author labels / timestamps inside a group
    var author = n.querySelector('.msg-author');
    if (author) author.hidden = same(prev, it);
    prev = it;
  });
  greeting.hidden = items.length > 0 || !loaded;
}

function addItem(item, opts) {
  var stick = (opts && opts.force) || nearBottom(); // measure before the list grows
  items.push(item);
  if (item.id) byId.set(item.id, item);
  if (item.client_id && item.from === 'customer') byClient.set(item.client_id, item);
  list.appendChild(buildNode(item));
  regroup();
  scrollToBottom(stick);
  if (!isOpen() && item.from !== 'customer') {
    unread++;
    launcherBadge.textContent = String(unread);
    launcherBadge.hidden = false;
  }
}

function markSent(item, id) {
  item.state = 'sent';
  if (id && !item.id) {
    item.id = id;
    byId.set(id, item);
    item.node.setAttribute('data-id', id);
  }
  clearTimeout(item.ackTimer);
  if (item.client_id) pending.delete(item.client_id);
  renderDelivery(item);
}

function removeItem(item) {
  var i = items.indexOf(item);
  if (i !== -1) items.splice(i, 1);
  if (item.node) item.node.remove();
  if (item.client_id) { pending.delete(item.client_id); byClient.delete(item.client_id); }
  if (item.id) byId.delete(item.id);
  clearTimeout(item.ackTimer);
  regroup();
}

/** Incoming server message (WS push or history). Returns true if new. */
function ingest(raw, opts) {
  var m = normalize(raw);
  if (m.id && byId.has(m.id)) return false;
  if (m.from === 'customer' && m.client_id && byClient.has(m.client_id)) {
    var mine = byClient.get(m.client_id);
    if (mine.state !== 'sent' || !mine.id) markSent(mine, m.id);
    return false;
  }
  addItem(m, opts);
  if (m.from === 'agent') hideTyping();
  // Status (bot / queued / assigned / closed) isn't pushed: re-read it after any reply.
  if (m.from !== 'customer' && !(opts && opts.fromHistory)) scheduleRefresh();
  return true;
}

/* -------------------------------------------------------------- typing */
function showTyping() {
  var stick = nearBottom();
  var name = agentName();
  typingLabel.textContent = t('chat.typing', { name: name });
  typingAvatar.textContent = U.initials(name);
  typingAvatar.style.background = U.avatarColor(name);
  typingEl.hidden = false;
  scrollToBottom(stick);
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
}
function hideTyping() { clearTimeout(typingTimer); typingEl.hidden = true; }

/* ----------------------------------------------------------------- HTTP */
function createVisitor() {
  return U.request('POST', '/v1/visitors', { body: {} }).then(function (r) {
    if (r.status === 201 || r.ok) {
      if (!r.data || !r.data.visitor_token) throw new Error('no visitor_token');
      saveToken(r.data.visitor_token);
      return token;
    }
    var err = new Error('visitor ' + r.status); err.resp = r; throw err;
  });
}

function ensureVisitor() {
  if (token) return Promise.resolve(token);
  var saved = loadToken();
  if (saved) { token = saved; return Promise.resolve(token); }
  return createVisitor();
}

function applyConversation(data) {
  conv = { id: data.id, status: data.status || 'bot', agent_name: data.agent_name || null };
  if (conv.agent_name) lastAgentName = conv.agent_name;
  hadConversation = true;
}

/** GET /v1/conversations/current; merges history. Handles 401 by re-registering once. */
function loadCurrent(retried) {
  return ensureVisitor().then(function () {
    return U.request('GET', '/v1/conversations/current', { token: token });
  }).then(function (r) {
    if (r.status === 401 && !retried) {
      saveToken(null);
      return createVisitor().then(function () { return loadCurrent(true); });
    }
    if (r.status === 404) {
      if (conv) { conv = null; }
      loaded = true;
      renderStatus(); regroup();
      return null;
    }
    if (!r.ok) { var err = new Error('current ' + r.status); err.resp = r; throw err; }
    var prevAgent = conv && conv.agent_name;
    applyConversation(r.data || {});
    // Agent bubbles rendered before we knew the agent's name get it now.
    if (conv.agent_name && conv.agent_name !== prevAgent && items.some(function (it) { return it.from === 'agent'; })) rerenderAll();
    var first = !loaded;
    loaded = true;
    (r.data.messages || []).forEach(function (m) { ingest(m, { force: true, fromHistory: true }); });
    renderStatus(); regroup();
    if (first) scrollToBottom(true);
    return conv;
  });
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(function () {
    loadCurrent().catch(function () { /* transient; status refreshes on next event */ });
  }, 250);
}

/* ------------------------------------------------------------ WebSocket */
function connect() {
  clearTimeout(reconnectTimer);
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
  var sock;
  try { sock = new WebSocket(U.wsUrl('/v1/ws/customer', token)); }
  catch (e) { scheduleReconnect(); return; }
  ws = sock;
  sock.onopen = function () {
    if (ws !== sock) return;
    var wasReconnect = wsEverOpened;
    wsEverOpened = true;
    var hadTrouble = wsAttempts > 0;
    wsAttempts = 0;
    if (hadTrouble) setBanner('back'); else setBanner(null);
    var after = wasReconnect ? loadCurrent() : Promise.resolve();
    after.catch(function () {}).then(resendPending);
  };
  sock.onmessage = function (ev) {
    if (ws !== sock) return;
    var msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    handleServer(msg);
  };
  sock.onclose = function () {
    if (ws !== sock) return;
    ws = null;
    scheduleReconnect();
  };
  sock.onerror = function () { /* onclose follows */ };
}

function scheduleReconnect() {
  clearTimeout(reconnectTimer);
  var delay = U.backoff(wsAttempts);
  wsAttempts++;
  // Avoid flashing a banner for a blip: show it from the second try on.
  if (wsAttempts >= 2 || !wsEverOpened) setBanner(wsEverOpened ? 'reconnecting' : 'offline');
  reconnectTimer = setTimeout(function () {
    // Validate/refresh the token first (401 -> new visitor), then reconnect.
    loadCurrent().then(connect, function () { scheduleReconnect(); });
  }, delay);
}

function wsOpen() { return ws && ws.readyState === WebSocket.OPEN; }

function handleServer(msg) {
  switch (msg.type) {
    case 'ack': {
      var it = msg.client_id && byClient.get(msg.client_id);
      if (it) markSent(it, msg.message_id);
      break;
    }
    case 'message':
      ingest(msg);
      break;
    case 'typing':
      if (msg.from !== 'customer') showTyping();
      break;
    case 'error': {
      var m = /retry after (\d+)/i.exec(msg.message || '');
      handleError(msg.code, msg.message, msg.client_id, m ? Number(m[1]) : null);
      break;
    }
    default:
      break;
  }
}

function handleError(code, message, clientId, retryAfter) {
  if (code === 'rate_limited') {
    // Take the unsent message back into the composer so it can be retried.
    var victim = clientId && byClient.get(clientId);
    if (!victim || victim.state === 'sent') {
      var arr = Array.from(pending.values());
      victim = arr[arr.length - 1];
    }
    if (victim && victim.state !== 'sent') {
      var text = victim.text;
      removeItem(victim);
      if (!input.value.trim()) input.value = text;
      else if (input.value.indexOf(text) === -1) input.value = text + '\n' + input.value;
      U.autosize(input);
      updateSendState();
      input.focus();
    }
    showNotice(retryAfter ? t('notice.rateLimitedIn', { s: retryAfter }) : t('notice.rateLimited'));
    return;
  }
  if (code === 'payload_too_large' || code === 'message_too_long' || code === 'too_large') {
    showNotice(t('notice.tooLong'));
    return;
  }
  if (code === 'not_ready' || code === 'invalid_request') {
    // The server refused the message (first in, first refused): offer a retry.
    var first = clientId && byClient.get(clientId);
    if (!first || first.state === 'sent') first = Array.from(pending.values())[0];
    if (first) { clearTimeout(first.ackTimer); first.state = 'failed'; renderDelivery(first); }
    showNotice(code === 'not_ready' ? t('notice.notSaved') : t('notice.generic', { msg: message || code }));
    return;
  }
  showNotice(t('notice.generic', { msg: message || code || '?' }));
}

/* ---------------------------------------------------------------- send */
function transmit(item) {
  clearTimeout(item.ackTimer);
  if (wsOpen()) {
    ws.send(JSON.stringify({ type: 'message', text: item.text, client_id: item.client_id }));
    item.ackTimer = setTimeout(function () {
      if (item.state === 'pending') { item.state = 'failed'; renderDelivery(item); }
    }, ACK_TIMEOUT_MS);
    return;
  }
  // REST fallback while the socket is (re)connecting.
  ensureVisitor().then(function () {
    return U.request('POST', '/v1/messages', { token: token, body: { text: item.text, client_id: item.client_id } });
  }).then(function (r) {
    if (r.ok) {
      markSent(item, r.data && r.data.message_id);
      if (r.data && r.data.conversation_id && (!conv || conv.id !== r.data.conversation_id)) scheduleRefresh();
      return;
    }
    if (r.status === 401) {
      saveToken(null);
      return createVisitor().then(function () { transmit(item); });
    }
    if (r.status === 429) return handleError('rate_limited', null, item.client_id, r.retryAfter);
    if (r.status === 413) { removeItem(item); input.value = item.text; U.autosize(input); updateSendState(); return handleError('too_large'); }
    if (r.status === 503) { showNotice(t('notice.unavailable')); return; } // stays pending, re-sent on reconnect
    var e = r.data && r.data.error;
    item.state = 'failed'; renderDelivery(item);
    handleError(e && e.code, e && e.message, item.client_id, null);
  }).catch(function () {
    // network error: keep pending; resendPending() runs on reconnect
    item.ackTimer = setTimeout(function () {
      if (item.state === 'pending') { item.state = 'failed'; renderDelivery(item); }
    }, ACK_TIMEOUT_MS);
  });
}

function resendPending() {
  pending.forEach(function (item) {
    if (item.state !== 'sent') { item.state = 'pending'; renderDelivery(item); transmit(item); }
  });
}

function send(text) {
  text = String(text || '').replace(/\s+$/, '');
  if (!text.trim()) return;
  hideNotice();
  var item = {
    id: null, client_id: U.uuid(), from: 'customer', channel: 'web',
    text: text, sent_at: new Date().toISOString(), state: 'pending'
  };
  pending.set(item.client_id, item);
  addItem(item, { force: true });
  transmit(item);
}

function updateSendState() { sendBtn.disabled = !input.value.trim(); }

function submitComposer() {
  var text = input.value;
  if (!text.trim()) return;
  input.value = '';
  U.autosize(input);
  updateSendState();
  send(text);
  input.focus();
}

form.addEventListener('submit', function (ev) { ev.preventDefault(); submitComposer(); });
input.addEventListener('keydown', function (ev) {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
    ev.preventDefault();
    submitComposer();
  }
});
input.addEventListener('input', function () {
  U.autosize(input);
  updateSendState();
  var now = Date.now();
  if (input.value.trim() && wsOpen() && now - lastTypingSent > TYPING_SEND_EVERY_MS) {
    lastTypingSent = now;
    try { ws.send(JSON.stringify({ type: 'typing' })); } catch (e) { /* ignore */ }
  }
});
$('chat-notice-close').addEventListener('click', hideNotice);

/* ------------------------------------------------------- panel / page UI */
function openPanel(focus) {
  panel.classList.remove('is-hidden');
  launcher.hidden = true;
  launcher.setAttribute('aria-expanded', 'true');
  document.body.classList.add('chat-open');
  unread = 0; launcherBadge.hidden = true;
  scrollToBottom(true);
  if (focus) input.focus();
}
function closePanel() {
  panel.classList.add('is-hidden');
  launcher.hidden = false;
  launcher.setAttribute('aria-expanded', 'false');
  document.body.classList.remove('chat-open');
  launcher.focus();
}
launcher.addEventListener('click', function () { openPanel(true); });
$('chat-minimize').addEventListener('click', closePanel);
panel.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') closePanel(); });
$('open-chat-cta').addEventListener('click', function () { openPanel(true); });

greeting.addEventListener('click', function (ev) {
  var chip = ev.target.closest('[data-quick]');
  if (!chip) return;
  send(t(chip.getAttribute('data-quick')));
  input.focus();
});

document.querySelectorAll('[data-ask]').forEach(function (btn) {
  btn.addEventListener('click', function () {
    openPanel(false);
    input.value = t(btn.getAttribute('data-ask'));
    U.autosize(input); updateSendState();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  });
});

// Help-center search: filter topic cards client-side.
var search = $('topic-search-input');
$('topic-search').addEventListener('submit', function (ev) { ev.preventDefault(); });
search.addEventListener('input', function () {
  var q = search.value.trim().toLowerCase();
  var shown = 0;
  document.querySelectorAll('.topic-card').forEach(function (card) {
    var hit = !q || card.textContent.toLowerCase().indexOf(q) !== -1 || card.getAttribute('data-topic').indexOf(q) !== -1;
    card.hidden = !hit;
    if (hit) shown++;
  });
  $('topics-empty').hidden = shown > 0;
});

/* ------------------------------------------------------------- language */
function rerenderAll() {
  items.forEach(function (it) {
    var old = it.node;
    var fresh = buildNode(it);
    old.replaceWith(fresh);
  });
  regroup();
  renderStatus();
  if (!typingEl.hidden) typingLabel.textContent = t('chat.typing', { name: agentName() });
  if (!banner.hidden && banner.textContent) { /* keep */ }
}
i18n.onChange(rerenderAll);
i18n.bindSwitches();
i18n.apply();

/* ---------------------------------------------------------------- boot */
document.body.classList.add('chat-open');
renderStatus();
greeting.hidden = true;

function boot() {
  loadCurrent().then(function () { connect(); }, function () {
    loaded = true; renderStatus(); regroup();
    setBanner('offline');
    wsAttempts++;
    reconnectTimer = setTimeout(boot, U.backoff(wsAttempts));
  });
}
boot();

// Small hook for tests / embedding hosts.
window.SwitchboardWidget = {
  open: function () { openPanel(true); },
  close: closePanel,
  send: send,
  get state() { return { token: token, conversation: conv, connected: wsOpen(), pending: pending.size }; }
};
