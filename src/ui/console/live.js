/*
 * Switchboard console — #live: GET /v1/queues every 2 s (paused while the tab is hidden) and
 * what it shows at the top of the section: the stat tiles, the queues table and the agents.
 * The waiting tasks (tasks.js) and the overrides in force (overrides.js) come from the same
 * answer, kept in app.live for every section.
 */
import { i18n, t } from '../common/i18n.js';
import { el } from '../common/util.js';
import { $, app, api, errMsg } from './shared.js';
import { arr, avatarNode, clamp, clear, emptyState, fmtClock, fmtInt, fmtMs, fmtPct, fmtWindow, has, isNum, lbl, loadingRow, num, obj, queueColor, sig, skillChip } from './ui.js';
import { renderActiveInfo, renderMe, setNavCount, updateTitle } from './frame.js';
import { activeVersion, noteVersion, onActiveChanged } from './versions.js';
import { clearTasks, forgetTasks, renderTasks, renderTasksLoading } from './tasks.js';
import { closeWhy } from './why.js';
import { liveOverridesSeen } from './overrides.js';

var POLL_MS = 2000;
/** The poll: the last error, when it last answered, failures in a row, the next try, and the
 *  signatures of what is drawn (a part is redrawn only when its data changed). */
var poll = newPoll();
function newPoll() { return { error: null, lastOk: 0, failures: 0, timer: null, inflight: false, sigs: {} }; }

/* ------------------------------------------------------------- section */
export function enter() { /* the poll runs while signed in, whatever the section */ }
/** Another section is shown: the Why? drawer closes. */
export function hide() { closeWhy(true); }
/** Signed out: the poll stops and forgets everything. */
export function resetLive() {
  stopPolling();
  app.live = null;
  poll = newPoll();
  forgetTasks();
}
/** The UI language changed: draw every part again. */
export function forgetDrawn() { poll.sigs = {}; forgetTasks(); }

/* ---------------------------------------------------------------- poll */
export function startPolling() { stopPolling(); poll.failures = 0; setLivePill('connecting'); pollNow(); }
export function stopPolling() { clearTimeout(poll.timer); poll.timer = null; }
function schedulePoll(ms) { clearTimeout(poll.timer); poll.timer = setTimeout(pollNow, ms); }

export function pollNow() {
  if (!app.session) return;
  if (document.hidden) { setLivePill('paused'); schedulePoll(POLL_MS); return; }
  if (poll.inflight) return;
  poll.inflight = true;
  var session = app.session;
  api('GET', '/v1/queues').then(function (r) {
    if (session !== app.session) return;
    if (r.ok && r.data) {
      var prevVersion = activeVersion();
      app.live = r.data; poll.error = null; poll.lastOk = Date.now(); poll.failures = 0;
      setLivePill('live');
      renderLive();
      noteVersion(r.data.rules_version);
      if (prevVersion !== activeVersion()) onActiveChanged();
    } else {
      liveFailed(errMsg(r));
    }
  }).catch(function () {
    if (session === app.session) liveFailed(t('common.network'));
  }).then(function () {
    poll.inflight = false;
    if (session === app.session) schedulePoll(poll.failures ? Math.min(10000, POLL_MS * (1 + poll.failures)) : POLL_MS);
  });
}
function liveFailed(msg) {
  poll.failures++;
  poll.error = msg;
  if (poll.failures >= 2 || !app.live) setLivePill(app.live ? 'offline' : 'connecting');
  renderLive();
}
export function setLivePill(state) {
  $('live-pill').setAttribute('data-state', state);
  $('live-text').textContent = t('live.pill.' + state);
}
document.addEventListener('visibilitychange', function () { if (!document.hidden && app.session) pollNow(); });

function slOf(q) {
  if (isNum(q.service_level)) return q.service_level;
  if (isNum(q.answered) && q.answered > 0 && isNum(q.answered_within_sl)) return q.answered_within_sl / q.answered;
  return null;
}
function slClass(v) { return !isNum(v) ? '' : v >= 0.8 ? '' : v >= 0.6 ? 'is-warn' : 'is-bad'; }
function slCell(v) {
  if (!isNum(v)) return el('span', { class: 'dash', text: '—' });
  var bar = el('span', { class: 'sl-bar ' + slClass(v) }, [el('span', { style: { width: clamp(v * 100, 0, 100) + '%' } })]);
  return el('div', { class: 'sl' }, [bar, el('span', { class: 'sl-val', text: fmtPct(v, 0) })]);
}

export function renderLive() {
  var d = app.live;
  var sub = $('live-sub');
  if (!d) {
    sub.textContent = poll.error ? t('live.errorText', { msg: poll.error }) : t('live.loading');
    if (poll.error) renderLiveError(); else renderLiveLoading();
    return;
  }
  sub.textContent = poll.error ? t('live.updatedStale', { time: fmtClock(poll.lastOk) }) : t('live.updated', { time: fmtClock(poll.lastOk) });
  sub.classList.toggle('is-stale', !!poll.error);
  $('section-live').classList.toggle('is-stale', !!poll.error);
  var slSecs = num(d.service_level_secs);
  var windowSecs = num(d.stats_window_secs);
  var queues = arr(d.queues).filter(Boolean);
  var agents = arr(d.agents).filter(Boolean);

  // ---- stat tiles
  $('stat-waiting').textContent = fmtInt(num(d.waiting) || 0);
  $('stat-offered').textContent = fmtInt(num(d.offered) || 0);
  $('stat-longest').textContent = fmtMs(num(d.longest_wait_ms) || 0);
  var avail = agents.filter(function (a) { return a.status === 'available'; }).length;
  var statAgents = $('stat-agents');
  clear(statAgents).appendChild(document.createTextNode(String(avail)));
  if (agents.length) statAgents.appendChild(el('small', { text: '/ ' + agents.length }));
  var overall = isNum(d.service_level) ? d.service_level : null;
  if (overall == null) {
    var ans = 0, within = 0, any = false;
    queues.forEach(function (q) { if (isNum(q.answered) && isNum(q.answered_within_sl)) { ans += q.answered; within += q.answered_within_sl; any = true; } });
    if (any && ans > 0) overall = within / ans;
  }
  $('stat-sl-label').textContent = slSecs != null ? t('live.sl', { s: slSecs }) : t('live.slPlain');
  if (slSecs != null && windowSecs != null) $('stat-sl-label').title = t('live.slHint', { s: slSecs, window: fmtWindow(windowSecs) });
  $('stat-sl').textContent = overall != null ? fmtPct(overall, 0) : '—';
  var tile = function (id, cls) { var s = $(id).closest('.stat'); s.classList.remove('is-warn', 'is-bad', 'is-good'); if (cls) s.classList.add(cls); };
  var longest = num(d.longest_wait_ms) || 0;
  tile('stat-longest', slSecs != null && longest > slSecs * 1000 ? (longest > slSecs * 3000 ? 'is-bad' : 'is-warn') : null);
  tile('stat-waiting', (num(d.waiting) || 0) > 0 && avail === 0 && agents.length ? 'is-warn' : null);
  tile('stat-sl', overall == null ? null : overall >= 0.8 ? 'is-good' : overall >= 0.6 ? 'is-warn' : 'is-bad');
  tile('stat-agents', agents.length && !avail ? 'is-warn' : null);
  setNavCount('nav-count-live', num(d.waiting) || 0);
  updateTitle();
  renderActiveInfo();
  renderMe();

  // ---- queues
  $('queues-hint').textContent = windowSecs != null ? t('live.windowHint', { window: fmtWindow(windowSecs) }) : '';
  var qs = sig([queues, d.waiting, d.offered, d.longest_wait_ms, slSecs, i18n.lang]);
  if (poll.sigs.queues !== qs) { poll.sigs.queues = qs; renderQueues(d, queues, slSecs); }

  // ---- waiting tasks
  renderTasks(d);

  // ---- agents
  $('agents-hint').textContent = agents.length ? t('live.agentsHint', { available: avail, total: agents.length }) : '';
  var as = sig([agents, i18n.lang]);
  if (poll.sigs.agents !== as) { poll.sigs.agents = as; renderAgents(agents); }

  // ---- overrides
  liveOverridesSeen(d);
}

function renderLiveLoading() {
  var body = clear($('queues-body'));
  for (var i = 0; i < 3; i++) {
    var tr = el('tr', { class: 'skeleton-row' });
    for (var c = 0; c < 8; c++) tr.appendChild(el('td', {}, [el('div', { class: 'skeleton', style: { height: '14px', width: c === 0 ? '90px' : '48px', marginLeft: c === 0 ? '0' : 'auto' } })]));
    body.appendChild(tr);
  }
  clear($('agent-list')).appendChild(loadingRow(t('live.loading')));
  clear($('live-overrides'));
  renderTasksLoading();
}
function renderLiveError() {
  var body = clear($('queues-body'));
  body.appendChild(el('tr', {}, [el('td', { colspan: '8' }, [emptyState('error', t('live.error'), t('live.errorText', { msg: poll.error }))])]));
  clear($('agent-list'));
  clear($('live-overrides'));
  clearTasks();
  poll.sigs = {};
}

function renderQueues(d, queues, slSecs) {
  var body = clear($('queues-body'));
  var rows = queues;
  if (!rows.length) {
    body.appendChild(el('tr', {}, [el('td', { colspan: '8' }, [emptyState('empty', t('live.noQueues'), t('live.noQueuesText'))])]));
    return;
  }
  rows.slice().sort(function (a, b) {
    return (num(b.waiting) || 0) - (num(a.waiting) || 0) || String(a.queue).localeCompare(String(b.queue));
  }).forEach(function (q) {
    var waiting = num(q.waiting) || 0, longest = num(q.longest_wait_ms);
    var hot = slSecs != null && longest != null && longest > slSecs * 1000;
    var wcls = waiting > 0 ? (hot ? 'waiting-hot' : 'waiting-warm') : '';
    var abRate = isNum(q.abandonment_rate) ? q.abandonment_rate
      : (isNum(q.abandoned) && isNum(q.answered) && q.abandoned + q.answered > 0 ? q.abandoned / (q.abandoned + q.answered) : null);
    var nameCell = el('span', { class: 'q-name' }, [el('span', { class: 'q-swatch', style: { background: queueColor(q.queue) } }), String(q.queue || '—')]);
    var abCell = el('td', { class: 'num' });
    if (abRate != null) {
      abCell.appendChild(el('span', { class: abRate >= 0.1 ? 'waiting-hot' : abRate >= 0.05 ? 'waiting-warm' : '', text: fmtPct(abRate) }));
      if (isNum(q.abandoned)) abCell.appendChild(el('span', { class: 'count-note', title: t('col.abandoned'), text: fmtInt(q.abandoned) }));
    } else abCell.appendChild(el('span', { class: 'dash', text: '—' }));
    body.appendChild(el('tr', { 'data-testid': 'queue-row', 'data-queue': q.queue || '' }, [
      el('td', {}, [nameCell]),
      el('td', { class: 'num' }, [el('span', { class: wcls, text: fmtInt(waiting) })]),
      el('td', { class: 'num', text: fmtInt(num(q.offered) || 0) }),
      el('td', { class: 'num' }, [longest != null && longest > 0 ? el('span', { class: hot ? 'waiting-hot' : '', text: fmtMs(longest) }) : el('span', { class: 'dash', text: '—' })]),
      el('td', {}, [slCell(slOf(q))]),
      el('td', { class: 'num', text: isNum(q.answered) ? fmtInt(q.answered) : '—' }),
      abCell,
      el('td', { class: 'num', text: isNum(q.fallbacks) ? fmtInt(q.fallbacks) : '—' })
    ]));
  });
}

function agentSkills(a) {
  var s = a.skills;
  if (Array.isArray(s)) return s.map(function (x) { return typeof x === 'string' ? { name: x, level: null } : { name: x.name, level: num(x.level) }; });
  return Object.keys(obj(s)).sort().map(function (k) { return { name: k, level: num(s[k]) }; });
}
var STATUS_ORDER = { available: 0, wrap_up: 1, away: 2, offline: 3 };
function renderAgents(agents) {
  var list = clear($('agent-list'));
  if (!agents.length) { list.appendChild(emptyState('empty', t('live.noAgents'), t('live.noAgentsText'))); return; }
  agents.slice().sort(function (a, b) {
    var sa = has(STATUS_ORDER, a.status) ? STATUS_ORDER[a.status] : 4, sb = has(STATUS_ORDER, b.status) ? STATUS_ORDER[b.status] : 4;
    return sa - sb || (num(b.load) || 0) - (num(a.load) || 0) || String(a.name || a.agent_id).localeCompare(String(b.name || b.agent_id));
  }).forEach(function (a) {
    var name = a.name || a.agent_id || '?';
    var status = String(a.status || 'offline');
    var load = num(a.load) || 0, cap = num(a.capacity);
    var pillText = lbl('status.', status);
    if (status === 'wrap_up' && isNum(a.wrap_up_ends_in_ms)) pillText += ' · ' + t('live.wrapEnds', { s: Math.ceil(a.wrap_up_ends_in_ms / 1000) });
    var pill = el('span', { class: 'pill pill-' + status.replace(/[^a-z_]/g, ''), 'data-testid': 'agent-status', 'data-status': status, text: pillText });
    var bar = el('div', { class: 'load-bar' + (cap && load >= cap ? ' is-full' : ''), role: 'img', 'aria-label': load + '/' + (cap || '?') });
    var segs = cap && cap <= 12 ? cap : 10;
    var on = cap ? Math.round(clamp(load / cap, 0, 1) * segs) : 0;
    for (var i = 0; i < segs; i++) bar.appendChild(el('i', { class: i < on ? 'on' : '' }));
    var occ = num(a.occupancy);
    var loadBox = el('div', { class: 'load' }, [
      el('div', { class: 'load-top' }, [
        el('span', {}, [t('live.load') + ' ', el('strong', { text: load + (cap != null ? '/' + cap : '') })]),
        el('span', { title: t('live.occupancy') }, [occ != null ? t('live.occupancy') + ' ' : '', occ != null ? el('strong', { text: fmtPct(occ, 0) }) : (cap && load >= cap ? el('strong', { text: t('live.full') }) : '')])
      ]),
      bar
    ]);
    var skills = agentSkills(a);
    var chips = el('div', { class: 'chips' }, skills.length ? skills.map(function (s) { return skillChip(s.name, s.level); }) : [el('span', { class: 'muted', text: t('live.noSkills') })]);
    list.appendChild(el('li', { class: 'agent is-' + status, 'data-testid': 'agent-row', 'data-agent-id': a.agent_id || '' }, [
      avatarNode(name),
      el('div', { style: { minWidth: '0' } }, [el('div', { class: 'agent-name', text: name }), el('div', { class: 'agent-sub' }, [pill])]),
      loadBox,
      chips
    ]));
  });
}
