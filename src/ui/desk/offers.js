/*
 * Switchboard desk — incoming offers (left pane): a card per offer with the customer, priority,
 * the bot's hand-off context and a countdown; Accept / Reject. What an offer said stays known
 * (offerInfoOf) for the customer panel after it is accepted.
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, avatarNode, customerName, tierLabel } from './shared.js';
import { send } from './connection.js';
import { offerContext, summaryText } from './handoff.js';
import { updateTitle } from './conversations.js';

var el = U.el, toast = U.toast;
var offersBox = $('offers'), offerList = $('offer-list'), offersCount = $('offers-count');
var offers = new Map();       // task_id -> offer
var offerInfo = new Map();    // task_id -> offer payload (kept for context card)

export function offerCount() { return offers.size; }
/** What the offer of `taskId` said (its customer, context, skills, priority, summary), if known. */
export function offerInfoFor(taskId) { return offerInfo.get(taskId); }
/** What the offer behind `conv` said: by its task, else by its conversation. */
export function offerInfoOf(conv) {
  var info = (conv.task_id && offerInfo.get(conv.task_id)) || null;
  if (!info) offerInfo.forEach(function (o) { if (o.conversation_id === conv.id) info = o; });
  return info;
}
/** Offers don't survive a reconnect; the server re-offers if still relevant. */
export function dropAllOffers() { Array.from(offers.keys()).forEach(function (id) { removeOffer(id); }); }
/** An accept that failed (for `taskId`, or any): drop the stale card. */
export function dropFailedAccepts(taskId) {
  offers.forEach(function (o) { if (o.accepting && (!taskId || taskId === o.task_id)) removeOffer(o.task_id); });
  renderOffers();
}
/** The UI language changed: the cards are built again. */
export function rebuildOffers() {
  offers.forEach(function (o) { clearInterval(o.timer); if (o.node) o.node.remove(); o.node = null; });
  renderOffers();
}
/** Signed out. */
export function resetOffers() {
  offers.forEach(function (o) { clearInterval(o.timer); clearTimeout(o.expireTimer); });
  offers.clear(); offerInfo.clear();
}
export function clearOfferList() { offerList.textContent = ''; }

export function onOffer(msg) {
  if (!msg.task_id) return;
  if (offers.has(msg.task_id)) removeOffer(msg.task_id);
  var total = Math.max(0, Number(msg.expires_in_ms) || 30000);
  var offer = {
    task_id: msg.task_id, conversation_id: msg.conversation_id, data: msg,
    total: total, deadline: Date.now() + total, accepting: false
  };
  offers.set(msg.task_id, offer);
  offerInfo.set(msg.task_id, msg);
  offer.expireTimer = setTimeout(function () { onOfferGone(msg.task_id, 'expired'); }, total + 1500);
  renderOffers();
}

export function onOfferGone(taskId, why) {
  var o = offers.get(taskId);
  if (!o) return;
  if (why === 'revoked' && !o.accepting) toast(t('toast.revoked', { name: customerName(o.data.customer) }));
  if (why === 'expired') toast(t('toast.expired', { name: customerName(o.data.customer) }));
  removeOffer(taskId);
  renderOffers();
}

export function removeOffer(taskId) {
  var o = offers.get(taskId);
  if (!o) return;
  clearInterval(o.timer); clearTimeout(o.expireTimer);
  if (o.node) o.node.remove();
  offers.delete(taskId);
}

function fmtSecs(ms) {
  var s = Math.max(0, Math.ceil(ms / 1000));
  return Math.floor(s / 60) + ':' + ('0' + (s % 60)).slice(-2);
}

function buildOffer(o) {
  var d = o.data, c = d.customer || {};
  var name = customerName(c);
  var prio = Number(d.priority);
  var badges = el('div', { class: 'offer-meta' });
  if (c.tier) badges.appendChild(el('span', { class: 'badge tier-' + String(c.tier).toLowerCase(), text: tierLabel(c.tier) }));
  if (!isNaN(prio) && d.priority != null && prio !== 0) {
    // Standard 0, urgent +50, VIP +100 (higher = more urgent).
    var pcls = prio >= 100 ? ' prio-high' : prio >= 50 ? ' badge-warn' : '';
    badges.appendChild(el('span', { class: 'badge prio' + pcls, title: t('offer.priorityTitle', { n: prio }), text: t('offer.priority', { n: prio }) }));
  }
  if (d.intent && !d.context) badges.appendChild(el('span', { class: 'badge badge-accent', text: d.intent }));
  (d.skills || []).forEach(function (s) { badges.appendChild(el('span', { class: 'badge', text: s })); });

  var timeEl = el('span', { class: 'offer-time', 'data-testid': 'offer-countdown', 'aria-label': t('offer.expiresIn', { s: fmtSecs(o.deadline - Date.now()) }) , text: fmtSecs(o.deadline - Date.now()) });
  var bar = el('span');
  var accept = el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'offer-accept', text: o.accepting ? t('offer.accepting') : t('offer.accept') });
  var reject = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'offer-reject', text: t('offer.reject') });
  accept.disabled = reject.disabled = o.accepting;
  accept.addEventListener('click', function () {
    if (o.accepting) return;
    if (!send({ type: 'accept', task_id: o.task_id })) return;
    o.accepting = true;
    accept.textContent = t('offer.accepting');
    accept.disabled = reject.disabled = true;
  });
  reject.addEventListener('click', function () {
    if (!send({ type: 'reject', task_id: o.task_id })) return;
    removeOffer(o.task_id);
    renderOffers();
  });

  // A colleague (or a supervisor) transferring the conversation: who, and their note.
  var xfer = d.transfer && typeof d.transfer === 'object' ? d.transfer : null;
  var xferBox = xfer ? el('div', { class: 'offer-xfer', 'data-testid': 'offer-transfer' }, [
    el('span', { class: 'offer-xfer-icon', 'aria-hidden': 'true', text: '⇄' }),
    el('div', { class: 'offer-xfer-body' }, [
      el('strong', { 'data-testid': 'offer-transfer-from', text: t('offer.transferFrom', { name: xfer.from_name || t('xfer.aColleague') }) }),
      xfer.note ? el('p', { class: 'offer-xfer-note', 'data-testid': 'offer-transfer-note', text: xfer.note }) : null
    ])
  ]) : null;

  var node = el('li', { class: 'offer' + (xfer ? ' is-transfer' : ''), 'data-testid': 'offer-card', 'data-task-id': o.task_id, 'data-conversation-id': o.conversation_id || '', 'aria-label': name }, [
    xferBox,
    el('div', { class: 'offer-top' }, [
      avatarNode(name),
      el('div', { class: 'offer-who' }, [el('div', { class: 'offer-name', text: name }), badges]),
      timeEl
    ]),
    d.context ? offerContext(d.context) : null,
    el('p', { class: 'offer-summary' + (d.context ? ' is-short' : ''), text: (d.context && (!d.summary || d.summary === d.context.summary) ? summaryText(d.context, d.summary) : d.summary) || t('offer.noSummary') }),
    el('div', { class: 'offer-actions' }, [accept, reject]),
    el('div', { class: 'offer-bar', 'aria-hidden': 'true' }, [bar])
  ]);
  o.node = node;

  // Countdown bar: one linear CSS transition to zero; text updates 4×/s.
  var left = Math.max(0, o.deadline - Date.now());
  bar.style.transform = 'scaleX(' + (o.total ? left / o.total : 0) + ')';
  requestAnimationFrame(function () {
    requestAnimationFrame(function () {
      bar.style.transition = 'transform ' + left + 'ms linear';
      bar.style.transform = 'scaleX(0)';
    });
  });
  clearInterval(o.timer);
  var tick = function () {
    var ms = o.deadline - Date.now();
    timeEl.textContent = fmtSecs(ms);
    var urgent = ms < Math.min(10000, o.total * 0.25);
    timeEl.classList.toggle('is-urgent', urgent);
    bar.classList.toggle('is-urgent', urgent);
    if (ms <= 0) clearInterval(o.timer);
  };
  tick();
  o.timer = setInterval(tick, 250);
  return node;
}

export function renderOffers() {
  var sorted = Array.from(offers.values()).sort(function (a, b) {
    return (Number(b.data.priority) || 0) - (Number(a.data.priority) || 0) || a.deadline - b.deadline;
  });
  sorted.forEach(function (o) { if (!o.node) buildOffer(o); offerList.appendChild(o.node); });
  offersBox.hidden = offers.size === 0;
  offersCount.textContent = String(offers.size);
  updateTitle();
}
