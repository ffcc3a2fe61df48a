/*
 * Switchboard — the top bar shared by the agent desk and the supervisor console: the brand, the
 * page's own status pills, the language switch, the signed-in person and Log out.
 *
 *   import { mountTopbar } from '../common/topbar.js';
 *   var topbar = mountTopbar({
 *     host: $('topbar'),             // <header class="topbar">; what the page put there (its
 *                                    // status pills) goes between the brand and the right side
 *     home: '/desk',                 // where the brand links to,
 *     label: 'Switchboard Desk',     //   and its accessible name
 *     nameTestId: 'agent-name',      // data-testid of the person's name
 *     onLogout: function () {}       // the Log out button
 *   });
 *   topbar.setUser(name, roleKey)    the person's name and avatar, and the i18n key of their role
 *
 * The brand's tag is the page's own `login.sub` string (e.g. "Agent Desk"); Log out is
 * `topbar.logout` (./i18n/). Element ids are the ones the pages' CSS uses: me-avatar, me-name,
 * me-role, logout; the switch is data-testid lang-switch.
 */
import { t } from './i18n.js';
import { el, initials, avatarColor } from './util.js';

var LOGOUT_ICON = '<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M15 17l5-5-5-5M20 12H9M12 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h7"/></svg>';

export function mountTopbar(opts) {
  var host = opts.host;
  var own = Array.prototype.slice.call(host.children);   // the page's own pills

  var avatar = el('span', { class: 'avatar', id: 'me-avatar', 'aria-hidden': 'true', text: '?' });
  var name = el('span', { class: 'me-name', id: 'me-name', 'data-testid': opts.nameTestId, text: '—' });
  var role = el('span', { class: 'me-role', id: 'me-role' });
  var logout = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'logout', 'data-testid': 'logout',
    'data-i18n-aria-label': 'topbar.logout', 'data-i18n-title': 'topbar.logout', 'aria-label': t('topbar.logout'), title: t('topbar.logout') });
  logout.innerHTML = LOGOUT_ICON;
  logout.appendChild(el('span', { 'data-i18n': 'topbar.logout', text: t('topbar.logout') }));
  logout.addEventListener('click', function () { opts.onLogout(); });

  var brand = el('a', { class: 'topbar-brand', href: opts.home, 'aria-label': opts.label }, [
    el('img', { src: '/ui/common/logo.svg', alt: '', width: '28', height: '28' }),
    el('span', { class: 'brand-name', text: 'Switchboard' }),
    el('span', { class: 'brand-tag', 'data-i18n': 'login.sub', text: t('login.sub') })
  ]);

  host.textContent = '';
  host.appendChild(brand);
  own.forEach(function (node) { host.appendChild(node); });
  host.appendChild(el('div', { class: 'topbar-right' }, [
    el('button', { type: 'button', class: 'lang-switch', 'data-lang-switch': true, 'data-testid': 'lang-switch' }),
    el('div', { class: 'me' }, [avatar, el('div', { class: 'me-text' }, [name, role])]),
    logout
  ]));

  return {
    /** The signed-in person: `shown` is their display name, `roleKey` the i18n key of their role. */
    setUser: function (shown, roleKey) {
      name.textContent = shown;
      avatar.textContent = initials(shown);
      avatar.style.background = avatarColor(shown);
      role.setAttribute('data-i18n', roleKey);
      role.textContent = t(roleKey);
    }
  };
}
