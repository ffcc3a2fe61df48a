/*
 * Switchboard console — the knowledge-base list (#kb): search (ids, titles and question
 * variants in both languages, terms marked), status chips with counts, a tag filter, one row
 * per entry.
 */
import { i18n, t } from '../../common/i18n.js';
import { el } from '../../common/util.js';
import { $, app, who } from '../shared.js';
import { arr, clear, emptyState, fmtWhen, loadingRow, obj, sig } from '../ui.js';
import { KB, KB_STATUSES, kbEntries, kbHash, kbIntent, kbLang, kbLoad, kbOther, kbStatusBadge, kbTitle } from './store.js';

/** The filters, and the signatures of what is drawn (redrawn only when it changes). */
var filter = { q: '', status: '', tag: '', filtersSig: null, listSig: null };

function kbTerms() { return filter.q.toLowerCase().split(/\s+/).filter(Boolean); }
/** Whether `e` has every term in its id, a title or a question; and a question to show when
 *  a term is found only there. */
function kbSearch(e, terms) {
  var title = obj(e.title), q = obj(e.questions);
  var heads = [e.id, title.zh, title.en].filter(Boolean).map(function (s) { return String(s).toLowerCase(); });
  var questions = arr(q.zh).concat(arr(q.en)).map(String);
  var hit = null;
  for (var i = 0; i < terms.length; i++) {
    var term = terms[i];
    if (heads.some(function (h) { return h.indexOf(term) !== -1; })) continue;
    var found = questions.find(function (x) { return x.toLowerCase().indexOf(term) !== -1; });
    if (found == null) return null;
    if (!hit) hit = found;
  }
  return { question: hit };
}
function kbFiltered() {
  var terms = kbTerms();
  var out = [];
  kbEntries().forEach(function (e) {
    if (filter.status && (e.status || 'published') !== filter.status) return;
    if (filter.tag && arr(e.tags).indexOf(filter.tag) === -1) return;
    var m = terms.length ? kbSearch(e, terms) : { question: null };
    if (m) out.push({ entry: e, question: m.question });
  });
  return out;
}
/** `text` with each search term marked. */
function kbMarked(text, terms) {
  var s = String(text || ''), low = s.toLowerCase(), nodes = [], at = 0;
  while (terms.length) {
    var best = -1, len = 0;
    terms.forEach(function (term) { var i = low.indexOf(term, at); if (i !== -1 && (best === -1 || i < best)) { best = i; len = term.length; } });
    if (best === -1) break;
    if (best > at) nodes.push(s.slice(at, best));
    nodes.push(el('mark', { text: s.slice(best, best + len) }));
    at = best + len;
  }
  if (at < s.length) nodes.push(s.slice(at));
  return nodes;
}

export function renderKbFilters() {
  var all = kbEntries();
  var s = sig([all.map(function (e) { return [e.status, e.tags]; }), filter.status, filter.tag, i18n.lang]);
  if (s === filter.filtersSig) return;
  filter.filtersSig = s;
  var counts = { '': all.length };
  KB_STATUSES.forEach(function (s) { counts[s] = 0; });
  all.forEach(function (e) { counts[e.status || 'published'] = (counts[e.status || 'published'] || 0) + 1; });
  var box = clear($('kb-status-filter'));
  [''].concat(KB_STATUSES).forEach(function (s) {
    box.appendChild(el('button', {
      type: 'button', class: 'chip-btn kb-chip' + (filter.status === s ? ' is-on' : '') + (s ? ' kb-chip-' + s : ''),
      'aria-pressed': filter.status === s ? 'true' : 'false', 'data-testid': 'kb-filter-status', 'data-status': s || 'all',
      onclick: function () { filter.status = s; renderKbFilters(); renderKbList(); }
    }, [s ? el('span', { class: 'kb-chip-dot', 'aria-hidden': 'true' }) : null, s ? t('kb.status.' + s) : t('kb.all'), el('span', { class: 'kb-chip-n', text: String(counts[s] || 0) })]));
  });
  var tags = {};
  all.forEach(function (e) { arr(e.tags).forEach(function (tg) { tags[tg] = (tags[tg] || 0) + 1; }); });
  var sel = clear($('kb-tag-filter'));
  sel.appendChild(el('option', { value: '', text: t('kb.allTags') }));
  Object.keys(tags).sort().forEach(function (tg) { sel.appendChild(el('option', { value: tg, text: tg + ' (' + tags[tg] + ')' })); });
  if (filter.tag && !tags[filter.tag]) filter.tag = '';
  sel.value = filter.tag;
  sel.classList.toggle('is-on', !!filter.tag);
}

function kbRowCell(content, cls) { return el('td', { class: cls || null }, content); }
export function renderKbList() {
  // the same entries, filters and language: nothing to redo (the retrain poll calls this often)
  var s = sig([KB.state, KB.error, KB.data && KB.data.entries, filter.q, filter.status, filter.tag, i18n.lang, app.session && app.session.agent_id, app.session && app.session.name, new Date().toDateString()]);
  if (s === filter.listSig) return;
  filter.listSig = s;
  var body = clear($('kb-rows')), count = $('kb-count');
  var full = function (node) { body.appendChild(el('tr', { class: 'is-empty' }, [el('td', { colspan: '5' }, [node])])); };
  $('kb-list-view').setAttribute('data-state', KB.state);
  if (KB.state === 'idle' || KB.state === 'loading') { count.textContent = ''; full(loadingRow(t('kb.loading'))); return; }
  if (KB.state === 'error' && !KB.data) {
    count.textContent = '';
    full(emptyState('error', t('kb.loadFailed'), KB.error, el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.retry'), onclick: kbLoad })));
    return;
  }
  var all = kbEntries(), rows = kbFiltered(), terms = kbTerms();
  var filtered = !!(terms.length || filter.status || filter.tag);
  count.textContent = filtered ? t('kb.countFiltered', { n: rows.length, total: all.length })
    : all.length === 1 ? t('kb.count1') : t('kb.count', { n: all.length });
  count.setAttribute('data-shown', String(rows.length));
  count.setAttribute('data-total', String(all.length));
  if (!all.length) {
    full(emptyState('empty', t('kb.empty'), t('kb.emptyText'), el('button', { type: 'button', class: 'btn btn-primary btn-sm', text: t('kb.new'), onclick: function () { location.hash = '#kb/new'; } })));
    return;
  }
  if (!rows.length) {
    full(emptyState('empty', filter.q.trim() ? t('kb.noMatch', { q: filter.q.trim() }) : t('kb.noMatchFiltered'), t('kb.noMatchText'),
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'kb-clear-filters', text: t('kb.clearFilters'), onclick: kbClearFilters })));
    return;
  }
  rows.slice().sort(function (a, b) { return a.entry.id < b.entry.id ? -1 : a.entry.id > b.entry.id ? 1 : 0; }).forEach(function (row) { body.appendChild(kbRow(row.entry, row.question, terms)); });
}
function kbClearFilters() {
  filter.q = ''; filter.status = ''; filter.tag = '';
  $('kb-search').value = '';
  renderKbFilters(); renderKbList();
  $('kb-search').focus();
}
function kbRow(e, question, terms) {
  var title = kbTitle(e), q = obj(e.questions);
  var nzh = arr(q.zh).length, nen = arr(q.en).length;
  var other = obj(e.title)[kbOther(kbLang())];
  var entryCell = el('div', { class: 'kb-entry' }, [
    el('a', { class: 'kb-entry-title', href: kbHash(e.id), 'data-testid': 'kb-row-title' }, kbMarked(title, terms)),
    el('div', { class: 'kb-entry-sub' }, [
      el('span', { class: 'kb-entry-id mono', 'data-testid': 'kb-row-id' }, kbMarked(e.id, terms)),
      other && other !== title ? el('span', { class: 'kb-entry-alt', lang: kbOther(kbLang()) === 'zh' ? 'zh-CN' : 'en' }, kbMarked(other, terms)) : null
    ]),
    question ? el('div', { class: 'kb-entry-hit', 'data-testid': 'kb-row-hit', title: t('kb.hitQuestion') }, [
      el('span', { class: 'sr-only', text: t('kb.hitQuestion') + ': ' }),
      el('span', { class: 'kb-hit-q', 'aria-hidden': 'true', text: 'Q' })
    ].concat(kbMarked(question, terms))) : null
  ]);
  var tags = arr(e.tags);
  var intent = kbIntent(e);
  var tagChips = function (cls) {
    return tags.length ? el('div', { class: 'chips ' + cls }, tags.map(function (tg) { return el('span', { class: 'kb-tag', 'data-testid': 'kb-tag', text: tg }); }))
      : el('span', { class: 'dash ' + cls, text: '—' });
  };
  // narrow screens show the tags under the title instead of in their own column
  entryCell.appendChild(tags.length ? tagChips('kb-entry-tags') : null);
  var tr = el('tr', { class: 'kb-row', 'data-testid': 'kb-row', 'data-entry-id': e.id, 'data-status': e.status || 'published',
    onclick: function (ev) { if (ev.target.closest('a, button')) return; location.hash = kbHash(e.id); } }, [
    kbRowCell([entryCell], 'kb-cell-entry'),
    kbRowCell([kbStatusBadge(e.status), el('div', { class: 'kb-updated', 'data-testid': 'kb-row-updated' }, [
      el('span', { title: e.updated_at || '', text: e.updated_at ? fmtWhen(e.updated_at) : '—' }),
      e.updated_by ? el('span', { class: 'kb-updated-by', text: t('kb.by', { who: who(e.updated_by, e.updated_by_name) }) }) : null
    ])], 'kb-cell-status'),
    kbRowCell([tagChips('')], 'kb-col-tags'),
    kbRowCell([el('div', { class: 'kb-intent' }, [
      el('span', { class: 'mono kb-intent-name' + (e.intent ? '' : ' is-default'), text: intent }),
      e.skill ? el('span', { class: 'skill-chip', text: e.skill }) : el('span', { class: 'muted kb-noskill', text: t('kb.noSkill') })
    ])]),
    kbRowCell([el('span', { class: 'kb-qn', title: t('kb.qCount', { zh: nzh, en: nen }), 'data-testid': 'kb-row-questions', 'data-count': String(nzh + nen) }, [
      el('span', { class: 'kb-qn-total', text: String(nzh + nen) }),
      el('span', { class: 'kb-qn-split', 'aria-hidden': 'true' }, [el('span', { class: 'kb-lang kb-lang-zh', text: '中' }), String(nzh), el('span', { class: 'kb-lang kb-lang-en', text: 'EN' }), String(nen)]),
      el('span', { class: 'sr-only', text: t('kb.qCount', { zh: nzh, en: nen }) })
    ])], 'num')
  ]);
  return tr;
}

var kbSearchTimer = null;
$('kb-search').addEventListener('input', function () {
  var v = this.value;
  clearTimeout(kbSearchTimer);
  kbSearchTimer = setTimeout(function () { filter.q = v; renderKbList(); }, 80);
});
$('kb-search').addEventListener('keydown', function (ev) { if (ev.key === 'Escape' && this.value) { ev.preventDefault(); this.value = ''; filter.q = ''; renderKbList(); } });
$('kb-tag-filter').addEventListener('change', function () { filter.tag = this.value; renderKbFilters(); renderKbList(); });
$('kb-new').addEventListener('click', function () { location.hash = '#kb/new'; });
