/*
 * Switchboard console — #dryrun: replays a time window of past traffic through a saved version
 * (POST /v1/routing/rules/{v}/dry-run) and compares it with the rules that were in force: KPI
 * tiles, the chart (dryrun-chart.js), per queue, per agent, and the tasks that change queue.
 * The report's "Activate" uses versions.js.
 */
import { t } from '../common/i18n.js';
import { el, toast } from '../common/util.js';
import { $, app, api, errMsg, agentName } from './shared.js';
import { arr, avatarNode, clamp, clear, emptyState, fmtDateTime, fmtInt, fmtPct, fmtSecs, isNum, loadingRow, num, obj, queueColor, queueTag, setBusy } from './ui.js';
import { drawChart } from './dryrun-chart.js';
import { go } from './frame.js';
import { activateVersion, activeVersion, lastSavedVersion, loadVersions, versionNumbers, versionsState } from './versions.js';

/**
 * The report: its state (idle | loading | ok), the last report, the window and version asked
 * for, whether to run as soon as the section opens, and the number of the latest run.
 */
var dry = newDry();
function newDry() { return { state: 'idle', report: null, window: null, version: null, autoRun: false, seq: 0 }; }
/** The report shown, if any. */
export function dryReport() { return dry.report; }
export function dryState() { return dry.state; }
/** Signed out. */
export function resetDry() { dry = newDry(); }

var dryForm = $('dry-form');
var dryErr = el('p', { class: 'field-error', 'data-testid': 'dryrun-error', role: 'alert', hidden: true });
dryForm.appendChild(dryErr);

function toLocalInput(ms) {
  var d = new Date(ms), p = function (n) { return ('0' + n).slice(-2); };
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
}
function fromLocalInput(v) { if (!v) return null; var d = new Date(v); return isNaN(d.getTime()) ? null : d.getTime(); }
function setWindowHours(h) {
  var to = Math.ceil((Date.now() + 60000) / 60000) * 60000; // the next full minute: covers "now"
  $('dry-to').value = toLocalInput(to);
  $('dry-from').value = toLocalInput(to - h * 3600000);
  markPreset();
}
function markPreset() {
  var from = fromLocalInput($('dry-from').value), to = fromLocalInput($('dry-to').value);
  var hours = from != null && to != null ? Math.round((to - from) / 360000) / 10 : null;
  var nearNow = to != null && Math.abs(to - Date.now()) < 5 * 60000;
  dryForm.querySelectorAll('[data-preset]').forEach(function (b) { b.classList.toggle('is-on', nearNow && Number(b.getAttribute('data-preset')) === hours); });
}
dryForm.querySelectorAll('[data-preset]').forEach(function (b) {
  b.addEventListener('click', function () { setWindowHours(Number(b.getAttribute('data-preset'))); });
});
['dry-from', 'dry-to'].forEach(function (id) { $(id).addEventListener('change', markPreset); });
$('dry-version').addEventListener('change', function () { dry.version = Number(this.value) || null; });

export function renderDryVersions() {
  var sel = clear($('dry-version'));
  var list = versionNumbers(), active = activeVersion();
  if (!list.length) { sel.appendChild(el('option', { value: '', text: t('dry.noVersions') })); sel.disabled = true; return; }
  sel.disabled = false;
  list.forEach(function (v) {
    var text = v === active ? t('dry.versionActive', { v: v }) : v === lastSavedVersion() ? t('dry.versionNew', { v: v }) : t('dry.versionOpt', { v: v });
    sel.appendChild(el('option', { value: String(v), text: text }));
  });
  var want = dry.version || lastSavedVersion() || list[0];
  if (list.indexOf(want) === -1) list.push(want) && sel.appendChild(el('option', { value: String(want), text: t('dry.versionOpt', { v: want }) }));
  sel.value = String(want);
  dry.version = want;
}

export function goDryRun(v, autoRun) {
  dry.version = v;
  dry.autoRun = !!autoRun;
  go('dryrun');
}

dryForm.addEventListener('submit', function (ev) { ev.preventDefault(); runDry(); });

function runDry() {
  dryErr.hidden = true;
  var v = Number($('dry-version').value);
  var from = fromLocalInput($('dry-from').value), to = fromLocalInput($('dry-to').value);
  var fail = function (msg) { dryErr.textContent = msg; dryErr.hidden = false; };
  if (!v) return fail(t('dry.err.version'));
  if (from == null || to == null || from >= to) return fail(t('dry.err.window'));
  if (to - from > 31 * 86400000) return fail(t('dry.err.long'));
  var body = { from: new Date(from).toISOString().replace(/\.\d{3}Z$/, 'Z'), to: new Date(to).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  dry.state = 'loading'; dry.window = body; dry.version = v;
  markPreset();
  setBusy($('dry-run'), 'dry.running');
  renderDryReport();
  var seq = dry.seq = (dry.seq || 0) + 1;
  api('POST', '/v1/routing/rules/' + v + '/dry-run', body).then(function (r) {
    if (seq !== dry.seq) return;
    if (r.ok && r.data) { dry.state = 'ok'; dry.report = r.data; }
    else {
      dry.state = dry.report ? 'ok' : 'idle';
      var probs = arr(r.data && r.data.problems);
      fail(r.status === 404 ? t('dry.err.unknown', { v: v })
        : t('dry.err.failed', { msg: probs.length ? probs.map(function (p) { return (p.path ? p.path + ': ' : '') + p.message; }).join(' · ') : errMsg(r) }));
    }
  }).catch(function () {
    if (seq !== dry.seq) return;
    dry.state = dry.report ? 'ok' : 'idle';
    fail(t('dry.err.failed', { msg: t('common.network') }));
  }).then(function () {
    if (seq !== dry.seq) return;
    setBusy($('dry-run'), null);
    renderDryReport();
  });
}

export function enter(args, changed) {
  if (!$('dry-from').value || !$('dry-to').value) setWindowHours(24);
  else if (dry.autoRun) setWindowHours(24);
  if (versionsState() === 'idle') loadVersions();
  renderDryVersions();
  markPreset();
  renderDryReport();
  if (dry.autoRun) { dry.autoRun = false; runDry(); }
}

/* --------------------------------------------------------------- report */
function deltaNode(kind, cand, base, better) {
  if (!isNum(cand) || !isNum(base)) return null;
  var diff = cand - base;
  var eps = kind === 'pct' ? 0.0005 : kind === 'secs' ? 0.05 : 0;
  if (Math.abs(diff) <= eps) return el('span', { class: 'delta', text: t('dry.same') });
  var good = better === 'higher' ? diff > 0 : diff < 0;
  var sign = diff > 0 ? '+' : '−', a = Math.abs(diff);
  var text = kind === 'pct' ? sign + t('dry.pp', { n: (a * 100).toFixed(1) }) : kind === 'secs' ? sign + fmtSecs(a) : sign + fmtInt(a);
  return el('span', { class: 'delta ' + (good ? 'is-good' : 'is-bad'), 'data-testid': 'delta', text: (diff > 0 ? '▲ ' : '▼ ') + text });
}
function fmtKind(kind, v) { return kind === 'pct' ? fmtPct(v, 1) : kind === 'secs' ? fmtSecs(v) : fmtInt(v); }
function kpiTile(id, label, kind, cand, base, better) {
  var c = obj(cand), b = obj(base);
  var cv = num(c[id]), bv = num(b[id]);
  var d = deltaNode(kind, cv, bv, better);
  var cls = d && /is-good/.test(d.className) ? ' is-good' : d && /is-bad/.test(d.className) ? ' is-bad' : '';
  return el('div', { class: 'kpi' + cls, 'data-testid': 'kpi', 'data-kpi': id }, [
    el('span', { class: 'kpi-label', text: label }),
    el('span', { class: 'kpi-value', text: fmtKind(kind, cv) }),
    el('div', { class: 'kpi-foot' }, [d, el('span', { text: t('dry.was', { v: fmtKind(kind, bv) }) })])
  ]);
}
function cmpCell(kind, cv, bv, better) {
  var cell = el('td', { class: 'num cmp' }, [fmtKind(kind, cv)]);
  var d = isNum(cv) && isNum(bv) && cv !== bv ? ((better === 'higher' ? cv > bv : cv < bv) ? ' is-good' : ' is-bad') : '';
  cell.appendChild(el('span', { class: 'base delta-inline' + d, text: fmtKind(kind, bv) }));
  return cell;
}

function outcome(o) {
  o = Object.assign({}, obj(o));
  if (!isNum(o.abandonment) && isNum(o.abandonment_rate)) o.abandonment = o.abandonment_rate;
  if (!isNum(o.service_level) && isNum(o.answered) && o.answered > 0 && isNum(o.answered_within_sl)) o.service_level = o.answered_within_sl / o.answered;
  return o;
}
export function renderDryReport() {
  var box = clear($('dry-report'));
  var st = dry.state;
  if (st === 'loading') {
    var w = dry.window;
    box.appendChild(el('div', { class: 'card' }, [loadingRow(t('dry.loading', { from: fmtDateTime(w.from), to: fmtDateTime(w.to) }))]));
    var sk = el('div', { class: 'kpis' });
    for (var i = 0; i < 6; i++) sk.appendChild(el('div', { class: 'kpi skeleton', style: { height: '92px' } }));
    box.appendChild(sk);
    box.appendChild(el('div', { class: 'card skeleton', style: { height: '300px' } }));
    return;
  }
  var rep = dry.report;
  if (!rep) { box.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('dry.emptyTitle'), t('dry.emptyText'))])); return; }

  var v = rep.version, base = rep.baseline_version, active = activeVersion();
  var cand = outcome(rep.candidate), bl = outcome(rep.baseline);
  var report = el('div', { class: 'report', 'data-testid': 'dryrun-report', 'data-version': String(v) });

  // ---- head
  var actions = el('div', { class: 'report-actions' });
  if (v === active) actions.appendChild(el('span', { class: 'badge badge-ok', 'data-testid': 'dry-active', text: t('dry.isActive', { v: v }) }));
  else if (app.confirm && app.confirm.scope === 'dry' && app.confirm.v === v) {
    actions.appendChild(el('span', { class: 'muted', style: { fontSize: '13px', alignSelf: 'center' }, text: t(active && v < active ? 'rules.confirmRollback' : 'rules.confirmActivate', { v: v }) }));
    actions.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.cancel'), onclick: function () { app.confirm = null; renderDryReport(); } }));
    actions.appendChild(el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'dry-activate-confirm', text: t('common.confirm'),
      onclick: function (ev) { app.confirm = null; ev.currentTarget.disabled = true; activateVersion(v).then(function (res) { if (!res.ok) toast(res.message, 'error'); renderDryReport(); }); } }));
  } else {
    actions.appendChild(el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'dry-activate', text: t('dry.activate', { v: v }),
      onclick: function () { app.confirm = { scope: 'dry', v: v }; renderDryReport(); } }));
  }
  report.appendChild(el('div', { class: 'report-head' }, [
    el('div', { class: 'report-title' }, [
      el('span', { class: 'ver ver-cand', text: 'v' + v }),
      el('span', { class: 'vs', text: t('dry.vs') }),
      el('span', { class: 'ver ver-base', text: base ? 'v' + base : t('dry.baselineBuiltin') })
    ]),
    el('div', { class: 'report-meta' }, [
      el('span', {}, [el('b', { text: fmtDateTime(rep.from) }), ' → ', el('b', { text: fmtDateTime(rep.to) })]),
      el('span', { 'data-testid': 'dry-tasks', text: t('dry.tasks', { n: fmtInt(num(rep.tasks) || 0) }) }),
      isNum(rep.agents) ? el('span', { text: t('dry.agents', { n: rep.agents }) }) : null
    ]),
    actions
  ]));

  var un = num(cand.unserved), ub = num(bl.unserved);
  if ((un || ub) && num(rep.tasks)) {
    report.appendChild(el('div', { class: 'notice notice-warn', 'data-testid': 'dry-unserved', text: un === ub ? t('dry.unserved', { n: un }) : t('dry.unservedCmp', { n: fmtInt(un || 0), b: fmtInt(ub || 0) }) }));
  }
  if (!num(rep.tasks)) {
    report.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('dry.noTasks'), t('dry.noTasksText', { from: fmtDateTime(rep.from), to: fmtDateTime(rep.to) }))]));
  }

  // ---- KPIs
  report.appendChild(el('div', { class: 'kpis', 'data-testid': 'dry-kpis' }, [
    kpiTile('service_level', t('dry.kpi.sl'), 'pct', cand, bl, 'higher'),
    kpiTile('wait_p50_secs', t('dry.kpi.p50'), 'secs', cand, bl, 'lower'),
    kpiTile('wait_p90_secs', t('dry.kpi.p90'), 'secs', cand, bl, 'lower'),
    kpiTile('abandonment', t('dry.kpi.abandonment'), 'pct', cand, bl, 'lower'),
    kpiTile('answered', t('dry.kpi.answered'), 'int', cand, bl, 'higher'),
    kpiTile('fallbacks', t('dry.kpi.fallbacks'), 'int', cand, bl, 'lower')
  ]));

  // ---- chart
  var chartBox = el('div', { class: 'chart', 'data-testid': 'dryrun-chart' });
  report.appendChild(el('div', { class: 'card chart-card' }, [
    el('div', { class: 'card-head' }, [
      el('h2', { text: t('dry.chart') }),
      el('span', { class: 'card-hint', style: { marginLeft: '0' }, text: t('dry.chartHint') }),
      el('div', { class: 'chart-legend' }, [
        el('span', { class: 'legend-key' }, [el('i', { class: 'is-cand' }), t('dry.candidate', { v: v })]),
        el('span', { class: 'legend-key' }, [el('i', { class: 'is-base' }), t('dry.baselineKey') + (base ? ' v' + base : '')])
      ])
    ]),
    chartBox
  ]));

  // ---- per queue + per agent
  report.appendChild(el('div', { class: 'report-grid' }, [dryQueues(cand, bl), dryAgents(cand, bl)]));
  report.appendChild(dryChanged(rep));
  box.appendChild(report);
  drawChart(chartBox, arr(rep.timeline), rep);
}

function dryQueues(cand, bl) {
  var names = {}, cq = {}, bq = {};
  arr(cand.queues).forEach(function (q) { if (q) { names[q.queue] = 1; cq[q.queue] = q; } });
  arr(bl.queues).forEach(function (q) { if (q) { names[q.queue] = 1; bq[q.queue] = q; } });
  var card = el('div', { class: 'card' }, [el('div', { class: 'card-head' }, [el('h2', { text: t('dry.queues') }), el('span', { class: 'card-hint', text: t('dry.queuesHint') })])]);
  var keys = Object.keys(names).sort(function (a, b) { return (num(obj(cq[b]).tasks) || 0) - (num(obj(cq[a]).tasks) || 0) || a.localeCompare(b); });
  if (!keys.length) { card.appendChild(emptyState('empty', t('live.noQueues'))); return card; }
  var body = el('tbody');
  keys.forEach(function (k) {
    var c = obj(cq[k]), b = obj(bq[k]);
    body.appendChild(el('tr', { 'data-testid': 'dry-queue-row', 'data-queue': k }, [
      el('td', {}, [el('span', { class: 'q-name' }, [el('span', { class: 'q-swatch', style: { background: queueColor(k) } }), k])]),
      cmpCell('int', num(c.tasks), num(b.tasks), 'none'),
      cmpCell('int', num(c.answered), num(b.answered), 'higher'),
      cmpCell('secs', num(c.wait_p50_secs), num(b.wait_p50_secs), 'lower'),
      cmpCell('secs', num(c.wait_p90_secs), num(b.wait_p90_secs), 'lower'),
      cmpCell('pct', num(c.service_level), num(b.service_level), 'higher'),
      cmpCell('int', num(c.abandoned), num(b.abandoned), 'lower'),
      cmpCell('int', num(c.fallbacks), num(b.fallbacks), 'lower')
    ]));
  });
  var head = el('tr', {}, ['col.queue', 'col.tasks', 'col.answered', 'col.p50', 'col.p90', 'col.sl', 'col.abandoned', 'col.fallbacks'].map(function (k, i) {
    return el('th', { class: i ? 'num' : '', text: t(k) });
  }));
  card.appendChild(el('div', { class: 'table-wrap' }, [el('table', { class: 'table', 'data-testid': 'dry-queues' }, [el('thead', {}, [head]), body])]));
  return card;
}

function dryAgents(cand, bl) {
  var card = el('div', { class: 'card' }, [el('div', { class: 'card-head' }, [el('h2', { text: t('dry.agentsTitle') }),
    el('div', { class: 'chart-legend' }, [el('span', { class: 'legend-key' }, [el('i', { class: 'is-cand' }), 'v' + (dry.report && dry.report.version)]),
      el('span', { class: 'legend-key' }, [el('i', { style: { background: '#adb5bd' } }), t('dry.baselineKey')])])])]);
  var ids = {}, ca = {}, ba = {};
  arr(cand.agents).forEach(function (a) { if (a) { ids[a.agent_id] = 1; ca[a.agent_id] = a; } });
  arr(bl.agents).forEach(function (a) { if (a) { ids[a.agent_id] = 1; ba[a.agent_id] = a; } });
  var keys = Object.keys(ids).sort(function (x, y) { return (num(obj(ca[y]).occupancy) || 0) - (num(obj(ca[x]).occupancy) || 0); });
  if (!keys.length) { card.appendChild(emptyState('empty', t('live.noAgents'))); return card; }
  var list = el('ul', { class: 'occ-list', 'data-testid': 'dry-agents' });
  keys.forEach(function (id) {
    var c = obj(ca[id]), b = obj(ba[id]), name = agentName(id);
    var bar = function (cls, v) {
      return el('div', { class: 'occ-bar' }, [el('div', { class: 'occ-track ' + cls }, [el('span', { style: { width: clamp((num(v) || 0) * 100, 0, 100) + '%' } })]), el('span', { class: 'pct', text: fmtPct(num(v), 0) })]);
    };
    var handled = isNum(b.handled) && b.handled !== c.handled ? t('dry.handledWas', { n: fmtInt(num(c.handled) || 0), b: fmtInt(b.handled) }) : t('dry.handled', { n: fmtInt(num(c.handled) || 0) });
    list.appendChild(el('li', { class: 'occ-row', 'data-testid': 'dry-agent', 'data-agent-id': id }, [
      avatarNode(name),
      el('div', {}, [el('div', { class: 'occ-name' }, [el('span', { text: name }), el('span', { text: handled })]),
        el('div', { class: 'occ-bars' }, [bar('is-cand', c.occupancy), bar('is-base', b.occupancy)])])
    ]));
  });
  card.appendChild(list);
  return card;
}

function dryChanged(rep) {
  var n = num(rep.changed_queue_count) || 0, sample = arr(rep.changed_queue);
  var card = el('div', { class: 'card', 'data-testid': 'dry-changed' }, [el('div', { class: 'card-head' }, [
    el('h2', { text: t('dry.changed') }),
    el('span', { class: 'badge ' + (n ? 'badge-warn' : 'badge-ok'), 'data-testid': 'changed-count', text: fmtInt(n) }),
    el('span', { class: 'card-hint', text: n ? t('dry.changedCount', { n: fmtInt(n), total: fmtInt(num(rep.tasks) || 0) }) : '' })
  ])]);
  if (!n && !sample.length) { card.appendChild(el('p', { class: 'muted', style: { fontSize: '13.5px' }, text: t('dry.changedNone') })); return card; }
  var flows = {};
  sample.forEach(function (c) { var k = (c.from || '—') + '\u0000' + (c.to || '—'); flows[k] = (flows[k] || 0) + 1; });
  var fbox = el('div', { class: 'flows' });
  Object.keys(flows).sort(function (a, b) { return flows[b] - flows[a]; }).forEach(function (k) {
    var p = k.split('\u0000');
    fbox.appendChild(el('span', { class: 'flow' }, [queueTag(p[0]), el('span', { class: 'arrow', text: '→' }), queueTag(p[1]), el('b', { text: '×' + flows[k] })]));
  });
  card.appendChild(fbox);
  if (sample.length) {
    var body = el('tbody');
    sample.forEach(function (c) {
      body.appendChild(el('tr', { 'data-testid': 'changed-row' }, [el('td', {}, [el('span', { class: 'task-id', text: c.task_id || '—' })]), el('td', {}, [queueTag(c.from)]), el('td', {}, [queueTag(c.to)])]));
    });
    card.appendChild(el('p', { class: 'card-hint', style: { margin: '0 0 6px' }, text: t('dry.changedSample', { n: sample.length }) }));
    card.appendChild(el('div', { class: 'table-wrap sample-list' }, [el('table', { class: 'table' }, [
      el('thead', {}, [el('tr', {}, [el('th', { text: t('col.task') }), el('th', { text: t('col.from') }), el('th', { text: t('col.to') })])]), body])]));
  }
  return card;
}


var resizeTimer = null;
window.addEventListener('resize', function () {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(function () { if (app.section === 'dryrun' && dry.state === 'ok') renderDryReport(); }, 150);
});
