/*
 * Switchboard desk — the connection to /v1/ws/agent: connecting and reconnecting with back-off,
 * the indicator in the top bar, "opened in another window" (and "Use here"), and sending frames.
 * What arrives goes to the handler protocol.js gives.
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app } from './shared.js';

var connEl = $('conn'), connText = $('conn-text'), reclaimBtn = $('reclaim');
var ws = null, connected = false, manualClose = false, replaced = false, attempts = 0, failsWithoutHello = 0, reconnectTimer = null;
var handle = function () {}, expired = function () {};

/** What to do with each frame from the server, and when the server no longer takes the session. */
export function configureConnection(opts) { handle = opts.onMessage; expired = opts.onExpired; }

/** Sends a frame; without a connection, says so in a toast and returns false. */
export function send(obj) {
  if (!ws || ws.readyState !== WebSocket.OPEN) { U.toast(t('toast.notConnected'), 'error'); return false; }
  ws.send(JSON.stringify(obj));
  return true;
}
/** Sends a frame if connected, silently (typing notices). */
export function sendQuietly(obj) { if (isOpen()) ws.send(JSON.stringify(obj)); }
export function isOpen() { return !!ws && ws.readyState === WebSocket.OPEN; }
export function isConnected() { return connected; }

/** Signed in: connect afresh. */
export function startConnection() {
  manualClose = false; replaced = false; attempts = 0; failsWithoutHello = 0;
  connect();
}
/** Signed out: go offline and close for good. */
export function disconnect() {
  manualClose = true;
  clearTimeout(reconnectTimer);
  if (ws) {
    try { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'status', status: 'offline' })); } catch (e) { /* ignore */ }
    try { ws.close(1000, 'logout'); } catch (e) { /* ignore */ }
  }
  ws = null; connected = false;
}
/** The UI language changed. */
export function relabelConnection() { setConn(connEl.getAttribute('data-state')); }
/** The server says the desk was opened in another window: stop here instead of fighting over it. */
export function markReplaced() { replaced = true; setConn('replaced'); }
/** The server ended the sign-in (account deactivated, signed out, role or password changed):
 * the token will never work again, so no reconnecting; back to the login with `message`. */
export function endSession(message) {
  manualClose = true;
  clearTimeout(reconnectTimer);
  expired(message);
}

function setConn(state) {
  connEl.setAttribute('data-state', state === 'replaced' ? 'offline' : state);
  connText.textContent = t('conn.' + state);
  reclaimBtn.hidden = state !== 'replaced';
}
reclaimBtn.addEventListener('click', function () {
  replaced = false; attempts = 0; failsWithoutHello = 0;
  if (ws) { try { ws.close(); } catch (e) { /* ignore */ } ws = null; }
  connect();
});

function connect() {
  clearTimeout(reconnectTimer);
  if (!app.session) return;
  setConn(attempts > 0 ? 'offline' : 'connecting');
  var sock;
  try { sock = new WebSocket(U.wsUrl('/v1/ws/agent', app.session.token)); }
  catch (e) { scheduleReconnect(); return; }
  ws = sock;
  var gotHello = false;
  sock.onopen = function () { if (ws === sock) { connected = true; } };
  sock.onmessage = function (ev) {
    if (ws !== sock) return;
    var msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.type === 'hello') { gotHello = true; failsWithoutHello = 0; attempts = 0; setConn('online'); }
    handle(msg);
  };
  sock.onclose = function () {
    if (ws !== sock) return;
    ws = null; connected = false;
    if (manualClose) return;
    if (replaced) { setConn('replaced'); return; } // another window owns the desk now
    if (!gotHello) failsWithoutHello++;
    // A token the server no longer accepts fails the upgrade every time.
    if (failsWithoutHello >= 4) { expired(); return; }
    scheduleReconnect();
  };
  sock.onerror = function () { /* onclose follows */ };
}

function scheduleReconnect() {
  setConn('offline');
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(connect, U.backoff(attempts++));
}
