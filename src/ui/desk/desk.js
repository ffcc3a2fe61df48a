/*
 * Switchboard — agent desk, the entry module (native ES modules, no bundler).
 *
 * Login (/ui/common/login.js: POST /v1/auth/login, token in sessionStorage) → WebSocket
 * /v1/ws/agent (connection.js). The server greets with "hello" (restores open conversations),
 * then pushes offers, assignments, messages and wrap-ups (protocol.js routes them).
 *
 *   left pane    status.js (my status, skills), offers.js, conversations.js (the list)
 *   centre pane  chat.js (header, transcript, reply box and internal notes), handoff.js (the
 *                bot's context card), giveback.js, transfer.js (the Transfer dialog of
 *                /ui/common/transfer.js, a pending transfer, where a transferred one came from)
 *   right pane   customer.js (the customer, linked identities), link.js (the link dialog),
 *                assist.js (suggestions)
 *
 * Shared: shared.js (session, me, the conversations, API), channels.js. Strings: i18n/en.js and
 * i18n/zh-CN.js. Panels import one another's functions where one acts on another; such cycles
 * are fine between ES modules because only functions cross them and none is called while the
 * modules load.
 */
import { i18n, t } from '../common/i18n.js';
import { mountLogin } from '../common/login.js';
import { mountTopbar } from '../common/topbar.js';
import { request } from '../common/util.js';
import en from './i18n/en.js';
import zhCN from './i18n/zh-CN.js';
import { $, app, newMe } from './shared.js';
import { configureConnection, disconnect, isConnected, relabelConnection, startConnection } from './connection.js';
import { handle, whenMeChanges } from './protocol.js';
import { renderStatus, resetStatus } from './status.js';
import { clearOfferList, offerCount, rebuildOffers, renderOffers, resetOffers } from './offers.js';
import { clearConvLists, renderConvList, updateTitle } from './conversations.js';
import { clearReply, renderSelection } from './chat.js';
import { resetAssist } from './assist.js';
import { resetCustomers } from './customer.js';
import { relabelLink, resetLink } from './link.js';
import { relabelGiveBack, resetGiveBack } from './giveback.js';
import { resetTransfer } from './transfer.js';

var SESSION_KEY = 'switchboard.desk_session';
var deskView = $('desk-view');

i18n.register({ en: en, 'zh-CN': zhCN });

/* ================================================================ login */
// The card itself is /ui/common/login.js; any role may sign in here.
var login = mountLogin({
  view: $('login-view'),
  app: deskView,
  storageKey: SESSION_KEY,
  onSignIn: function (s) { app.session = s; enterDesk(); }
});
var topbar = mountTopbar({ host: $('topbar'), home: '/desk', label: 'Switchboard Desk', nameTestId: 'agent-name', onLogout: function () { logout(); } });
configureConnection({ onMessage: handle, onExpired: function (message) { logout(message || t('login.err.expired')); } });
whenMeChanges(renderMe);

function showLogin(message) {
  document.title = t('desk.docTitle');
  login.show(message);
}

function resetDeskState() {
  resetOffers(); app.convs.clear(); resetCustomers(); resetAssist();
  resetGiveBack();
  resetTransfer();
  resetLink();
  app.selectedId = null; resetStatus();
  // the next agent in this browser must not find this one's draft
  clearReply();
  app.me = newMe();
  clearOfferList(); clearConvLists();
}

function enterDesk() {
  login.hide();
  resetDeskState();
  app.me.name = app.session.username || '';
  renderMe(); renderStatus(); renderOffers(); renderConvList(); renderSelection();
  startConnection();
}

function logout(message) {
  disconnect();
  // Signing out on purpose ends the token on the server too (an ended session's is dead already).
  if (!message && app.session) request('POST', '/v1/auth/logout', { token: app.session.token }).catch(function () {});
  app.session = null;
  login.store(null);
  resetDeskState();
  showLogin(message);
}

function renderMe() {
  var name = app.me.name || (app.session && app.session.username) || '—';
  var role = app.me.role || (app.session && app.session.role);
  topbar.setUser(name, 'desk.role.' + (['supervisor', 'team_lead', 'admin'].indexOf(role) !== -1 ? role : 'agent'));
}

/* ------------------------------------------------------------- language */
i18n.onChange(function () {
  updateTitle();
  if (!deskView.hidden) {
    relabelConnection();
    renderMe(); renderStatus();
    rebuildOffers(); renderConvList(); renderSelection();
    relabelLink();
    relabelGiveBack();
  }
});
i18n.bindSwitches();
i18n.apply();

/* ----------------------------------------------------------------- boot */
app.session = login.saved();
if (app.session) enterDesk(); else showLogin();

// A read-only look at the desk's state, for debugging and embedding hosts.
window.SwitchboardDesk = {
  get state() { return { me: app.me, offers: offerCount(), conversations: app.convs.size, selected: app.selectedId, connected: isConnected() }; }
};
