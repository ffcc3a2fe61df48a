/*
 * Switchboard desk — what the server says on /v1/ws/agent and which panel it goes to: hello
 * (who I am, my role, my status, the away reasons, the conversations I hold), status, offers,
 * assignments, messages (internal notes and supervisors' whispers among them), wrap-ups, assist
 * suggestions, give-backs, transfers, a changed profile (skills) and errors (a sign-in the server
 * ended goes back to the login).
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { app } from './shared.js';
import { endSession, markReplaced } from './connection.js';
import { onStatus, renderSkills } from './status.js';
import { dropAllOffers, dropFailedAccepts, onOffer, onOfferGone } from './offers.js';
import { mergeHistory, newConv, onAssigned, onMessage, onWrappedUp, renderConvList, setSelected } from './conversations.js';
import { refreshNode, renderHeaderState, renderSelection } from './chat.js';
import { onAssist } from './assist.js';
import { onGivenBack } from './giveback.js';
import { onTransferError, onTransferFailed, onTransferRequested, onTransferred } from './transfer.js';

var toast = U.toast;
var renderMe = function () {};
/** The top bar's "me" (desk.js draws it). */
export function whenMeChanges(fn) { renderMe = fn; }

export function handle(msg) {
  switch (msg.type) {
    case 'hello': onHello(msg); break;
    case 'status': onStatus(msg.status, msg.reason); break;
    case 'offer': onOffer(msg); break;
    case 'offer_revoked': onOfferGone(msg.task_id, 'revoked'); break;
    case 'assigned': onAssigned(msg); break;
    case 'message': onMessage(msg); break;
    case 'wrapped_up': onWrappedUp(msg); break;
    case 'assist': onAssist(msg); break;
    case 'given_back': onGivenBack(msg); break;
    case 'profile_changed': onProfileChanged(msg); break;
    case 'transfer_requested': onTransferRequested(msg); break;
    case 'transferred': onTransferred(msg); break;
    case 'transfer_failed': onTransferFailed(msg); break;
    case 'error': onError(msg); break;
    default: break;
  }
}

function onHello(msg) {
  app.me.id = msg.agent_id || app.me.id;
  app.me.name = msg.name || app.me.name;
  app.me.skills = Array.isArray(msg.skills) ? msg.skills : [];
  app.me.role = msg.role || app.me.role;
  app.me.awayReasons = Array.isArray(msg.away_reasons) ? msg.away_reasons.filter(function (r) { return typeof r === 'string' && r; }) : [];
  onStatus(msg.status || 'offline', msg.reason || msg.away_reason);
  // Offers don't survive a reconnect; the server re-offers if still relevant.
  dropAllOffers();
  var seen = new Set();
  (msg.conversations || []).forEach(function (c) {
    seen.add(c.conversation_id);
    var existing = app.convs.get(c.conversation_id);
    var conv = existing || newConv(c.conversation_id);
    conv.task_id = c.task_id || conv.task_id;
    conv.customer = c.customer || conv.customer;
    conv.context = c.context || conv.context;
    conv.closed = false;
    mergeHistory(conv, c.history || []);
    app.convs.set(conv.id, conv);
  });
  // Conversations we had open that the server no longer lists were closed meanwhile.
  app.convs.forEach(function (c) { if (!seen.has(c.id) && !c.closed) { c.closed = true; c.resolution = c.resolution || null; } });
  if (!app.selectedId || !app.convs.has(app.selectedId)) {
    var firstActive = Array.from(app.convs.values()).find(function (c) { return !c.closed; });
    setSelected(firstActive ? firstActive.id : null);
  }
  renderMe(); renderSkills(); renderConvList(); renderSelection();
}

/** An admin, supervisor or team lead changed my skills (or name, languages, capacity). */
function onProfileChanged(msg) {
  app.me.name = msg.name || app.me.name;
  app.me.skills = Array.isArray(msg.skills) ? msg.skills : app.me.skills;
  renderMe(); renderSkills();
}

function onError(msg) {
  if (msg.code === 'replaced') {
    // Opened in another window: stop here instead of fighting over the session.
    markReplaced();
    return;
  }
  var key = 'err.' + msg.code;
  var text = t(key);
  if (text === key) text = msg.message || msg.code || 'Error';
  if (msg.code === 'account_deactivated' || msg.code === 'signed_out') {
    // The server ended this sign-in and closes the desk: no reconnecting with a dead token.
    endSession(text);
    return;
  }
  toast(text, 'error');
  // A transfer the server refused (unknown agent, one already pending…) is not a reply.
  if (onTransferError(msg)) return;
  // A reply the server refused: fail the oldest pending one so it can be retried.
  var oldest = null, owner = null;
  app.convs.forEach(function (c) {
    c.messages.forEach(function (m) {
      if (m.pending && (!oldest || m.sent_at < oldest.sent_at)) { oldest = m; owner = c; }
    });
  });
  if (oldest && msg.code !== 'offer_expired' && msg.code !== 'replaced') {
    clearTimeout(oldest.timer);
    oldest.pending = false; oldest.failed = true;
    if (app.selectedId === owner.id) refreshNode(oldest);
  }
  // An accept that failed: drop the stale card.
  dropFailedAccepts(msg.task_id);
  app.convs.forEach(function (c) {
    if (c.wrapping || c.givingBack) { c.wrapping = false; c.givingBack = false; if (app.selectedId === c.id) renderHeaderState(c); }
  });
}
