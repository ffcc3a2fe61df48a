/*
 * Switchboard desk — my status (left pane): Available / Away / Offline as the server confirms
 * it (a request shows busy until then), its hint, and my skills.
 */
import { t } from '../common/i18n.js';
import { el } from '../common/util.js';
import { $, app } from './shared.js';
import { send } from './connection.js';
import { renderSelection } from './chat.js';

var deskView = $('desk-view');
var statusToggle = $('status-toggle'), statusHint = $('status-hint');
/** The status asked for and not confirmed yet. */
var requestedStatus = null;
/** Signed out. */
export function resetStatus() { requestedStatus = null; }

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

export function onStatus(status) {
  if (status !== 'available' && status !== 'away' && status !== 'offline') return;
  app.me.status = status;
  requestedStatus = null;
  renderStatus();
  renderSelection();
}

export function renderStatus() {
  deskView.setAttribute('data-agent-status', app.me.status);
  statusToggle.querySelectorAll('.status-opt').forEach(function (b) {
    var s = b.getAttribute('data-status');
    b.setAttribute('aria-checked', String(s === app.me.status));
    b.classList.toggle('is-busy', s === requestedStatus);
    b.tabIndex = s === app.me.status ? 0 : -1;
  });
  statusHint.textContent = t('status.hint.' + app.me.status);
}

function requestStatus(s) {
  if (s === app.me.status && !requestedStatus) return;
  if (send({ type: 'status', status: s })) { requestedStatus = s; renderStatus(); }
}
statusToggle.addEventListener('click', function (ev) {
  var b = ev.target.closest('.status-opt');
  if (b) requestStatus(b.getAttribute('data-status'));
});
statusToggle.addEventListener('keydown', function (ev) {
  var order = ['available', 'away', 'offline'];
  var i = order.indexOf(requestedStatus || app.me.status);
  if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') i = (i + 1) % 3;
  else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') i = (i + 2) % 3;
  else return;
  ev.preventDefault();
  requestStatus(order[i]);
  statusToggle.querySelector('[data-status="' + order[i] + '"]').focus();
});
