/*
 * Switchboard desk — what the bot knew when it handed a customer over: the context card at the
 * top of the conversation (reason, intent and confidence, flow, collected slots, summary, the
 * bot transcript) and its compact version on an offer card.
 */
import { i18n, t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, customerName, tierLabel } from './shared.js';
import { channelBadge } from './channels.js';

var el = U.el;
var handoffEl = $('handoff');

var REASONS = ['requested', 'not_understood', 'complaint', 'vip', 'flow'];

export function pct(x) {
  var n = Number(x);
  return x == null || isNaN(n) ? null : Math.round(Math.max(0, Math.min(1, n)) * 100) + '%';
}
function reasonBadge(reason, testid) {
  var known = REASONS.indexOf(reason) !== -1;
  var k = 'hf.reason.' + reason;
  return el('span', {
    class: 'reason reason-' + (known ? reason : 'other'), 'data-testid': testid, 'data-reason': reason || '',
    title: t('hf.reasonTitle')
  }, [el('span', { class: 'reason-dot', 'aria-hidden': 'true' }), known ? t(k) : String(reason || '—')]);
}
function slotLabel(name) { var k = 'slot.' + name, s = t(k); return s === k ? String(name) : s; }
/** Slots in a stable, useful order: the order the bot asked for them is not on the wire, so known keys first. */
function slotEntries(ctx) {
  var slots = (ctx && ctx.slots) || {};
  var order = ['order_no', 'phone', 'address', 'reason', 'name', 'email'];
  return Object.keys(slots).sort(function (a, b) {
    var ia = order.indexOf(a), ib = order.indexOf(b);
    return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
  }).map(function (k) { return [k, String(slots[k])]; });
}
function slotChip(k, v, testid) {
  var shown = /^(yes|no)$/i.test(v) ? t('hf.' + v.toLowerCase()) : v;
  return el('li', { class: 'slot', 'data-testid': testid, 'data-slot': k, 'data-value': v, title: k + ' = ' + v }, [
    el('span', { class: 'slot-k', text: slotLabel(k) }),
    el('span', { class: 'slot-v', text: shown })
  ]);
}
function intentChip(ctx, testid) {
  if (!ctx.intent || ctx.intent === ctx.flow) return null; // the flow chip says it already
  var p = pct(ctx.confidence);
  return el('span', { class: 'hf-chip', 'data-testid': testid, title: t('hf.intent') + (p ? ' · ' + t('hf.confidence', { p: p }) : '') }, [
    el('span', { class: 'hf-chip-k', text: t('hf.intent') }),
    el('span', { class: 'hf-chip-v', text: ctx.intent }),
    p ? el('span', { class: 'hf-conf', 'data-testid': testid + '-confidence', text: p }) : null
  ]);
}
/** The bot's hand-off summary in the desk's language when the server sent one, else `fallback`. */
export function summaryText(ctx, fallback) {
  var all = (ctx && ctx.summaries) || {};
  return (i18n.lang === 'zh-CN' ? all.zh || all.en : all.en || all.zh) || (ctx && ctx.summary) || fallback || '';
}
/** The flow's title in the desk's language when the server sent one, else its id. */
function flowName(ctx) {
  var titles = ctx.flow_title || {};
  return (i18n.lang === 'zh-CN' ? titles.zh || titles.en : titles.en || titles.zh) || ctx.flow;
}

function flowChip(ctx, testid) {
  if (!ctx.flow) return null;
  var p = ctx.intent === ctx.flow ? pct(ctx.confidence) : null;
  return el('span', { class: 'hf-chip hf-chip-flow', 'data-testid': testid, title: t('hf.flow') + ': ' + ctx.flow + (p ? ' · ' + t('hf.confidence', { p: p }) : '') }, [
    el('span', { class: 'hf-chip-k', text: t('hf.flow') }),
    el('code', { class: 'hf-chip-v', text: flowName(ctx) }),
    p ? el('span', { class: 'hf-conf', 'data-testid': testid + '-confidence', text: p }) : null
  ]);
}

/** The compact version on an offer card: reason, intent, flow and the first slots. */
export function offerContext(ctx) {
  var head = el('div', { class: 'offer-ctx-head' }, [reasonBadge(ctx.reason, 'offer-context-reason'), intentChip(ctx, 'offer-context-intent'), flowChip(ctx, 'offer-context-flow')]);
  var slots = slotEntries(ctx), shown = slots.slice(0, 2);
  var list = null;
  if (slots.length) {
    list = el('ul', { class: 'slots slots-sm', 'data-testid': 'offer-context-slots', 'aria-label': t('hf.slots') });
    shown.forEach(function (kv) { list.appendChild(slotChip(kv[0], kv[1], 'offer-context-slot')); });
    if (slots.length > shown.length) list.appendChild(el('li', { class: 'slot slot-more', text: t('hf.more', { n: slots.length - shown.length }) }));
  }
  return el('div', { class: 'offer-ctx', 'data-testid': 'offer-context' }, [head, list]);
}

function hfWho(line, conv) {
  if (line.from === 'customer') return customerName(conv && conv.customer) || t('hf.customer');
  if (line.from === 'bot') return t('desk.bot');
  if (line.from === 'agent') return t('desk.role.agent');
  return t('desk.system');
}

/** The card at the top of the conversation: what the bot knew when it handed over. */
export function renderHandoff(conv) {
  var ctx = conv && conv.context;
  handoffEl.textContent = '';
  handoffEl.hidden = !ctx;
  if (!ctx) return;
  var reason = REASONS.indexOf(ctx.reason) !== -1 ? ctx.reason : 'other';
  handoffEl.className = 'handoff handoff-' + reason;
  var tier = ctx.tier ? el('span', { class: 'badge tier-' + String(ctx.tier).toLowerCase(), 'data-testid': 'context-tier', text: tierLabel(ctx.tier) }) : null;
  var tags = (ctx.tags || []).map(function (tag) { return el('span', { class: 'tag tag-sm', 'data-testid': 'context-tag', text: tag }); });
  var head = el('div', { class: 'hf-head' }, [
    el('h3', { class: 'sr-only', id: 'handoff-title', text: t('hf.title') }),
    reasonBadge(ctx.reason, 'context-reason'),
    intentChip(ctx, 'context-intent'),
    flowChip(ctx, 'context-flow'),
    el('span', { class: 'hf-spacer' }),
    tier
  ].concat(tags));
  handoffEl.appendChild(head);

  var slots = slotEntries(ctx);
  if (slots.length) {
    var list = el('ul', { class: 'slots', 'data-testid': 'context-slots', 'aria-label': t('hf.slots') });
    slots.forEach(function (kv) { list.appendChild(slotChip(kv[0], kv[1], 'context-slot')); });
    handoffEl.appendChild(list);
  }
  var summary = summaryText(ctx);
  if (summary) handoffEl.appendChild(el('p', { class: 'hf-summary', 'data-testid': 'context-summary', title: summary, text: summary }));

  var lines = ctx.transcript || [];
  if (lines.length) {
    var ol = el('ol', { class: 'hf-lines' });
    lines.forEach(function (ln) {
      var from = ln.from === 'customer' || ln.from === 'bot' ? ln.from : 'system';
      ol.appendChild(el('li', { class: 'hf-line hf-from-' + from, 'data-testid': 'context-line', 'data-from': ln.from || '' }, [
        el('div', { class: 'hf-line-meta' }, [
          el('span', { class: 'hf-who', text: hfWho(ln, conv) }),
          ln.channel ? channelBadge(ln.channel, { testid: 'context-line-channel' }) : null,
          ln.sent_at ? el('time', { datetime: U.toDate(ln.sent_at).toISOString(), text: U.formatTime(ln.sent_at) }) : null
        ]),
        el('p', { class: 'hf-line-text', text: ln.text })
      ]));
    });
    var label = el('span', { class: 'hf-toggle-label', text: conv.ctxOpen ? t('hf.hideTranscript') : t('hf.showTranscript') });
    var det = el('details', { class: 'hf-transcript', 'data-testid': 'context-transcript', open: conv.ctxOpen ? true : null }, [
      el('summary', { 'data-testid': 'context-transcript-toggle' }, [label, el('span', { class: 'count-pill', text: String(lines.length) })]),
      ol
    ]);
    det.addEventListener('toggle', function () {
      conv.ctxOpen = det.open;
      label.textContent = det.open ? t('hf.hideTranscript') : t('hf.showTranscript');
      if (det.open) ol.scrollTop = ol.scrollHeight;
    });
    handoffEl.appendChild(det);
  }
}
