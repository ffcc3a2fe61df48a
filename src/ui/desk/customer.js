/*
 * Switchboard desk — the customer panel (right pane): who the customer is (tier, id, channel,
 * intent, skills, priority, tags, the bot's summary) and their linked identities ("one ID",
 * GET /v1/customers/{id}), with the last link made here and its Undo.
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app, api, customerName, tierLabel } from './shared.js';
import { channelIcon, channelLabel, knownChannel, maskId, setChannel } from './channels.js';
import { channelOf } from './conversations.js';
import { offerInfoOf } from './offers.js';
import { summaryText } from './handoff.js';
import { undoMerge } from './link.js';

var el = U.el;
var custInfo = new Map();     // customer_id -> {status: 'loading'|'ok'|'error', data, seq}
var custSeq = 0;
/** The last link (merge) made here, in `last`: {merge_id, into, from, from_name, moved, undone, busy}. */
export const linked = { last: null };

/** Forget what is known of a customer (merged away, or unlinked again). */
export function forgetCustomer(id) { custInfo.delete(id); }
/** Signed out. */
export function resetCustomers() { custInfo.clear(); linked.last = null; }

export function renderContext(conv) {
  var card = $('customer-card');
  $('context-empty').hidden = !!conv;
  card.hidden = !conv;
  if (!conv) return;
  var c = conv.customer || {};
  var info = offerInfoOf(conv);
  var ctx = conv.context || (info && info.context) || null;
  var name = customerName(c);
  var av = $('cust-avatar');
  av.textContent = U.initials(name); av.style.background = U.avatarColor(name);
  $('cust-name').textContent = name;
  var tier = $('cust-tier');
  tier.textContent = tierLabel(c.tier);
  tier.className = 'badge' + (c.tier ? ' tier-' + String(c.tier).toLowerCase() : '');
  $('cust-id').textContent = c.id || t('ctx.none');
  setChannel($('cust-channel'), channelOf(conv), 'customer-channel-badge');
  $('cust-intent').textContent = (ctx && ctx.intent) || (info && info.intent) || t('ctx.none');
  $('cust-skills').textContent = info && info.skills && info.skills.length ? info.skills.join(', ') : t('ctx.none');
  $('cust-priority').textContent = info && info.priority != null ? String(info.priority) : t('ctx.none');
  var tags = $('cust-tags');
  tags.textContent = '';
  var list = (c.tags && c.tags.length ? c.tags : (ctx && ctx.tags)) || [];
  if (!list.length) tags.appendChild(el('span', { class: 'muted', text: t('ctx.noTags') }));
  list.forEach(function (tag) { tags.appendChild(el('span', { class: 'tag', text: tag })); });
  // The task's summary, in the desk's language when it is the bot's (a call's adds its last lines).
  var summary = info && info.summary;
  if (ctx && (!summary || summary === ctx.summary)) summary = summaryText(ctx, summary);
  $('cust-summary').textContent = summary || t('offer.noSummary');
  renderIdentities();
  loadCustomer(c.id);
}

/* ------------------------------------------------- identities ("one ID") */
export function contextCustomerId() {
  var conv = app.selectedId && app.convs.get(app.selectedId);
  return (conv && conv.customer && conv.customer.id) || null;
}


/** GET /v1/customers/{id}, cached; `force` reloads (after a merge, or a new channel). */
export function loadCustomer(id, force) {
  if (!id || !app.session) return;
  var have = custInfo.get(id);
  if (have && !force && have.status !== 'error') return;
  var seq = ++custSeq;
  custInfo.set(id, { status: have && have.data ? 'ok' : 'loading', data: have && have.data, seq: seq, refreshing: true });
  if (contextCustomerId() === id) renderIdentities();
  api('GET', '/v1/customers/' + encodeURIComponent(id)).then(function (r) {
    var cur = custInfo.get(id);
    if (!cur || cur.seq !== seq) return;
    custInfo.set(id, r.ok && r.data ? { status: 'ok', data: r.data, seq: seq } : { status: 'error', data: cur.data, seq: seq });
  }).catch(function () {
    var cur = custInfo.get(id);
    if (cur && cur.seq === seq) custInfo.set(id, { status: 'error', data: cur.data, seq: seq });
  }).then(function () {
    if (contextCustomerId() === id) renderIdentities();
  });
}

export function identityChip(idn, opts) {
  opts = opts || {};
  var label = channelLabel(idn.channel);
  var masked = maskId(idn.channel, idn.external_id);
  var title = idn.linked_at
    ? t('ctx.identityTitle', { channel: label, id: masked, when: U.formatDay(idn.linked_at) + ' ' + U.formatTime(idn.linked_at) })
    : label + ' · ' + masked;
  return el('li', {
    class: 'id-chip chan-' + (knownChannel(idn.channel) || 'other') + (opts.fresh ? ' is-fresh' : ''),
    'data-testid': opts.testid || 'identity-chip', 'data-channel': idn.channel || '', title: title
  }, [
    channelIcon(idn.channel),
    el('span', { class: 'id-chip-label', text: label }),
    el('code', { class: 'id-chip-id', text: masked })
  ]);
}

export function renderIdentities() {
  var box = $('cust-identities'), note = $('merge-note');
  if (!box) return;
  var id = contextCustomerId();
  var info = id && custInfo.get(id);
  box.textContent = '';
  box.setAttribute('aria-busy', info && (info.status === 'loading' || info.refreshing) ? 'true' : 'false');
  if (!id) {
    box.appendChild(el('li', { class: 'muted id-empty', text: t('ctx.identitiesNone') }));
  } else if (!info || (info.status === 'loading' && !info.data)) {
    box.appendChild(el('li', { class: 'id-chip is-skeleton', 'aria-hidden': 'true' }, [el('span', { text: '\u00a0' })]));
    box.appendChild(el('li', { class: 'id-chip is-skeleton is-short', 'aria-hidden': 'true' }, [el('span', { text: '\u00a0' })]));
    box.appendChild(el('li', { class: 'sr-only', text: t('ctx.identitiesLoading') }));
  } else if (info.status === 'error' && !info.data) {
    box.appendChild(el('li', { class: 'id-error' }, [
      el('span', { text: t('ctx.identitiesFailed') + ' ' }),
      el('button', { type: 'button', class: 'btn-link', text: t('ctx.reload'), onclick: function () { loadCustomer(id, true); } })
    ]));
  } else {
    var list = (info.data && info.data.identities) || [];
    if (!list.length) box.appendChild(el('li', { class: 'muted id-empty', text: t('ctx.identitiesNone') }));
    var fresh = linked.last && !linked.last.undone && linked.last.into === id ? linked.last.moved : [];
    list.forEach(function (idn) {
      var isFresh = fresh.some(function (f) { return f.channel === idn.channel && f.external_id === idn.external_id; });
      box.appendChild(identityChip(idn, { fresh: isFresh }));
    });
  }
  // The last link made here can be undone from the panel too.
  note.textContent = '';
  var show = linked.last && !linked.last.undone && linked.last.into === id;
  note.hidden = !show;
  if (show) {
    note.appendChild(el('span', { class: 'merge-note-text', text: t('ctx.lastMerge', { name: linked.last.from_name }) }));
    note.appendChild(el('button', {
      type: 'button', class: 'btn btn-ghost btn-xs', 'data-testid': 'merge-undo-inline',
      disabled: linked.last.busy ? true : null,
      text: linked.last.busy ? t('link.undoing') : t('link.undo'), onclick: function () { undoMerge(); }
    }));
  }
}

/** A customer message on a channel we have not seen for them: their identities changed. */
export function noteChannel(conv, m) {
  if (!conv.customer || !conv.customer.id || m.from !== 'customer' || !m.channel) return;
  var info = custInfo.get(conv.customer.id);
  if (!info || !info.data) return;
  var known = (info.data.identities || []).some(function (i) { return i.channel === m.channel; });
  if (!known) loadCustomer(conv.customer.id, true);
}
