/*
 * Switchboard console — the waiting tasks of #live, in service order, from the tasks of
 * GET /v1/queues: who waits, for which queue and rule, who holds the offer, and "Why?" (why.js).
 * Waiting times tick every second without redrawing.
 */
import { i18n, t } from '../common/i18n.js';
import { el } from '../common/util.js';
import { $, app, agentName } from './shared.js';
import { arr, avatarNode, channelBadge, clear, cssEscape, emptyState, fmtInt, fmtSecs, isNum, needChip, num, parseNeed, queueTag, sig } from './ui.js';
import { openWhy, whyRowChanged, whyTaskId } from './why.js';

/** The signature of the rows drawn (they are redrawn only when it changes). */
var drawn = null;

export function taskState(tk) {
  if (tk.offered_to) return { kind: 'offered', agent: tk.offered_to };
  if (tk.reserved_for) return { kind: 'reserved', agent: tk.reserved_for };
  return { kind: 'waiting', agent: null };
}
function taskStatePill(tk) {
  var st = taskState(tk);
  var text = st.kind === 'waiting' ? t('tasks.state.waiting') : t('tasks.state.' + st.kind, { name: agentName(st.agent) });
  var pill = el('span', { class: 'pill task-pill task-pill-' + st.kind, 'data-testid': 'task-state', 'data-state': st.kind, 'data-agent-id': st.agent || '' });
  if (st.agent) pill.appendChild(avatarNode(agentName(st.agent), 'avatar-xs'));
  pill.appendChild(el('span', { text: text }));
  return pill;
}
function ruleChip(rule) {
  return rule
    ? el('code', { class: 'rule-chip', title: t('why.rule') + ' ' + rule, text: rule })
    : el('span', { class: 'badge', title: t('tasks.builtinTitle'), text: t('tasks.builtin') });
}
function fmtWait(ms) { return fmtSecs(Math.max(0, Math.floor(ms / 1000))); }
function waitClass(ms) {
  var sl = num(app.live && app.live.service_level_secs);
  if (sl == null) return '';
  return ms > sl * 3000 ? 'waiting-hot' : ms > sl * 1000 ? 'waiting-warm' : '';
}
function tickWaits() {
  var now = Date.now();
  document.querySelectorAll('[data-since]').forEach(function (n) {
    var ms = now - Number(n.getAttribute('data-since'));
    n.textContent = fmtWait(ms);
    n.className = 'task-wait ' + waitClass(ms);
  });
}
setInterval(tickWaits, 1000);

export function renderTasksLoading() {
  var body = clear($('tasks-body'));
  $('tasks-count').hidden = true; $('tasks-more').hidden = true;
  for (var i = 0; i < 2; i++) {
    var tr = el('tr', { class: 'skeleton-row' });
    for (var c = 0; c < 11; c++) tr.appendChild(el('td', {}, [el('div', { class: 'skeleton', style: { height: '14px', width: c === 1 ? '120px' : c === 0 ? '14px' : '54px' } })]));
    body.appendChild(tr);
  }
}

export function renderTasks(d) {
  var body = $('tasks-body');
  var tasks = arr(d.tasks).filter(function (x) { return x && x.task_id; });
  var total = Math.max(num(d.waiting) || 0, tasks.length);
  var cnt = $('tasks-count');
  cnt.hidden = !total; cnt.textContent = fmtInt(total);
  var more = $('tasks-more');
  more.hidden = !(tasks.length && total > tasks.length);
  more.textContent = t('tasks.more', { shown: fmtInt(tasks.length), total: fmtInt(total) });
  // waited_ms grows with every poll: it is not part of the signature; the ticker moves it.
  var names = {};
  arr(d.agents).forEach(function (a) { if (a && a.agent_id) names[a.agent_id] = a.name; });
  var s = sig([tasks.map(function (x) {
    return [x.task_id, x.customer_name, x.channel, x.intent, x.queue, x.rule, x.priority, x.skills, x.offered_to, x.reserved_for];
  }), names, i18n.lang]);
  var now = Date.now();
  if (drawn !== s) {
    drawn = s;
    clear(body);
    if (!tasks.length) {
      body.appendChild(el('tr', { class: 'is-empty' }, [el('td', { colspan: '11' }, [emptyState('empty', t('tasks.empty'), t('tasks.emptyText'))])]));
    }
    tasks.forEach(function (tk, idx) { body.appendChild(taskRow(tk, idx)); });
  }
  tasks.forEach(function (tk) {
    var row = body.querySelector('tr[data-task-id="' + cssEscape(tk.task_id) + '"] [data-since]');
    if (row && isNum(tk.waited_ms)) row.setAttribute('data-since', String(now - tk.waited_ms));
    if (whyTaskId() === tk.task_id) whyRowChanged(tk);
  });
  if (whyTaskId() && !tasks.some(function (x) { return x.task_id === whyTaskId(); })) whyRowChanged(null);
  tickWaits();
}

function taskRow(tk, idx) {
  var name = tk.customer_name || t('card.unnamed');
  var skills = arr(tk.skills).map(parseNeed);
  var since = Date.now() - (num(tk.waited_ms) || 0);
  var why = el('button', {
    type: 'button', class: 'btn btn-ghost btn-sm why-btn', 'data-testid': 'task-why', 'aria-haspopup': 'dialog',
    'aria-label': t('tasks.whyLabel', { name: name }),
    onclick: function () { openWhy(tk, why); }
  }, [el('span', { text: t('tasks.why') })]);
  var shortId = String(tk.task_id).length > 16 ? String(tk.task_id).slice(0, 8) + '…' + String(tk.task_id).slice(-5) : String(tk.task_id);
  return el('tr', { class: 'task-row' + (whyTaskId() === tk.task_id ? ' is-open' : ''), 'data-testid': 'task-row', 'data-task-id': tk.task_id, 'data-state': taskState(tk).kind }, [
    el('td', { class: 'num col-rank' }, [el('span', { class: 'rank', text: String(idx + 1) })]),
    el('td', {}, [el('div', { class: 'cust' }, [
      avatarNode(name, 'avatar-sm'),
      el('div', { class: 'cust-text' }, [
        el('span', { class: 'cust-name', 'data-testid': 'task-customer', text: name }),
        el('span', { class: 'task-id', title: tk.task_id, text: shortId })
      ])
    ])]),
    el('td', {}, [channelBadge(tk.channel)]),
    el('td', {}, [tk.intent ? el('span', { class: 'intent', text: tk.intent }) : el('span', { class: 'dash', text: '—' })]),
    el('td', {}, [queueTag(tk.queue)]),
    el('td', { 'data-testid': 'task-rule' }, [ruleChip(tk.rule)]),
    el('td', { class: 'num' }, [el('span', { class: 'prio' + ((num(tk.priority) || 0) > 0 ? ' is-raised' : ''), text: fmtInt(num(tk.priority) || 0) })]),
    el('td', {}, [skills.length ? el('div', { class: 'chips' }, skills.map(needChip)) : el('span', { class: 'muted', text: t('tasks.anyAgent') })]),
    el('td', { class: 'num' }, [el('span', { class: 'task-wait', 'data-testid': 'task-wait', 'data-since': String(since), text: fmtWait(Date.now() - since) })]),
    el('td', {}, [taskStatePill(tk)]),
    el('td', { class: 'col-action' }, [why])
  ]);
}

/** The live figures failed before any answer: nothing to list. */
export function clearTasks() {
  clear($('tasks-body')); $('tasks-count').hidden = true; $('tasks-more').hidden = true;
  drawn = null;
}
/** The UI language changed: draw the rows again. */
export function forgetTasks() { drawn = null; }
