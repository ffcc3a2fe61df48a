/*
 * Switchboard console — the staff section's data: the accounts (GET /v1/staff: everyone for
 * supervisors and admins, the members of the teams they lead for a team lead) and the teams
 * (GET /v1/teams) as loaded, who may change what, and the small helpers every part of the
 * section shares.
 */
import { t } from '../../common/i18n.js';
import { el } from '../../common/util.js';
import { app, api, errMsg, may, sessionExpired, who } from '../shared.js';
import { arr, obj } from '../ui.js';

/** state: idle | loading | ok | error. */
export const ST = { state: 'idle', error: null, staff: [], teams: [], seq: 0 };
export const ROLES = ['agent', 'team_lead', 'supervisor', 'admin'];
export const LANGS = ['zh', 'en'];
/** The capacity bounds of the API (docs/api.md). */
export const CAP_MAX = { chat: 50, voice: 5, ticket: 100 };

var listeners = [];
/** `fn` runs whenever the accounts or teams change (loaded, created, changed). */
export function onStaffChanged(fn) { listeners.push(fn); }
export function staffChanged() { listeners.forEach(function (fn) { fn(); }); }

/** GET /v1/staff and GET /v1/teams, together. */
export function staffLoad() {
  var seq = ++ST.seq, session = app.session;
  if (ST.state !== 'ok') ST.state = 'loading';
  staffChanged();
  return Promise.all([api('GET', '/v1/staff'), api('GET', '/v1/teams')]).then(function (rs) {
    if (seq !== ST.seq || session !== app.session) return;
    var s = rs[0], tm = rs[1];
    if (s.ok && s.data && tm.ok && tm.data) {
      ST.staff = arr(s.data.staff); ST.teams = arr(tm.data.teams); ST.state = 'ok'; ST.error = null;
    } else {
      ST.state = 'error'; ST.error = errMsg(s.ok ? tm : s);
    }
    staffChanged();
  }).catch(function () {
    if (seq !== ST.seq) return;
    ST.state = 'error'; ST.error = t('common.network');
    staffChanged();
  });
}
export function resetStore() { ST.seq++; ST.state = 'idle'; ST.error = null; ST.staff = []; ST.teams = []; }

export function account(id) { return ST.staff.find(function (s) { return s.id === id; }) || null; }
export function team(id) { return ST.teams.find(function (x) { return x.id === id; }) || null; }
export function teamName(id) { var x = team(id); return x ? x.name : String(id); }
/** A person's name for a staff id: an account we see, else the usual fallbacks. */
export function personName(id) { var a = account(id); return a ? a.display_name : who(id); }
/** An account as the API answered it after a change replaces the one we had. */
export function putAccount(view) {
  var i = ST.staff.findIndex(function (s) { return s.id === view.id; });
  if (i === -1) ST.staff.push(view); else ST.staff[i] = view;
  staffChanged();
}
/** Every skill name some account has, sorted. */
export function skillNames() {
  var names = {};
  ST.staff.forEach(function (s) { arr(s.skills).forEach(function (k) { names[k.name] = true; }); });
  return Object.keys(names).sort();
}
export function isSelf(a) { return !!(app.session && a && a.id === app.session.agent_id); }

/**
 * What the signed-in person may change of `a`: 'all' (admins), 'routing' (skills, languages,
 * capacity: supervisors, and team leads for the agents of their teams), or null.
 */
export function editScope(a) {
  if (!a || !a.active) return null;
  if (may('staff')) return 'all';
  var role = app.session && app.session.role;
  if (role === 'supervisor') return 'routing';
  if (role === 'team_lead' && a.role === 'agent') return 'routing';
  return null;
}

/** POST of a raw body (the CSV import): resolves {status, ok, data}; a 401 signs out. */
export function rawPost(url, body, type) {
  var headers = { Accept: 'application/json', 'Content-Type': type };
  if (app.session) headers.Authorization = 'Bearer ' + app.session.token;
  return fetch(url, { method: 'POST', headers: headers, body: body, cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
    if (res.status === 401 && app.session) { sessionExpired(); return new Promise(function () { /* signed out */ }); }
    return res.text().then(function (txt) {
      var d = null;
      try { d = txt ? JSON.parse(txt) : null; } catch (e) { d = { raw: txt }; }
      return { status: res.status, ok: res.ok, data: d };
    });
  });
}

/** An element whose text is the string `key` (kept in the UI language by i18n.apply). */
export function tx(tag, key, attrs) {
  var a = Object.assign({}, attrs || {});
  a['data-i18n'] = key;
  a.text = t(key);
  return el(tag, a);
}

/** The problems of a 422 answer, as a list. */
export function problemsOf(r) { return arr(obj(r && r.data).problems); }
