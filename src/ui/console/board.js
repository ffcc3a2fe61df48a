/*
 * Switchboard console — #conversations: the open conversations, live. GET /v1/conversations
 * every 3 s while the section is shown (paused while the tab is hidden), filtered by status,
 * queue, team, agent and a minimum wait; a row's Monitor opens the monitor panel (monitor.js:
 * the live transcript, whisper, barge) and Transfer the shared dialog. Waiting times tick every
 * second without redrawing. A team lead sees only their teams' conversations (the server
 * filters).
 */
import { i18n, t } from '../common/i18n.js';
import { el } from '../common/util.js';
import { $, app, api, errMsg } from './shared.js';
import { arr, avatarNode, channelBadge, clear, cssEscape, emptyState, fmtAgo, fmtClock, fmtInt, fmtSecs, isNum, lbl, num, queueTag, sig } from './ui.js';
import { setNavCount } from './frame.js';
import { closeMonitor, monitoredId, openMonitor, monitorRowChanged, transferConversation } from './monitor.js';

var POLL_MS = 3000;
var WAITS = [0, 30, 60, 120, 300, 600];
var STATUS_ORDER = { queued: 0, assigned: 1, bot: 2 };

var B = newBoard();
function newBoard() {
  return {
    shown: false, timer: null, inflight: false, seq: 0, data: null, error: null, lastOk: 0, drawn: null, teams: null,
    filters: { status: '', queue: '', team_id: '', agent_id: '', min_wait_secs: 0 },
    seenQueues: {}, seenAgents: {}
  };
}

/* ------------------------------------------------------------- section */
export function enter() {
  B.shown = true;
  renderFilters();
  renderBoard();
  loadTeams();
  pollNow();
}
export function hide() {
  B.shown = false;
  clearTimeout(B.timer); B.timer = null;
  closeMonitor(true);
}
/** Signed out. */
export function resetBoard() {
  clearTimeout(B.timer);
  B = newBoard();
  clear($('board-body'));
  setNavCount('nav-count-conversations', 0);
}
/** The UI language changed. */
export function relabelBoard() {
  B.drawn = null;
  renderFilters();
  renderBoard();
}
/** The conversations last listed (the monitor panel reads its row). */
export function boardRow(id) {
  return arr(B.data).find(function (c) { return c && c.conversation_id === id; }) || null;
}
/** Ask again now (after a transfer, a barge). */
export function refreshBoard() { if (B.shown) pollNow(); }

/* ---------------------------------------------------------------- poll */
function query() {
  var f = B.filters, q = [];
  if (f.status) q.push('status=' + encodeURIComponent(f.status));
  if (f.queue) q.push('queue=' + encodeURIComponent(f.queue));
  if (f.team_id) q.push('team_id=' + encodeURIComponent(f.team_id));
  if (f.agent_id) q.push('agent_id=' + encodeURIComponent(f.agent_id));
  if (f.min_wait_secs) q.push('min_wait_secs=' + f.min_wait_secs);
  return '/v1/conversations' + (q.length ? '?' + q.join('&') : '');
}
function schedule(ms) { clearTimeout(B.timer); if (B.shown) B.timer = setTimeout(pollNow, ms); }
function pollNow() {
  if (!app.session || !B.shown) return;
  if (document.hidden) { schedule(POLL_MS); return; }
  if (B.inflight) return;
  B.inflight = true;
  var seq = ++B.seq, session = app.session;
  api('GET', query()).then(function (r) {
    if (seq !== B.seq || session !== app.session) return;
    if (r.ok && r.data) {
      B.data = arr(r.data.conversations).filter(function (c) { return c && c.conversation_id; });
      B.error = null; B.lastOk = Date.now();
      B.data.forEach(function (c) {
        if (c.queue) B.seenQueues[c.queue] = true;
        if (c.agent_id) B.seenAgents[c.agent_id] = c.agent_name || B.seenAgents[c.agent_id] || c.agent_id;
      });
    } else {
      B.error = errMsg(r);
    }
  }).catch(function () {
    if (seq === B.seq) B.error = t('common.network');
  }).then(function () {
    if (seq !== B.seq) return;
    B.inflight = false;
    renderFilterOptions();
    renderBoard();
    schedule(B.error ? POLL_MS * 2 : POLL_MS);
  });
}
document.addEventListener('visibilitychange', function () { if (!document.hidden && B.shown) pollNow(); });

function loadTeams() {
  if (B.teams) return;
  api('GET', '/v1/teams').then(function (r) {
    B.teams = r.ok && r.data ? arr(r.data.teams).filter(function (x) { return x && x.id; }) : [];
    renderFilterOptions();
  }).catch(function () { B.teams = []; renderFilterOptions(); });
}

/* ------------------------------------------------------------- filters */
function setFilter(k, v) {
  if (B.filters[k] === v) return;
  B.filters[k] = v;
  B.seq++; B.inflight = false;   // an answer for the old filters is dropped
  B.data = null; B.drawn = null;
  renderFilters();
  renderBoard();
  pollNow();
}
function option(value, text, selected) { return el('option', { value: value, selected: selected ? true : null, text: text }); }
function renderFilters() {
  $('board-status').querySelectorAll('[data-status]').forEach(function (b) {
    var on = b.getAttribute('data-status') === B.filters.status;
    b.setAttribute('aria-checked', String(on));
    b.classList.toggle('is-on', on);
  });
  renderFilterOptions();
  var any = B.filters.status || B.filters.queue || B.filters.team_id || B.filters.agent_id || B.filters.min_wait_secs;
  $('board-reset').hidden = !any;
}
function renderFilterOptions() {
  var f = B.filters;
  // queues: the live figures' and the ones seen here
  var queues = {};
  arr(app.live && app.live.queues).forEach(function (q) { if (q && q.queue) queues[q.queue] = true; });
  Object.keys(B.seenQueues).forEach(function (q) { queues[q] = true; });
  if (f.queue) queues[f.queue] = true;
  var qs = clear($('board-queue'));
  qs.appendChild(option('', t('board.any.queue'), !f.queue));
  Object.keys(queues).sort().forEach(function (q) { qs.appendChild(option(q, q, f.queue === q)); });
  // teams
  var teams = B.teams || [];
  var ts = clear($('board-team'));
  ts.appendChild(option('', t('board.any.team'), !f.team_id));
  teams.forEach(function (tm) { ts.appendChild(option(tm.id, tm.name || tm.id, f.team_id === tm.id)); });
  $('board-team-field').hidden = !teams.length && !f.team_id;
  // agents: the live figures' and the ones seen here
  var agents = {};
  arr(app.live && app.live.agents).forEach(function (a) { if (a && a.agent_id) agents[a.agent_id] = a.name || a.agent_id; });
  Object.keys(B.seenAgents).forEach(function (id) { if (!agents[id]) agents[id] = B.seenAgents[id]; });
  var as = clear($('board-agent'));
  as.appendChild(option('', t('board.any.agent'), !f.agent_id));
  Object.keys(agents).sort(function (a, b) { return String(agents[a]).localeCompare(String(agents[b])); })
    .forEach(function (id) { as.appendChild(option(id, agents[id], f.agent_id === id)); });
  // minimum wait
  var ws = clear($('board-wait'));
  WAITS.forEach(function (s) { ws.appendChild(option(String(s), s ? t('board.waitAtLeast', { d: fmtSecs(s) }) : t('board.any.wait'), f.min_wait_secs === s)); });
}
$('board-status').addEventListener('click', function (ev) {
  var b = ev.target.closest('[data-status]');
  if (b) setFilter('status', b.getAttribute('data-status'));
});
$('board-queue').addEventListener('change', function (ev) { setFilter('queue', ev.target.value); });
$('board-team').addEventListener('change', function (ev) { setFilter('team_id', ev.target.value); });
$('board-agent').addEventListener('change', function (ev) { setFilter('agent_id', ev.target.value); });
$('board-wait').addEventListener('change', function (ev) { setFilter('min_wait_secs', Number(ev.target.value) || 0); });
$('board-reset').addEventListener('click', function () {
  B.filters = { status: '', queue: '', team_id: '', agent_id: '', min_wait_secs: 0 };
  B.seq++; B.inflight = false; B.data = null; B.drawn = null;
  renderFilters(); renderBoard(); pollNow();
});

/* --------------------------------------------------------------- table */
function sinceOf(c) {
  if (c.status === 'queued') {
    if (c.waiting_since) return new Date(c.waiting_since).getTime();
    if (isNum(c.wait_secs)) return Date.now() - c.wait_secs * 1000;
  }
  return null;
}
function waitClass(ms) {
  var sl = num(app.live && app.live.service_level_secs);
  if (sl == null) return '';
  return ms > sl * 3000 ? 'waiting-hot' : ms > sl * 1000 ? 'waiting-warm' : '';
}
function fmtDur(ms) { return fmtSecs(Math.max(0, Math.floor(ms / 1000))); }
function tick() {
  var now = Date.now();
  document.querySelectorAll('#board-body [data-wait-since]').forEach(function (n) {
    var ms = now - Number(n.getAttribute('data-wait-since'));
    n.textContent = fmtDur(ms);
    n.className = 'task-wait ' + waitClass(ms);
  });
  document.querySelectorAll('#board-body [data-open-since]').forEach(function (n) {
    n.textContent = fmtDur(now - Number(n.getAttribute('data-open-since')));
  });
}
setInterval(tick, 1000);

function sorted(list) {
  return list.slice().sort(function (a, b) {
    var sa = STATUS_ORDER[a.status] != null ? STATUS_ORDER[a.status] : 3, sb = STATUS_ORDER[b.status] != null ? STATUS_ORDER[b.status] : 3;
    if (sa !== sb) return sa - sb;
    if (a.status === 'queued') return (num(b.wait_secs) || 0) - (num(a.wait_secs) || 0) || (num(b.priority) || 0) - (num(a.priority) || 0);
    return String(b.last_message_at || '').localeCompare(String(a.last_message_at || ''));
  });
}

export function renderBoard() {
  var body = $('board-body');
  var sub = $('board-sub');
  if (!B.data) {
    sub.textContent = B.error ? t('board.errorText', { msg: B.error }) : t('board.loading');
    sub.classList.toggle('is-stale', !!B.error);
    clear(body);
    if (B.error) body.appendChild(el('tr', { class: 'is-empty' }, [el('td', { colspan: '9' }, [emptyState('error', t('board.error'), t('board.errorText', { msg: B.error }),
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.retry'), onclick: function () { B.error = null; renderBoard(); pollNow(); } }))])]));
    else for (var i = 0; i < 3; i++) {
      var tr = el('tr', { class: 'skeleton-row' });
      for (var c = 0; c < 9; c++) tr.appendChild(el('td', {}, [el('div', { class: 'skeleton', style: { height: '14px', width: c === 0 ? '140px' : '54px' } })]));
      body.appendChild(tr);
    }
    $('board-count').textContent = '';
    return;
  }
  sub.textContent = B.error ? t('board.updatedStale', { time: fmtClock(B.lastOk) }) : t('board.updated', { time: fmtClock(B.lastOk) });
  sub.classList.toggle('is-stale', !!B.error);
  var list = sorted(B.data);
  var filtered = B.filters.status || B.filters.queue || B.filters.team_id || B.filters.agent_id || B.filters.min_wait_secs;
  if (!filtered) setNavCount('nav-count-conversations', list.filter(function (c) { return c.status === 'queued'; }).length);
  var queued = list.filter(function (c) { return c.status === 'queued'; }).length;
  var withAgent = list.filter(function (c) { return c.status === 'assigned'; }).length;
  $('board-count').textContent = list.length ? t('board.count', { n: fmtInt(list.length), queued: fmtInt(queued), assigned: fmtInt(withAgent) }) : '';
  // wait_secs grows with every poll: not part of the signature; the ticker moves it.
  var s = sig([list.map(function (c) {
    return [c.conversation_id, c.status, c.customer, c.channel, c.agent_id, c.agent_name, c.queue, c.priority, c.waiting_since, c.opened_at, c.last_message_at, c.transfer_pending];
  }), monitoredId(), i18n.lang]);
  if (B.drawn !== s) {
    B.drawn = s;
    clear(body);
    if (!list.length) {
      body.appendChild(el('tr', { class: 'is-empty' }, [el('td', { colspan: '9' }, [filtered
        ? emptyState('empty', t('board.emptyFiltered'), t('board.emptyFilteredText'))
        : emptyState('empty', t('board.empty'), t('board.emptyText'))])]));
    }
    list.forEach(function (c) { body.appendChild(row(c)); });
  } else {
    // the same rows: only the clocks move (and "last message" ago)
    list.forEach(function (c) {
      var tr = body.querySelector('tr[data-conversation-id="' + cssEscape(c.conversation_id) + '"]');
      var since = sinceOf(c);
      var w = tr && tr.querySelector('[data-wait-since]');
      if (w && since != null) w.setAttribute('data-wait-since', String(since));
      var last = tr && tr.querySelector('[data-testid=board-last]');
      if (last && c.last_message_at) last.textContent = fmtAgo(c.last_message_at);
    });
  }
  tick();
  var open = monitoredId();
  if (open) monitorRowChanged(boardRow(open), !!filtered);
}

function statusPill(c) {
  var st = String(c.status || 'bot');
  return el('span', { class: 'pill board-pill board-pill-' + st.replace(/[^a-z_]/g, ''), 'data-testid': 'board-status', 'data-status': st, text: lbl('board.state.', st) });
}
function customerCell(c) {
  var cu = c.customer || {};
  var name = cu.name || cu.id || t('card.unnamed');
  var tier = cu.tier && String(cu.tier).toLowerCase() !== 'standard'
    ? el('span', { class: 'badge board-tier tier-' + String(cu.tier).toLowerCase().replace(/[^a-z]/g, ''), text: lbl('tier.', String(cu.tier).toLowerCase()) }) : null;
  var tags = arr(cu.tags).slice(0, 3).map(function (tag) { return el('span', { class: 'board-tag', text: String(tag) }); });
  return el('div', { class: 'cust' }, [
    avatarNode(name, 'avatar-sm'),
    el('div', { class: 'cust-text' }, [
      el('span', { class: 'board-cust-top' }, [el('span', { class: 'cust-name', 'data-testid': 'board-customer', text: name }), tier]),
      tags.length ? el('span', { class: 'board-tags' }, tags) : null
    ])
  ]);
}
function row(c) {
  var id = c.conversation_id;
  var monitored = monitoredId() === id;
  var since = sinceOf(c);
  var openSince = c.opened_at ? new Date(c.opened_at).getTime() : null;
  var agent = c.agent_id ? el('span', { class: 'person' }, [avatarNode(c.agent_name || c.agent_id, 'avatar-xs'), el('span', { 'data-testid': 'board-agent', text: c.agent_name || c.agent_id })])
    : el('span', { class: 'dash', text: '—' });
  var monitor = el('button', {
    type: 'button', class: 'btn btn-ghost btn-sm board-monitor' + (monitored ? ' is-on' : ''), 'data-testid': 'board-monitor',
    'aria-pressed': String(monitored), 'aria-label': t('board.monitorLabel', { name: (c.customer && c.customer.name) || id }),
    onclick: function () { if (monitoredId() === id) closeMonitor(); else openMonitor(c); }
  }, [el('span', { class: 'board-eye', 'aria-hidden': 'true' }), el('span', { text: monitored ? t('board.monitoring') : t('board.monitor') })]);
  var xfer = el('button', {
    type: 'button', class: 'btn btn-ghost btn-sm board-transfer', 'data-testid': 'board-transfer', 'aria-haspopup': 'dialog',
    disabled: c.status === 'assigned' ? null : true, title: c.status === 'assigned' ? t('board.transferTitle') : t('board.transferOnlyAssigned'),
    onclick: function () { transferConversation(c); }
  }, [el('span', { text: t('board.transfer') })]);
  return el('tr', { class: 'board-row' + (monitored ? ' is-open' : ''), 'data-testid': 'board-row', 'data-conversation-id': id, 'data-status': c.status || '' }, [
    el('td', {}, [customerCell(c)]),
    el('td', { class: 'board-col-channel' }, [channelBadge(c.channel)]),
    el('td', {}, [statusPill(c)]),
    el('td', {}, [c.queue ? queueTag(c.queue) : el('span', { class: 'dash', text: '—' })]),
    el('td', {}, [agent]),
    el('td', { class: 'num' }, [since != null ? el('span', { class: 'task-wait', 'data-testid': 'board-wait', 'data-wait-since': String(since), text: fmtDur(Date.now() - since) }) : el('span', { class: 'dash', text: '—' })]),
    el('td', { class: 'num board-col-open' }, [openSince ? el('span', { class: 'tabular', 'data-open-since': String(openSince), text: fmtDur(Date.now() - openSince) }) : el('span', { class: 'dash', text: '—' })]),
    el('td', { class: 'board-col-last' }, [c.last_message_at ? el('span', { class: 'muted', 'data-testid': 'board-last', text: fmtAgo(c.last_message_at) }) : el('span', { class: 'dash', text: '—' })]),
    el('td', { class: 'col-action' }, [el('div', { class: 'board-actions' }, [monitor, xfer])])
  ]);
}
