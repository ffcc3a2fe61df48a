/*
 * Switchboard console — the supervisor's own connection to /v1/ws/agent, for watching and
 * helping live conversations (monitor, whisper, barge, transfer). It is opened when first
 * needed and reconnects with back-off while it is wanted. It never sends a status: a
 * supervisor's desk connection stays `offline` for routing, so no conversation is offered to it.
 *
 *   configureSocket({ onMessage(frame), onState(state) })   state: 'connecting' | 'ready' |
 *                                                            'offline' | 'refused' | 'replaced'
 *   sendFrame(frame)     sends now, or once the server has said hello (connecting if needed)
 *   closeSocket()        closes for good (signed out, the section left)
 */
import * as U from '../common/util.js';
import { app } from './shared.js';

var ws = null, ready = false, wanted = false, attempts = 0, failsWithoutHello = 0, timer = null, queue = [];
var handlers = { onMessage: function () {}, onState: function () {} };
var state = 'offline';

export function configureSocket(h) { handlers = Object.assign(handlers, h); }
export function socketState() { return state; }

function setState(s) { state = s; handlers.onState(s); }

/** Sends `frame` once the connection is ready; returns false when it cannot be sent at all. */
export function sendFrame(frame) {
  if (!app.session) return false;
  if (ready && ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(frame)); return true; }
  queue.push(frame);
  if (!ws) { wanted = true; attempts = 0; failsWithoutHello = 0; connect(); }
  return true;
}
/** Connects (again) if not connected: after "opened elsewhere", or to listen. */
export function openSocket() {
  wanted = true;
  if (state === 'replaced' || state === 'refused') { attempts = 0; failsWithoutHello = 0; }
  if (!ws) connect();
}
export function closeSocket() {
  wanted = false; ready = false; queue = [];
  clearTimeout(timer);
  if (ws) { var s = ws; ws = null; try { s.close(1000, 'done'); } catch (e) { /* ignore */ } }
  setState('offline');
}

function connect() {
  clearTimeout(timer);
  if (!app.session || !wanted) return;
  setState('connecting');
  var sock;
  try { sock = new WebSocket(U.wsUrl('/v1/ws/agent', app.session.token)); } catch (e) { retry(); return; }
  ws = sock; ready = false;
  var gotHello = false;
  sock.onmessage = function (ev) {
    if (ws !== sock) return;
    var msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.type === 'hello') {
      gotHello = true; ready = true; attempts = 0; failsWithoutHello = 0;
      setState('ready');
      handlers.onMessage(msg);
      var q = queue; queue = [];
      q.forEach(function (f) { sock.send(JSON.stringify(f)); });
      return;
    }
    if (msg.type === 'error' && msg.code === 'replaced') { wanted = false; setState('replaced'); }
    handlers.onMessage(msg);
  };
  sock.onclose = function () {
    if (ws !== sock) return;
    ws = null; ready = false;
    if (!wanted) { if (state !== 'replaced') setState('offline'); return; }
    if (!gotHello) failsWithoutHello++;
    // A server that refuses the upgrade every time will not let this account in.
    if (failsWithoutHello >= 3) { wanted = false; queue = []; setState('refused'); return; }
    retry();
  };
  sock.onerror = function () { /* onclose follows */ };
}
function retry() {
  setState('offline');
  clearTimeout(timer);
  timer = setTimeout(connect, U.backoff(attempts++));
}
