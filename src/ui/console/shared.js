/*
 * Switchboard console — what every section shares: the little app-wide state, the API client
 * and the names of the people it mentions. Each section keeps the rest of its state itself.
 */
import { t } from '../common/i18n.js';
import * as U from '../common/util.js';
import { arr } from './ui.js';

export function $(id) { return document.getElementById(id); }

/**
 * The app-wide state:
 *   session   {token, role, agent_id, username, name?} while signed in, else null
 *   section   the section shown ('live', 'rules', …); null while signed out
 *   live      the latest GET /v1/queues answer, written by live.js and read everywhere (agents'
 *             names, the rule-set version in force, the overrides in force); null until then
 *   confirm   the one inline confirmation open across sections ({scope: 'ovr' | 'dry' | 'hist',
 *             …}): asking in one place withdraws the question asked in another
 */
export const app = { session: null, section: null, live: null, confirm: null };

/**
 * What the signed-in role may do in the console (docs/permissions.md): team leads supervise
 * (the live view, their teams' agents), supervisors also manage routing and the knowledge
 * base, admins also manage staff accounts and teams.
 */
var GRANTS = {
  team_lead: ['supervise'],
  supervisor: ['supervise', 'routing', 'knowledge'],
  admin: ['supervise', 'routing', 'knowledge', 'staff']
};
export function may(permission) {
  var role = app.session && app.session.role;
  return !permission || (GRANTS[role] || []).indexOf(permission) !== -1;
}

var onExpired = function () {};
/** What to do when the server no longer takes the session (console.js signs out). */
export function whenSessionExpires(fn) { onExpired = fn; }
/** The server answered 401 to a signed-in call. */
export function sessionExpired() { onExpired(); }

// A 401 while signed in ends the session: back to the login card (the call never settles).
export const api = U.apiClient(function () { return app.session && app.session.token; },
  function () { sessionExpired(); });

export function errMsg(r) {
  if (!r) return t('common.network');
  if (r.status === 403) return t('common.forbidden');
  return U.errorMessage(r);
}

/**
 * A person for an actor / created_by / updated_by value: the signed-in supervisor (named by
 * GET /v1/me), the name the API gave with it, a live agent, or a shortened id.
 */
export function who(id, name) {
  if (id == null || id === '') return '—';
  if (app.session && id === app.session.agent_id) return app.session.name || app.session.username || id;
  if (name) return name;
  var a = arr(app.live && app.live.agents).find(function (x) { return x && x.agent_id === id; });
  if (a && a.name) return a.name;
  id = String(id);
  return /^agt_[0-9a-f]{12,}$/i.test(id) ? id.slice(0, 8) + '…' + id.slice(-4) : id;
}

/** An agent of the live figures by name (else the id), for the Why? drawer and the dry-run report. */
export function agentName(id) {
  var a = arr(app.live && app.live.agents).find(function (x) { return x && x.agent_id === id; });
  return (a && a.name) || String(id || '?');
}
