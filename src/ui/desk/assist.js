/*
 * Switchboard desk — agent assist (right pane): the latest suggestions for the open conversation
 * (knowledge-base answers, similar past conversations); Insert puts one into the reply box, and
 * its id goes with the next reply ("From suggestion: …" under the box until then).
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { $, app } from './shared.js';
import { pct } from './handoff.js';
import { updateReplyState } from './chat.js';

var el = U.el;
var assistEl = $('assist'), assistBody = $('assist-body');
var replyInput = $('reply-input'), replyHint = $('reply-hint'), replySugg = $('reply-sugg');
var assists = new Map();      // conversation_id -> latest assist event {message_id, suggestions}

/** The suggestion inserted into the reply box ({conversation_id, id, title}) that goes with the
 *  next reply, in `sugg`; the reply box and the selection read and change it. */
export const chosen = { sugg: null };

/** The conversation left the desk. */
export function forgetAssist(conversationId) {
  assists.delete(conversationId);
  if (chosen.sugg && chosen.sugg.conversation_id === conversationId) chosen.sugg = null;
}
/** Signed out. */
export function resetAssist() { assists.clear(); chosen.sugg = null; }

export function onAssist(msg) {
  if (!msg.conversation_id) return;
  assists.set(msg.conversation_id, { message_id: msg.message_id || null, suggestions: Array.isArray(msg.suggestions) ? msg.suggestions : [] });
  if (app.selectedId === msg.conversation_id) renderAssist(app.convs.get(app.selectedId));
}

function scoreClass(score) { return score >= 0.75 ? 'is-high' : score >= 0.5 ? 'is-mid' : 'is-low'; }

function suggestionNode(conv, sg) {
  var p = pct(sg.score);
  var used = chosen.sugg && chosen.sugg.id === sg.id;
  var insert = el('button', {
    type: 'button', class: 'btn btn-xs ' + (used ? 'btn-ghost is-used' : 'btn-soft'), 'data-testid': 'assist-insert',
    title: t('assist.insertTitle'), disabled: conv.closed ? true : null,
    onclick: function () { insertSuggestion(conv, sg); }
  }, [used ? t('assist.inserted') : t('assist.insert')]);
  return el('li', { class: 'sugg sugg-' + (sg.kind === 'conversation' ? 'conversation' : 'kb') + (used ? ' is-used' : ''),
    'data-testid': 'assist-suggestion', 'data-kind': sg.kind || '', 'data-suggestion-id': sg.id || '', 'data-reference': sg.reference || '' }, [
    el('div', { class: 'sugg-head' }, [
      el('span', { class: 'sugg-title', 'data-testid': 'assist-title', title: sg.title || '', text: sg.kind === 'conversation' ? '“' + (sg.title || '') + '”' : (sg.title || '') }),
      p ? el('span', { class: 'sugg-score ' + scoreClass(Number(sg.score)), 'data-testid': 'assist-score', title: t('assist.score', { p: p }), text: p }) : null
    ]),
    el('p', { class: 'sugg-text', 'data-testid': 'assist-text', title: sg.text || '', text: sg.text || '' }),
    el('div', { class: 'sugg-foot' }, [insert])
  ]);
}

export function renderAssist(conv) {
  assistEl.hidden = !conv;
  assistBody.textContent = '';
  if (!conv) return;
  var a = assists.get(conv.id);
  var list = (a && a.suggestions) || [];
  if (conv.closed) { assistBody.appendChild(el('p', { class: 'assist-empty', 'data-testid': 'assist-empty', text: t('assist.closed') })); return; }
  if (!list.length) {
    assistBody.appendChild(el('p', { class: 'assist-empty', 'data-testid': 'assist-empty', text: t('assist.empty') }));
    return;
  }
  var asked = a.message_id && conv.messages.find(function (m) { return m.id === a.message_id; });
  if (asked) assistBody.appendChild(el('p', { class: 'assist-for', 'data-testid': 'assist-for', title: asked.text, text: t('assist.for', { text: asked.text }) }));
  [['kb', 'assist.kb'], ['conversation', 'assist.conversation']].forEach(function (g) {
    var items = list.filter(function (sg) { return (sg.kind === 'conversation' ? 'conversation' : 'kb') === g[0]; });
    if (!items.length) return;
    var ul = el('ul', { class: 'sugg-list' });
    items.forEach(function (sg) { ul.appendChild(suggestionNode(conv, sg)); });
    assistBody.appendChild(el('div', { class: 'assist-group', 'data-testid': 'assist-group-' + g[0] }, [
      el('h3', { class: 'assist-group-title' }, [t(g[1]), el('span', { class: 'count-pill', text: String(items.length) })]),
      ul
    ]));
  });
}

function insertSuggestion(conv, sg) {
  if (!conv || conv.closed || app.selectedId !== conv.id) return;
  var cur = replyInput.value.replace(/\s+$/, '');
  replyInput.value = cur.trim() ? cur + '\n' + (sg.text || '') : (sg.text || '');
  chosen.sugg = { conversation_id: conv.id, id: sg.id, title: sg.title || '' };
  U.autosize(replyInput);
  updateReplyState();
  replyInput.focus();
  replyInput.setSelectionRange(replyInput.value.length, replyInput.value.length);
  renderReplySugg();
  renderAssist(conv);
}

/** "From suggestion: …" under the reply box while an inserted suggestion goes with the next send. */
export function renderReplySugg() {
  var on = !!(chosen.sugg && chosen.sugg.conversation_id === app.selectedId);
  replySugg.hidden = !on;
  replyHint.hidden = on;
  replySugg.textContent = '';
  if (!on) return;
  replySugg.appendChild(el('span', { class: 'reply-sugg-text', title: chosen.sugg.title, text: t('assist.using', { title: chosen.sugg.title }) }));
  replySugg.appendChild(el('button', {
    type: 'button', class: 'reply-sugg-x', 'aria-label': t('assist.drop'), title: t('assist.drop'),
    onclick: function () { chosen.sugg = null; renderReplySugg(); renderAssist(app.convs.get(app.selectedId)); replyInput.focus(); }
  }, ['×']));
}
