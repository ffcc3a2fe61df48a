/*
 * Switchboard desk — what the panels share: the signed-in agent, the conversations the desk
 * holds and the one open, the API client, and a few labels.
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';

export function $(id) { return document.getElementById(id); }

/**
 * The desk's shared state:
 *   session     {token, role, agent_id, username} while signed in, else null
 *   me          the agent as the server knows them: {id, name, role, status, reason (why away),
 *               awayReasons (the reasons the server offers), skills}
 *   convs       conversation_id -> conversation (conversations.js makes them)
 *   selectedId  the conversation open in the centre pane, or null
 */
export const app = { session: null, me: newMe(), convs: new Map(), selectedId: null };
export function newMe() { return { id: null, name: '', role: null, status: 'offline', reason: null, awayReasons: [], skills: [] }; }

export const api = U.apiClient(function () { return app.session && app.session.token; });

export const BOT_SVG = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="5" y="8" width="14" height="11" rx="3"/><path d="M12 4v4M9 13h.01M15 13h.01"/></svg>';

export function tierLabel(tier) {
  if (!tier) return t('ctx.none');
  var key = 'tier.' + String(tier).toLowerCase();
  var s = t(key);
  return s === key ? String(tier) : s;
}
export function resLabel(r) { var k = 'res.' + r; var s = t(k); return s === k ? String(r || '') : s; }
/** "Lunch" for an away reason the desk knows, else the reason as the server wrote it. */
export function reasonLabel(r) { if (!r) return ''; var k = 'status.reason.' + r; var s = t(k); return s === k ? String(r) : s; }
export function customerName(c) { return (c && (c.name || c.id)) || t('offer.new'); }
export function avatarNode(name, cls) {
  return U.el('span', { class: 'avatar' + (cls ? ' ' + cls : ''), 'aria-hidden': 'true', style: { background: U.avatarColor(name) }, text: U.initials(name) });
}
