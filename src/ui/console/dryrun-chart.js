/*
 * Switchboard console — the dry-run report's chart: tasks waiting over the window under the
 * candidate version (area and line) and the baseline (dashed), with a hover read-out. An SVG
 * sized to its box.
 */
import { i18n, t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { clamp, clear, emptyState, fmtDateTime, fmtInt, isNum, num, svgEl } from './ui.js';

var el = U.el;

function niceMax(v) {
  if (!(v > 0)) return 4;
  var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
  var step = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
  var max = step * p;
  if (max < 4 && Math.round(v) === v) max = Math.max(4, Math.ceil(v));
  return max;
}
export function drawChart(box, points, rep) {
  clear(box);
  points = points.filter(function (p) { return p && isNum(p.at_secs); });
  if (!points.length) { box.appendChild(emptyState('empty', t('dry.chartEmpty'))); return; }
  var W = Math.max(320, box.clientWidth || 800), H = 280, L = 40, R = 14, T = 14, B = 30;
  var fromMs = rep.from ? U.toDate(rep.from).getTime() : 0;
  var span = Math.max(points[points.length - 1].at_secs, rep.from && rep.to ? (U.toDate(rep.to).getTime() - fromMs) / 1000 : 0, 1);
  var maxY = niceMax(Math.max.apply(null, points.map(function (p) { return Math.max(num(p.candidate_waiting) || 0, num(p.baseline_waiting) || 0); })));
  var x = function (s) { return L + (s / span) * (W - L - R); };
  var y = function (v) { return T + (1 - (v || 0) / maxY) * (H - T - B); };
  var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'data-testid': 'dryrun-chart-svg', 'aria-label': t('dry.chart') });
  svg.style.height = H + 'px';
  var defs = svgEl('defs');
  var grad = svgEl('linearGradient', { id: 'cand-fill', x1: '0', y1: '0', x2: '0', y2: '1' });
  grad.appendChild(svgEl('stop', { offset: '0%', 'stop-color': '#3b5bdb', 'stop-opacity': '0.22' }));
  grad.appendChild(svgEl('stop', { offset: '100%', 'stop-color': '#3b5bdb', 'stop-opacity': '0.02' }));
  defs.appendChild(grad); svg.appendChild(defs);

  // grid + y axis
  var grid = svgEl('g', { class: 'grid' }), axis = svgEl('g', { class: 'axis' });
  var ySteps = 4;
  for (var i = 0; i <= ySteps; i++) {
    var val = maxY * i / ySteps, yy = y(val);
    grid.appendChild(svgEl('line', { x1: L, x2: W - R, y1: yy, y2: yy }));
    var tx = svgEl('text', { x: L - 8, y: yy + 4, 'text-anchor': 'end' });
    tx.textContent = Math.round(val * 10) / 10;
    axis.appendChild(tx);
  }
  // x axis: ticks on round local times
  var steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
  var step = steps.find(function (s) { return span / s <= 7; }) || 604800;
  var startMs = new Date(fromMs); startMs.setHours(0, 0, 0, 0);
  var first = startMs.getTime() + Math.ceil((fromMs - startMs.getTime()) / (step * 1000)) * step * 1000;
  var longWindow = span > 36 * 3600;
  for (var tm = first; tm <= fromMs + span * 1000 + 1; tm += step * 1000) {
    var xx = x((tm - fromMs) / 1000);
    grid.appendChild(svgEl('line', { x1: xx, x2: xx, y1: T, y2: H - B, 'stroke-dasharray': '2 4' }));
    var lab = svgEl('text', { x: xx, y: H - B + 18, 'text-anchor': 'middle' });
    var d = new Date(tm);
    lab.textContent = longWindow && d.getHours() === 0 && d.getMinutes() === 0
      ? new Intl.DateTimeFormat(i18n.lang, { month: 'short', day: 'numeric' }).format(d)
      : ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
    axis.appendChild(lab);
  }
  axis.appendChild(svgEl('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: '#cfd4e0' }));
  svg.appendChild(grid); svg.appendChild(axis);

  // series (steps: the count holds until the next sample)
  var path = function (key) {
    var dd = '';
    points.forEach(function (p, k) {
      var px = x(p.at_secs), py = y(num(p[key]));
      if (!k) dd += 'M' + px.toFixed(1) + ' ' + py.toFixed(1);
      else dd += 'H' + px.toFixed(1) + 'V' + py.toFixed(1);
    });
    return dd + 'H' + x(span).toFixed(1);
  };
  var candPath = path('candidate_waiting');
  svg.appendChild(svgEl('path', { class: 'area-cand', d: candPath + 'V' + y(0).toFixed(1) + 'H' + x(points[0].at_secs).toFixed(1) + 'Z' }));
  // the dashed baseline goes on top so it stays visible where both agree
  svg.appendChild(svgEl('path', { class: 'line-cand', 'data-testid': 'chart-candidate', d: candPath }));
  svg.appendChild(svgEl('path', { class: 'line-base', 'data-testid': 'chart-baseline', d: path('baseline_waiting') }));

  // hover
  var hover = svgEl('g', { visibility: 'hidden' });
  var hl = svgEl('line', { class: 'hover-line', y1: T, y2: H - B });
  var hc = svgEl('circle', { class: 'hover-dot', r: 4.5, fill: '#3b5bdb' });
  var hb = svgEl('circle', { class: 'hover-dot', r: 4, fill: '#868e96' });
  hover.appendChild(hl); hover.appendChild(hb); hover.appendChild(hc);
  svg.appendChild(hover);
  var tip = el('div', { class: 'chart-tip', hidden: true });
  var overlay = svgEl('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: 'transparent' });
  svg.appendChild(overlay);
  var move = function (ev) {
    var rect = svg.getBoundingClientRect();
    var sx = (ev.clientX - rect.left) * (W / rect.width);
    var at = clamp((sx - L) / (W - L - R), 0, 1) * span;
    var best = points[0];
    points.forEach(function (p) { if (p.at_secs <= at) best = p; });
    var px = x(best.at_secs);
    hl.setAttribute('x1', px); hl.setAttribute('x2', px);
    hc.setAttribute('cx', px); hc.setAttribute('cy', y(num(best.candidate_waiting)));
    hb.setAttribute('cx', px); hb.setAttribute('cy', y(num(best.baseline_waiting)));
    hover.setAttribute('visibility', 'visible');
    clear(tip);
    tip.appendChild(el('div', { class: 'tip-time', text: fmtDateTime(fromMs + best.at_secs * 1000) }));
    tip.appendChild(el('div', { class: 'tip-row' }, [el('span', {}, [el('i', { style: { background: '#3b5bdb' } }), t('dry.candidate', { v: rep.version })]), el('b', { text: fmtInt(num(best.candidate_waiting) || 0) })]));
    tip.appendChild(el('div', { class: 'tip-row' }, [el('span', {}, [el('i', { style: { background: '#868e96' } }), t('dry.baselineKey')]), el('b', { text: fmtInt(num(best.baseline_waiting) || 0) })]));
    tip.hidden = false;
    tip.style.left = (px * rect.width / W) + 'px';
    tip.style.top = (Math.min(y(num(best.candidate_waiting)), y(num(best.baseline_waiting))) * rect.height / H - 10) + 'px';
  };
  overlay.addEventListener('mousemove', move);
  overlay.addEventListener('mouseleave', function () { hover.setAttribute('visibility', 'hidden'); tip.hidden = true; });
  box.classList.toggle('is-dense', points.length > 60);
  box.appendChild(svg);
  box.appendChild(tip);
}
