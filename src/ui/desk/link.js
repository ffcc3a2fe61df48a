/*
 * Switchboard desk — linking another customer record of the same person ("Link another
 * customer"): find it by its id on a channel (GET /v1/customers/lookup), merge it into the open
 * customer (POST /v1/customers/{id}/merge), and undo that (POST /v1/customers/merges/{id}/undo).
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app, api, avatarNode, customerName, tierLabel } from './shared.js';
import { channelLabel } from './channels.js';
import { contextCustomerId, forgetCustomer, identityChip, linked, loadCustomer, renderIdentities } from './customer.js';

var el = U.el, toast = U.toast;
var apiMessage = U.errorMessage;

var linkDlg = $('link-dialog'), linkChannel = $('link-channel'), linkExternal = $('link-external-id');
var linkFind = $('link-find'), linkResult = $('link-result'), linkError = $('link-error');
var linkSuccess = $('link-success'), linkSearch = $('link-search'), linkConfirm = $('link-confirm'), linkCancel = $('link-cancel');
// phase: search | finding | found | merging | merged | undoing | undone
var lastLinkChannel = 'wechat';
var link = { phase: 'search', into: null, intoName: '', candidate: null, query: null, error: null, merge: null };

/** The UI language changed. */
export function relabelLink() { if (linkDlg.open) renderLinkDialog(); }
/** Signed out. */
export function resetLink() { if (linkDlg && linkDlg.open) linkDlg.close(); }

function linkReset() {
  var conv = app.selectedId && app.convs.get(app.selectedId);
  link = { phase: 'search', into: contextCustomerId(), intoName: customerName(conv && conv.customer), candidate: null, query: null, error: null, merge: null };
  linkExternal.value = '';
}

function openLinkDialog() {
  if (!contextCustomerId()) return;
  linkReset();
  // The channel the agent used last time (most links are WeChat followers).
  linkChannel.value = lastLinkChannel;
  renderLinkDialog();
  if (typeof linkDlg.showModal === 'function') linkDlg.showModal(); else linkDlg.setAttribute('open', '');
  linkExternal.focus();
}

function closeLinkDialog() {
  if (linkDlg.open) { if (typeof linkDlg.close === 'function') linkDlg.close(); else linkDlg.removeAttribute('open'); }
  $('link-open').focus();
}

function candidateCard(c) {
  var name = c.name || c.id;
  var rows = el('ul', { class: 'id-chips id-chips-sm', 'aria-label': t('ctx.identities') });
  (c.identities || []).forEach(function (idn) { rows.appendChild(identityChip(idn, { testid: 'link-candidate-identity' })); });
  var badges = el('div', { class: 'cand-badges' });
  if (c.tier) badges.appendChild(el('span', { class: 'badge tier-' + String(c.tier).toLowerCase(), text: tierLabel(c.tier) }));
  if (c.open_conversation_id) badges.appendChild(el('span', { class: 'badge badge-warn', text: t('link.openConv') }));
  return el('div', { class: 'cand' }, [
    el('p', { class: 'cand-kicker', text: t('link.found') }),
    el('div', { class: 'cand-head' }, [
      avatarNode(name),
      el('div', { class: 'cand-who' }, [
        el('p', { class: 'cand-name', 'data-testid': 'link-candidate-name', text: name }),
        el('code', { class: 'cand-id', text: c.id })
      ]),
      badges
    ]),
    rows
  ]);
}

function renderLinkDialog() {
  var p = link.phase;
  $('link-lead').textContent = t('link.lead', { name: link.intoName });
  linkExternal.placeholder = t('link.placeholder.' + linkChannel.value);
  var searching = p === 'search' || p === 'finding' || p === 'found';
  linkSearch.hidden = !searching;
  linkChannel.disabled = linkExternal.disabled = p === 'finding';
  linkFind.disabled = p === 'finding';
  linkFind.textContent = p === 'finding' ? t('link.finding') : t('link.find');

  linkResult.textContent = '';
  linkResult.hidden = !(link.candidate && (p === 'found' || p === 'merging'));
  if (!linkResult.hidden) linkResult.appendChild(candidateCard(link.candidate));

  linkError.hidden = !link.error;
  linkError.textContent = link.error || '';

  linkSuccess.textContent = '';
  linkSuccess.hidden = !(p === 'merged' || p === 'undoing' || p === 'undone');
  if (!linkSuccess.hidden) {
    var m = link.merge, fromName = (link.candidate && link.candidate.name) || m.from_customer_id;
    var undone = p === 'undone';
    var moved = m.moved || {};
    linkSuccess.className = 'link-success' + (undone ? ' is-undone' : '');
    var icon = el('span', { class: 'link-success-icon', 'aria-hidden': 'true' });
    icon.innerHTML = undone
      ? '<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"><path d="M4 10h11a5 5 0 0 1 0 10h-3"/><path d="M8 6 4 10l4 4"/></svg>'
      : '<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"><path d="M20 6 9 17l-5-5"/></svg>';
    linkSuccess.appendChild(icon);
    var body = el('div', { class: 'link-success-body' }, [
      el('p', { class: 'link-success-title', 'data-testid': 'link-success-text',
        text: undone ? t('link.undone', { from: fromName }) : t('link.success', { from: fromName, into: link.intoName }) })
    ]);
    if (!undone) {
      body.appendChild(el('p', { class: 'link-success-sub', text: movedText(moved) }));
      var chips = el('ul', { class: 'id-chips id-chips-sm' });
      (moved.identities || []).forEach(function (idn) { chips.appendChild(identityChip(idn, { testid: 'link-moved-identity', fresh: true })); });
      body.appendChild(chips);
    }
    linkSuccess.appendChild(body);
    if (!undone) {
      linkSuccess.appendChild(el('button', {
        type: 'button', class: 'btn btn-ghost btn-sm link-undo', 'data-testid': 'link-undo', disabled: p === 'undoing' ? true : null,
        text: p === 'undoing' ? t('link.undoing') : t('link.undo'), onclick: function () { undoMerge(); }
      }));
    }
  }

  var done = p === 'merged' || p === 'undoing' || p === 'undone';
  linkConfirm.hidden = done;
  linkConfirm.disabled = p !== 'found' || !link.candidate || link.candidate.id === link.into;
  linkConfirm.textContent = p === 'merging' ? t('link.linking')
    : link.candidate && p === 'found' ? t('link.confirm', { name: link.intoName }) : t('link.confirmShort');
  linkCancel.textContent = done ? t('link.done') : t('link.cancel');
  linkCancel.classList.toggle('btn-primary', done);
  linkCancel.classList.toggle('btn-ghost', !done);
}

/** "Moved 1 identity and 3 messages." — zero counts left out. */
function movedText(moved) {
  var parts = [];
  [['identity', (moved.identities || []).length], ['conversation', moved.conversations || 0], ['message', moved.messages || 0]]
    .forEach(function (p) { if (p[1] > 0) parts.push(t('link.n.' + p[0] + (p[1] === 1 ? '' : 's'), { n: p[1] })); });
  if (!parts.length) return '';
  var and = t('link.and');
  var what = parts.length === 1 ? parts[0]
    : (and === '、' ? parts.join(and) : parts.slice(0, -1).join(', ') + and + parts[parts.length - 1]);
  return t('link.moved', { what: what });
}

function findCandidate() {
  var channel = linkChannel.value, ext = linkExternal.value.trim();
  link.error = null; link.candidate = null;
  if (!ext) { link.phase = 'search'; link.error = t('link.err.missing'); renderLinkDialog(); linkExternal.focus(); return; }
  link.phase = 'finding'; link.query = channel + '\u0000' + ext;
  renderLinkDialog();
  var q = link.query;
  api('GET', '/v1/customers/lookup?channel=' + encodeURIComponent(channel) + '&external_id=' + encodeURIComponent(ext)).then(function (r) {
    if (link.query !== q) return null;
    if (r.status === 404) throw { user: t('link.notFound', { channel: channelLabel(channel) }) };
    if (!r.ok || !r.data || !r.data.customer_id) throw { user: t('link.err.generic', { msg: apiMessage(r) }) };
    // The lookup answers the profile too (an agent may not read a customer they never served).
    if (r.data.customer) return r.data.customer;
    return api('GET', '/v1/customers/' + encodeURIComponent(r.data.customer_id)).then(function (c) {
      if (!c.ok || !c.data) throw { user: t('link.err.generic', { msg: apiMessage(c) }) };
      return c.data;
    });
  }).then(function (cust) {
    if (!cust || link.query !== q) return;
    link.candidate = cust;
    link.phase = 'found';
    if (cust.id === link.into) link.error = t('link.sameCustomer');
    renderLinkDialog();
    if (!linkConfirm.disabled) linkConfirm.focus();
  }).catch(function (e) {
    if (link.query !== q) return;
    link.phase = 'search';
    link.error = (e && e.user) || t('link.err.network');
    renderLinkDialog();
    linkExternal.focus();
  });
}

function confirmMerge() {
  if (link.phase !== 'found' || !link.candidate || link.candidate.id === link.into) return;
  var into = link.into, from = link.candidate;
  link.phase = 'merging'; link.error = null;
  renderLinkDialog();
  api('POST', '/v1/customers/' + encodeURIComponent(into) + '/merge', { from_customer_id: from.id }).then(function (r) {
    if (!r.ok || !r.data) {
      link.phase = 'found';
      link.error = r.status === 409 || r.status === 404 ? t('link.err.conflict', { msg: apiMessage(r) }) : t('link.err.generic', { msg: apiMessage(r) });
      renderLinkDialog();
      return;
    }
    link.merge = r.data;
    link.phase = 'merged';
    linked.last = { merge_id: r.data.merge_id, into: into, from: from.id, from_name: from.name || from.id,
      moved: (r.data.moved && r.data.moved.identities) || [], undone: false };
    forgetCustomer(from.id);
    renderLinkDialog();
    loadCustomer(into, true);
    var undo = linkSuccess.querySelector('[data-testid=link-undo]');
    if (undo) undo.focus();
  }).catch(function () {
    link.phase = 'found'; link.error = t('link.err.network');
    renderLinkDialog();
  });
}

export function undoMerge() {
  if (!linked.last || linked.last.undone || linked.last.busy) return;
  var mg = linked.last;
  var inDialog = linkDlg.open && link.merge && link.merge.merge_id === mg.merge_id;
  mg.busy = true;
  if (inDialog) { link.phase = 'undoing'; link.error = null; renderLinkDialog(); }
  renderIdentities();
  api('POST', '/v1/customers/merges/' + encodeURIComponent(mg.merge_id) + '/undo', {}).then(function (r) {
    mg.busy = false;
    if (r.ok || r.status === 409) {
      // 409: already undone (elsewhere) — either way it is not linked any more.
      mg.undone = true;
      if (inDialog) link.phase = 'undone';
      if (!linkDlg.open) toast(t('link.undone', { from: mg.from_name }));
      if (r.status === 409 && inDialog) link.error = apiMessage(r);
    } else {
      if (inDialog) { link.phase = 'merged'; link.error = t('link.err.generic', { msg: apiMessage(r) }); }
      else toast(t('link.err.generic', { msg: apiMessage(r) }), 'error');
    }
  }).catch(function () {
    mg.busy = false;
    if (inDialog) { link.phase = 'merged'; link.error = t('link.err.network'); }
    else toast(t('link.err.network'), 'error');
  }).then(function () {
    if (inDialog) renderLinkDialog();
    forgetCustomer(mg.from);
    loadCustomer(mg.into, true);
    renderIdentities();
  });
}

$('link-open').addEventListener('click', openLinkDialog);
linkFind.addEventListener('click', findCandidate);
linkChannel.addEventListener('change', function () {
  lastLinkChannel = linkChannel.value;
  link.candidate = null; link.error = null; if (link.phase === 'found') link.phase = 'search';
  renderLinkDialog();
});
linkExternal.addEventListener('input', function () {
  if (link.phase === 'found' || link.error) { link.candidate = null; link.error = null; link.phase = 'search'; renderLinkDialog(); }
});
linkExternal.addEventListener('keydown', function (ev) {
  if (ev.key === 'Enter' && !ev.isComposing && ev.keyCode !== 229) { ev.preventDefault(); findCandidate(); }
});
$('link-form').addEventListener('submit', function (ev) { ev.preventDefault(); confirmMerge(); });
linkCancel.addEventListener('click', closeLinkDialog);
$('link-x').addEventListener('click', closeLinkDialog);
linkDlg.addEventListener('click', function (ev) { if (ev.target === linkDlg && link.phase !== 'merging') closeLinkDialog(); });
linkDlg.addEventListener('cancel', function (ev) { if (link.phase === 'merging' || link.phase === 'undoing') ev.preventDefault(); });
