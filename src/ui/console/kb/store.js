/*
 * Switchboard console — the knowledge base as loaded (GET /v1/kb/entries): the entries, the
 * revision and the bot's (the pill in the header, followed while the bot retrains), and the
 * lookups and small builders the list, the editor and "Try a question" share.
 */
import { i18n, t } from '../../common/i18n.js';
import { el } from '../../common/util.js';
import { $, app, api, errMsg } from '../shared.js';
import { arr, clear, isNum, lbl, obj, sig } from '../ui.js';
import { renderKbFilters, renderKbList } from './list.js';
import { ed, kbFillDatalists } from './form.js';
import { renderKbTry } from './try.js';

export const KB_STATUSES = ['published', 'draft', 'archived'];
export const KB_CHANNELS = ['sms', 'web', 'app', 'wechat', 'ivr'];

/** The loaded entries, how loading went (idle | loading | ok | error), the next look while the
 *  bot retrains, the number of the latest load and what the revision pill shows. */
export const KB = { state: 'idle', error: null, data: null, timer: null, loadSeq: 0, revSig: null };

/** Signed out. */
export function resetStore() {
  clearTimeout(KB.timer);
  KB.state = 'idle'; KB.data = null; KB.error = null; KB.revSig = null;
}

export function kbLang() { return i18n.lang === 'zh-CN' ? 'zh' : 'en'; }
export function kbOther(l) { return l === 'zh' ? 'en' : 'zh'; }
export function kbText(texts) { var o = obj(texts), l = kbLang(); return o[l] || o[kbOther(l)] || ''; }
export function kbTitle(e) { return (e && kbText(e.title)) || (e && e.id) || ''; }
export function kbIntent(e) { return (e && e.intent) || (e && e.id) || ''; }
export function kbEntries() { return arr(KB.data && KB.data.entries).filter(function (e) { return e && e.id; }); }
export function kbFind(id) { return kbEntries().find(function (e) { return e.id === id; }) || null; }
export function kbHash(id) { return '#kb/' + encodeURIComponent(id); }
export function kbStatusBadge(status) {
  var s = KB_STATUSES.indexOf(status) !== -1 ? status : 'published';
  return el('span', { class: 'badge kb-badge kb-badge-' + s, 'data-testid': 'kb-status', 'data-status': s, text: t('kb.status.' + s) });
}
export function kbChannelName(ch) { return lbl('channel.', ch); }

export function kbIcon(kind) {
  var s = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('fill', 'none'); s.setAttribute('stroke', 'currentColor');
  s.setAttribute('stroke-width', '2.2'); s.setAttribute('stroke-linecap', 'round'); s.setAttribute('aria-hidden', 'true');
  var p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  p.setAttribute('d', kind === 'x' ? 'M6 6l12 12M18 6 6 18' : 'M9 18l6-6-6-6');
  s.appendChild(p);
  return s;
}

/* ------------------------------------------------------------- loading */
export function kbLoad() {
  if (!app.session) return;
  var seq = ++KB.loadSeq;
  if (!KB.data) { KB.state = 'loading'; renderKbList(); }
  clearTimeout(KB.timer);
  api('GET', '/v1/kb/entries').then(function (r) {
    if (seq !== KB.loadSeq) return;
    if (r.ok && r.data) {
      KB.state = 'ok'; KB.error = null; KB.data = r.data;
    } else if (!KB.data) {
      KB.state = 'error'; KB.error = errMsg(r);
    }
  }).catch(function () {
    if (seq === KB.loadSeq && !KB.data) { KB.state = 'error'; KB.error = t('common.network'); }
  }).then(function () {
    if (seq !== KB.loadSeq) return;
    renderKbRevision(); renderKbFilters(); renderKbList(); renderKbTry();
    if (ed.view === 'edit' || ed.view === 'new') kbFillDatalists();
    // While the bot retrains on a newer revision, look again shortly.
    if (kbTraining() && app.session && app.section === 'kb') KB.timer = setTimeout(kbLoad, 1200);
  });
}
function kbTraining() {
  var d = KB.data;
  return !!(d && isNum(d.revision) && isNum(d.bot_revision) && d.bot_revision < d.revision);
}
/** A change was stored at `rev`: show it at once, then follow the bot until it has learnt it. */
export function kbChanged(rev) {
  if (KB.data && isNum(rev) && rev > (KB.data.revision || 0)) KB.data.revision = rev;
  renderKbRevision();
  kbLoad();
}

export function renderKbRevision() {
  var pill = $('kb-rev'), d = KB.data;
  if (!d || !isNum(d.revision)) { pill.hidden = true; return; }
  var training = kbTraining();
  pill.hidden = false;
  // a live region: rebuild it only when what it says changes, or it is announced again
  var s = sig([d.revision, d.bot_revision, training, i18n.lang]);
  if (s === KB.revSig) return;
  KB.revSig = s;
  pill.className = 'kb-rev ' + (training ? 'is-training' : 'is-ready');
  pill.setAttribute('data-revision', String(d.revision));
  pill.setAttribute('data-bot-revision', String(isNum(d.bot_revision) ? d.bot_revision : ''));
  pill.setAttribute('data-state', training ? 'training' : 'ready');
  pill.title = t('kb.revTitle', { rev: d.revision, bot: isNum(d.bot_revision) ? d.bot_revision : '—' });
  clear(pill);
  pill.appendChild(el('strong', { class: 'tabular', text: t('kb.rev', { rev: d.revision }) }));
  pill.appendChild(el('span', { class: 'kb-rev-sep', 'aria-hidden': 'true' }));
  pill.appendChild(training ? el('span', { class: 'spinner kb-rev-spin', 'aria-hidden': 'true' }) : el('span', { class: 'dot dot-ok', 'aria-hidden': 'true' }));
  pill.appendChild(el('span', { text: training ? t('kb.revTraining') : t('kb.revReady') }));
}
