/*
 * Switchboard desk — my status (left pane and top bar): Available / Away / Offline as the server
 * confirms it (a request shows busy until then), why I am away (the reasons come in hello as
 * `away_reasons`: Away opens a menu of them), its hint, and my skills.
 */
import { t } from '../common/i18n.js';
import { el } from '../common/util.js';
import { $, app, reasonLabel } from './shared.js';
import { send } from './connection.js';
import { renderSelection } from './chat.js';

var deskView = $('desk-view');
var statusToggle = $('status-toggle'), statusHint = $('status-hint');
var pill = $('status-pill'), pillText = $('status-pill-text'), menu = $('status-menu');
/** The status asked for and not confirmed yet. */
var requestedStatus = null;
/** The button that opened the menu, and which menu: 'away' (the reasons) or 'all'. */
var menuFor = null, menuKind = null;
/** Signed out. */
export function resetStatus() { requestedStatus = null; closeMenu(); }

export function renderSkills() {
  var box = $('skills-box'), chips = $('skill-chips');
  chips.textContent = '';
  box.hidden = !app.me.skills.length;
  app.me.skills.forEach(function (s) {
    var name = typeof s === 'string' ? s : s.name;
    var level = typeof s === 'object' && s.level != null ? Number(s.level) : null;
    var dots = null;
    if (level != null && !isNaN(level)) {
      var max = level > 5 ? 10 : 5;
      dots = el('span', { class: 'skill-level', 'aria-label': level + '/' + max, title: level + '/' + max });
      for (var i = 1; i <= Math.min(max, 5); i++) {
        dots.appendChild(el('i', { class: (max === 5 ? i <= level : i * 2 <= level) ? 'on' : '' }));
      }
    }
    chips.appendChild(el('span', { class: 'skill-chip' }, [name, dots]));
  });
}

/** The server says my status (hello, or the answer to a change); `reason` only when away. */
export function onStatus(status, reason) {
  if (status !== 'available' && status !== 'away' && status !== 'offline') return;
  app.me.status = status;
  app.me.reason = status === 'away' ? (reason || null) : null;
  requestedStatus = null;
  renderStatus();
  renderSelection();
}

/** "Away · Lunch", or just "Available". */
function statusText() {
  var s = t('status.' + app.me.status);
  return app.me.status === 'away' && app.me.reason ? t('status.awayWhy', { status: s, reason: reasonLabel(app.me.reason) }) : s;
}

export function renderStatus() {
  deskView.setAttribute('data-agent-status', app.me.status);
  statusToggle.querySelectorAll('.status-opt').forEach(function (b) {
    var s = b.getAttribute('data-status');
    b.setAttribute('aria-checked', String(s === app.me.status));
    b.classList.toggle('is-busy', s === requestedStatus);
    b.tabIndex = s === app.me.status ? 0 : -1;
    if (s === 'away') {
      b.setAttribute('aria-haspopup', app.me.awayReasons.length ? 'menu' : 'false');
      var label = b.querySelector('[data-i18n]');
      label.textContent = app.me.status === 'away' && app.me.reason ? reasonLabel(app.me.reason) : t('status.away');
    }
  });
  var hint = t('status.hint.' + app.me.status);
  statusHint.textContent = app.me.status === 'away' && app.me.reason ? t('status.hint.awayWhy', { reason: reasonLabel(app.me.reason) }) : hint;
  // Supervisors, team leads and admins are never routed: their status stays offline.
  var routed = !app.me.role || app.me.role === 'agent';
  statusToggle.querySelectorAll('.status-opt').forEach(function (b) { b.disabled = !routed; });
  pill.disabled = !routed;
  if (!routed) statusHint.textContent = t('status.hint.notRouted');
  pill.setAttribute('data-status', app.me.status);
  pill.classList.toggle('is-busy', !!requestedStatus);
  pillText.textContent = statusText();
  pill.title = t('status.menuTitle');
  if (!menu.hidden) fillMenu();
}

function requestStatus(s, reason) {
  if (s === app.me.status && !requestedStatus && (s !== 'away' || (reason || null) === app.me.reason)) return;
  var frame = { type: 'status', status: s };
  if (s === 'away' && reason) frame.reason = reason;
  if (send(frame)) { requestedStatus = s; renderStatus(); }
}

/* ------------------------------------------------------------- the menu */
function openMenu(opener, kind) {
  menuFor = opener; menuKind = kind;
  fillMenu();
  menu.hidden = false;
  opener.setAttribute('aria-expanded', 'true');
  var r = opener.getBoundingClientRect();
  var w = Math.max(220, kind === 'away' ? r.width + 40 : 220);
  menu.style.minWidth = w + 'px';
  var left = Math.min(Math.max(8, kind === 'all' ? r.right - w : r.left), window.innerWidth - w - 8);
  menu.style.left = left + 'px';
  menu.style.top = (r.bottom + 6) + 'px';
  var first = menu.querySelector('[aria-checked="true"]') || menu.querySelector('button');
  if (first) first.focus();
}
function closeMenu(refocus) {
  if (menu.hidden) return;
  menu.hidden = true;
  if (menuFor) { menuFor.setAttribute('aria-expanded', 'false'); if (refocus) menuFor.focus(); }
  menuFor = null; menuKind = null;
}
function item(label, status, reason, testid) {
  var on = status === app.me.status && (status !== 'away' || (reason || null) === (app.me.reason || null) || (!reason && !app.me.reason));
  return el('button', {
    type: 'button', role: 'menuitemradio', class: 'status-menu-item' + (reason ? ' is-reason' : ''), 'aria-checked': String(on),
    'data-testid': testid, 'data-status': status, 'data-reason': reason || null,
    onclick: function () { closeMenu(true); requestStatus(status, reason); }
  }, [el('span', { class: 'dot ' + (status === 'available' ? 'dot-ok' : status === 'away' ? 'dot-warn' : 'dot-off') }), el('span', { text: label })]);
}
function fillMenu() {
  menu.textContent = '';
  var reasons = app.me.awayReasons;
  if (menuKind === 'all') menu.appendChild(item(t('status.available'), 'available', null, 'status-menu-available'));
  menu.appendChild(el('p', { class: 'status-menu-label', text: reasons.length ? t('status.awayPick') : t('status.away') }));
  if (reasons.length) reasons.forEach(function (r) { menu.appendChild(item(reasonLabel(r), 'away', r, 'status-reason-' + r)); });
  else menu.appendChild(item(t('status.away'), 'away', null, 'status-menu-away'));
  if (menuKind === 'all') {
    menu.appendChild(el('hr', { class: 'status-menu-sep' }));
    menu.appendChild(item(t('status.offline'), 'offline', null, 'status-menu-offline'));
  }
}

pill.addEventListener('click', function () { if (menuFor === pill) closeMenu(); else { closeMenu(); openMenu(pill, 'all'); } });
statusToggle.addEventListener('click', function (ev) {
  var b = ev.target.closest('.status-opt');
  if (!b) return;
  var s = b.getAttribute('data-status');
  if (s === 'away' && app.me.awayReasons.length) { if (menuFor === b) closeMenu(); else { closeMenu(); openMenu(b, 'away'); } return; }
  requestStatus(s);
});
statusToggle.addEventListener('keydown', function (ev) {
  var order = ['available', 'away', 'offline'];
  var i = order.indexOf(requestedStatus || app.me.status);
  if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') i = (i + 1) % 3;
  else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') i = (i + 2) % 3;
  else return;
  ev.preventDefault();
  var target = statusToggle.querySelector('[data-status="' + order[i] + '"]');
  target.focus();
  // Away asks why first; the others apply at once.
  if (order[i] === 'away' && app.me.awayReasons.length) openMenu(target, 'away');
  else requestStatus(order[i]);
});
menu.addEventListener('keydown', function (ev) {
  var items = Array.prototype.slice.call(menu.querySelectorAll('button'));
  var i = items.indexOf(document.activeElement);
  if (ev.key === 'Escape') { ev.preventDefault(); closeMenu(true); }
  else if (ev.key === 'ArrowDown') { ev.preventDefault(); items[(i + 1) % items.length].focus(); }
  else if (ev.key === 'ArrowUp') { ev.preventDefault(); items[(i - 1 + items.length) % items.length].focus(); }
  else if (ev.key === 'Tab') closeMenu();
});
document.addEventListener('mousedown', function (ev) {
  if (!menu.hidden && !menu.contains(ev.target) && !(menuFor && menuFor.contains(ev.target))) closeMenu();
});
window.addEventListener('resize', function () { closeMenu(); });
