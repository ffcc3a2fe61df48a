/*
 * Switchboard console — "Try a question" beside the knowledge base: POST /v1/kb/match says what
 * the bot in force would answer a new conversation — the outcome, the entry that answered and
 * how sure it is, the reply, and the closest entries (the "did you mean" ones marked).
 */
import { i18n, t } from '../../common/i18n.js';
import { el } from '../../common/util.js';
import { $, api, errMsg } from '../shared.js';
import { arr, clamp, clear, fmtPct, isNum, loadingRow, setBusy, sig } from '../ui.js';
import { KB, kbChannelName, kbEntries, kbFind, kbHash, kbIcon, kbTitle } from './store.js';

/** The bot offers "did you mean …?" from this confidence (the bot's SUGGESTION_FLOOR). */
var KB_SUGGESTION_FLOOR = 0.3;

/** The question asked and its answer (state: idle | loading | ok | error). */
var tryState = { state: 'idle', req: null, res: null, error: null };
/** The number of the latest question, and the signature of what the result shows. */
var trySeq = 0, trySig = null;
/** Signed out: a question still under way is forgotten. */
export function resetTry() {
  tryState = { state: 'idle', req: null, res: null, error: null };
  trySeq++;
}

/** The entry that answered (POST /v1/kb/match names it), or null. */
function kbAnswerEntry(res) {
  if (res && res.entry_id) return kbFind(res.entry_id) || { id: res.entry_id, title: {} };
  return null;
}
/** The server's outcome (POST /v1/kb/match `outcome`) in this panel's terms. */
var KB_OUTCOMES = { answered: 'answered', did_you_mean: 'unsure', dont_know: 'unknown', small_talk: 'smalltalk', handoff: 'handoff', flow: 'flow' };
function kbOutcome(res) { return KB_OUTCOMES[res.outcome]; }
var KB_OUTCOME_ICONS = {
  answered: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"><path d="M20 6 9 17l-5-5"/></svg>',
  unsure: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.8" stroke-linecap="round" stroke-linejoin="round"><path d="M9 9a3 3 0 1 1 4.2 2.8c-.8.3-1.2 1-1.2 1.8v.4M12 18h.01"/></svg>',
  unknown: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.8" stroke-linecap="round"><path d="M7 12h10"/></svg>',
  smalltalk: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12Z"/></svg>',
  handoff: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="8" r="3.5"/><path d="M5 20a7 7 0 0 1 14 0"/></svg>',
  flow: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"><path d="M5 12h12M13 6l6 6-6 6"/></svg>'
};
function kbConfBar(v, testid) {
  var pct = isNum(v) ? clamp(v, 0, 1) : 0;
  var cls = pct >= 0.45 ? 'is-high' : pct >= KB_SUGGESTION_FLOOR ? 'is-mid' : 'is-low';
  return el('span', { class: 'kb-conf ' + cls, 'data-testid': testid || 'kb-confidence', 'data-value': isNum(v) ? String(v) : '', title: t('kb.try.confidenceOf', { pct: fmtPct(pct, 0) }) }, [
    el('span', { class: 'kb-conf-bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct * 100)), 'aria-label': t('kb.try.confidence') }, [el('span', { style: { width: (pct * 100).toFixed(1) + '%' } })]),
    el('span', { class: 'kb-conf-val', text: fmtPct(pct, 0) })
  ]);
}

$('kb-try-form').addEventListener('submit', function (ev) { ev.preventDefault(); kbAsk(); });
$('kb-try-text').addEventListener('keydown', function (ev) {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); kbAsk(); }
});
$('kb-try-text').addEventListener('input', function () { $('kb-try-error').hidden = true; this.removeAttribute('aria-invalid'); });
function kbAsk(again) {
  var text = again && tryState.req ? tryState.req.text : $('kb-try-text').value.trim();
  if (!text) {
    $('kb-try-error').textContent = t('kb.try.empty');
    $('kb-try-error').hidden = false;
    $('kb-try-text').setAttribute('aria-invalid', 'true');
    $('kb-try-text').focus();
    return;
  }
  var req = again && tryState.req ? tryState.req : { text: text, channel: $('kb-try-channel').value || 'web' };
  if (!again && $('kb-try-lang').value) req.language = $('kb-try-lang').value;
  var seq = ++trySeq;
  tryState = { state: 'loading', req: req, res: tryState.res, error: null };
  setBusy($('kb-try-submit'), 'kb.try.asking');
  renderKbTry();
  api('POST', '/v1/kb/match', req).then(function (r) {
    if (seq !== trySeq) return;
    if (r.ok && r.data) tryState = { state: 'ok', req: req, res: r.data, error: null };
    else tryState = { state: 'error', req: req, res: null, error: errMsg(r) };
  }).catch(function () {
    if (seq === trySeq) tryState = { state: 'error', req: req, res: null, error: t('common.network') };
  }).then(function () {
    if (seq !== trySeq) return;
    setBusy($('kb-try-submit'), null);
    renderKbTry();
  });
}
export function renderKbTry() {
  var st = tryState;
  // the result is a live region: redo it only when something in it changes
  var s = sig([st.state, st.req, st.res, st.error, i18n.lang, KB.data && KB.data.revision, kbEntries().length]);
  if (s === trySig) return;
  trySig = s;
  var box = clear($('kb-try-result'));
  box.classList.toggle('is-loading', st.state === 'loading');
  if (st.state === 'idle') {
    box.setAttribute('data-state', 'idle');
    box.appendChild(el('p', { class: 'kb-try-idle', text: t('kb.try.idle') }));
    return;
  }
  if (st.state === 'error') {
    box.setAttribute('data-state', 'error');
    box.appendChild(el('div', { class: 'notice notice-danger', role: 'alert', 'data-testid': 'kb-try-failed', text: t('kb.try.failed', { msg: st.error }) }));
    return;
  }
  if (!st.res) { box.setAttribute('data-state', 'loading'); box.appendChild(loadingRow(t('kb.try.asking'))); return; }
  var res = st.res, req = st.req;
  var matched = kbAnswerEntry(res);
  var outcome = kbOutcome(res);
  box.setAttribute('data-state', st.state === 'loading' ? 'loading' : outcome);
  box.setAttribute('data-entry-id', matched ? matched.id : '');
  var heads = {
    answered: [t('kb.try.answered'), res.intent ? t('kb.try.answeredSub', { intent: res.intent }) : ''],
    unsure: [t('kb.try.unsure'), t('kb.try.unsureSub')],
    unknown: [t('kb.try.unknown'), t('kb.try.unknownSub')],
    smalltalk: [t('kb.try.smalltalk'), t('kb.try.smalltalkSub')],
    handoff: [t('kb.try.handoff'), t('kb.try.handoffSub')],
    flow: [t('kb.try.flow'), t('kb.try.flowSub', { intent: res.intent || '—' })]
  }[outcome];
  var iconNode = el('span', { class: 'kb-outcome-icon', 'aria-hidden': 'true' });
  iconNode.innerHTML = KB_OUTCOME_ICONS[outcome];
  box.appendChild(el('div', { class: 'kb-outcome is-' + outcome, 'data-testid': 'kb-try-outcome', 'data-outcome': outcome }, [
    iconNode,
    el('div', {}, [el('strong', { text: heads[0] }), heads[1] ? el('p', { text: heads[1] }) : null])
  ]));
  if (matched) {
    var mt = kbTitle(matched);
    box.appendChild(el('div', { class: 'kb-try-block' }, [
      el('p', { class: 'kb-try-label', text: t('kb.try.match') }),
      el('a', { class: 'kb-match', href: kbHash(matched.id), 'data-testid': 'kb-try-match', 'data-entry-id': matched.id, 'aria-label': t('kb.try.open', { title: mt }) }, [
        el('span', { class: 'kb-match-text' }, [el('strong', { text: mt }), el('span', { class: 'mono', text: matched.id })]),
        kbIcon('chev')
      ]),
      el('div', { class: 'kb-try-conf' }, [el('span', { class: 'kb-try-conf-label', text: t('kb.try.confidence') }), kbConfBar(res.confidence, 'kb-try-confidence')])
    ]));
  }
  if (res.answer) {
    box.appendChild(el('div', { class: 'kb-try-block' }, [
      el('p', { class: 'kb-try-label' }, [t('kb.try.reply'), el('span', { class: 'kb-try-meta' }, [
        el('span', { class: 'chan chan-' + (req.channel || 'web'), text: kbChannelName(req.channel || 'web') }),
        req.language ? el('span', { class: 'kb-lang kb-lang-' + req.language, text: req.language === 'zh' ? '中' : 'EN' }) : null
      ])]),
      el('div', { class: 'kb-bubble', 'data-testid': 'kb-try-answer' }, [res.answer])
    ]));
  }
  var cands = arr(res.candidates).filter(function (c) { return c && c.id && !(matched && c.id === matched.id); });
  if (cands.length) {
    var dym = outcome === 'unsure';
    var ul = el('ul', { class: 'kb-cands', 'data-testid': 'kb-try-candidates' });
    cands.forEach(function (c, i) {
      var e = kbFind(c.id);
      var suggested = dym && arr(res.suggested).indexOf(c.id) !== -1;
      // GET /v1/kb/match lists an entry named by a keyword first, at exactly 100 %
      var keyword = i === 0 && c.confidence === 1 && arr(res.candidates)[0] === c;
      ul.appendChild(el('li', {}, [el('a', { class: 'kb-cand' + (suggested ? ' is-suggested' : ''), href: kbHash(c.id), 'data-testid': 'kb-try-candidate', 'data-entry-id': c.id, 'data-suggested': suggested ? 'true' : 'false' }, [
        el('span', { class: 'kb-cand-text' }, [el('span', { class: 'kb-cand-title', text: e ? kbTitle(e) : (c.title || c.id) }),
          el('span', { class: 'kb-cand-sub' }, [el('span', { class: 'mono', text: c.id }), keyword ? el('span', { class: 'kb-kw', title: t('kb.try.keywordHint'), text: t('kb.try.keyword') }) : null])]),
        kbConfBar(c.confidence)
      ])]));
    });
    box.appendChild(el('div', { class: 'kb-try-block' }, [el('p', { class: 'kb-try-label', text: dym ? t('kb.try.didYouMean') : t('kb.try.closest') }), ul]));
  }
  var foot = el('div', { class: 'kb-try-foot' }, [el('span', { 'data-testid': 'kb-try-revision', 'data-revision': String(res.revision), text: t('kb.try.botRev', { rev: res.revision }) })]);
  if (KB.data && isNum(res.revision) && res.revision < KB.data.revision) {
    foot.classList.add('is-stale');
    foot.appendChild(el('span', { class: 'kb-try-stale', 'data-testid': 'kb-try-stale', text: t('kb.try.stale', { rev: KB.data.revision }) }));
    foot.appendChild(el('button', { type: 'button', class: 'link-btn', 'data-testid': 'kb-try-again', text: t('kb.try.again'), onclick: function () { kbAsk(true); } }));
  }
  box.appendChild(foot);
}
