/*
 * Switchboard desk — channels as the desk shows them: a colour-coded pill with the channel's
 * icon and name, the divider where a customer changed channel, masked external ids. No state.
 */
import { t } from '../common/i18n.js';
import { el } from '../common/util.js';

var CHANNELS = ['web', 'app', 'wechat', 'sms', 'ivr'];
var CHANNEL_ICONS = {
  web: '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9M12 3C9.5 5.6 8.2 8.6 8.2 12s1.3 6.4 3.8 9"/>',
  app: '<rect x="6.5" y="2.5" width="11" height="19" rx="2.5"/><path d="M10.5 18h3"/>',
  wechat: '<path d="M10 4.5c-4 0-7 2.6-7 5.8 0 1.8 1 3.4 2.6 4.5L5 17.2l2.9-1.5c.7.2 1.4.3 2.1.3"/><path d="M15.6 9.6c3 0 5.4 2 5.4 4.5 0 1.4-.7 2.6-1.9 3.4l.4 2.1-2.3-1.2c-.5.1-1 .2-1.6.2-3 0-5.4-2-5.4-4.5s2.4-4.5 5.4-4.5z"/>',
  sms: '<path d="M5 4.5h14a1.5 1.5 0 0 1 1.5 1.5v9a1.5 1.5 0 0 1-1.5 1.5H10l-5 4v-4.1A1.5 1.5 0 0 1 3.5 15V6A1.5 1.5 0 0 1 5 4.5z"/><path d="M8 9h8M8 12h5"/>',
  ivr: '<path d="M6.6 3.5h2.6l1.6 4.2-2 1.3a10.5 10.5 0 0 0 6.2 6.2l1.3-2 4.2 1.6v2.6a2 2 0 0 1-2.2 2A15.5 15.5 0 0 1 4.6 5.7a2 2 0 0 1 2-2.2z"/>'
};
export function knownChannel(ch) { return CHANNELS.indexOf(ch) !== -1 ? ch : null; }
export function channelLabel(ch) {
  if (!ch) return t('ctx.none');
  var k = 'channel.' + ch, s = t(k);
  return s === k ? String(ch) : s;
}
/** Chinese typography: a thin space between CJK and Latin/digits ("从微信转到 App 继续"). */
export function cjkSpace(s) {
  return String(s).replace(/([\u3400-\u9fff])([A-Za-z0-9])/g, '$1 $2').replace(/([A-Za-z0-9])([\u3400-\u9fff])/g, '$1 $2');
}
export function channelIcon(ch) {
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'chan-icon');
  svg.innerHTML = CHANNEL_ICONS[knownChannel(ch) || 'web'];
  return svg;
}
/** A small, colour-coded channel pill: icon + localized label. */
export function channelBadge(ch, opts) {
  opts = opts || {};
  var label = channelLabel(ch);
  var title = t('channel.via', { channel: label });
  return el('span', {
    class: 'chan chan-' + (knownChannel(ch) || 'other') + (opts.cls ? ' ' + opts.cls : ''),
    'data-testid': opts.testid || 'channel-badge', 'data-channel': ch || '',
    role: 'img', title: opts.title || title, 'aria-label': opts.title || title
  }, [channelIcon(ch), el('span', { class: 'chan-label', 'aria-hidden': 'true', text: label })]);
}
export function setChannel(node, ch, testid) {
  node.textContent = '';
  node.appendChild(ch ? channelBadge(ch, { testid: testid, title: channelLabel(ch) }) : document.createTextNode(t('ctx.none')));
}

/** Masks an external id for display: phones keep their last 4 digits, others a short prefix. */
export function maskId(channel, id) {
  id = String(id || '');
  var digits = id.replace(/\D/g, '');
  var phoneish = /^\+?[\d\s().-]{7,}$/.test(id);
  if (channel === 'sms' || channel === 'ivr' || phoneish) {
    return digits.length > 4 ? '•••• ' + digits.slice(-4) : id;
  }
  if (channel === 'wechat') return id.length > 6 ? id.slice(0, 6) + '…' : id;
  return id.length > 12 ? id.slice(0, 10) + '…' : id;
}
