/*
 * Switchboard — the sign-in card shared by the agent desk and the supervisor console.
 *
 *   import { mountLogin } from '../common/login.js';
 *   var login = mountLogin({
 *     view: $('login-view'),          // <main class="login">; the card is built inside it, and what
 *                                     // the page put there (its demo accounts) ends the card
 *     app: $('desk-view'),            // what the card gives way to once signed in
 *     storageKey: 'switchboard.desk_session',
 *     roles: ['supervisor', 'admin'], // optional: the roles let in (else any role; 'agent'
 *     wrongRole: 'login.err.…',       //   is assumed when the server names none) and the message
 *                                     //   for another role
 *     onSignIn: function (session) {} // after POST /v1/auth/login; session is
 *   });                               // {token, role, agent_id, username}, already stored
 *
 *   login.saved()        the session kept in sessionStorage, or null
 *   login.store(s)       keep the session (null forgets it)
 *   login.show(message)  hide the app, show the card (with `message` as its error), focus a field
 *   login.hide()         hide the card, show the app
 *
 * The page registers its own login.sub, login.title and login.lead (and its demo texts); the
 * form, error and footer strings are in ./i18n/. Element ids and data-testid values are the ones
 * the browser tests use: login-view, login-form, login-username, login-password, login-error,
 * login-submit, lang-switch-login.
 */
import { i18n, t } from './i18n.js';
import { el, request, errorCode, errorMessage } from './util.js';

/** An element whose text is the translation of `key` (kept up to date by i18n.apply). */
function text(tag, cls, key) {
  return el(tag, { class: cls, 'data-i18n': key, text: t(key) });
}

function field(id, key, attrs) {
  var input = el('input', Object.assign({ class: 'input', id: id, 'data-testid': id, required: true }, attrs));
  return { input: input, node: el('div', { class: 'field' }, [el('label', { for: id, 'data-i18n': key, text: t(key) }), input]) };
}

export function mountLogin(opts) {
  var view = opts.view;
  var extra = Array.prototype.slice.call(view.children);   // the page's own part of the card

  /* ---------------------------------------------------------------- markup */
  var user = field('login-username', 'login.username',
    { name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  var pass = field('login-password', 'login.password',
    { name: 'password', type: 'password', autocomplete: 'current-password' });
  var error = el('p', { class: 'login-error', id: 'login-error', 'data-testid': 'login-error', role: 'alert', hidden: true });
  var submitLabel = el('span');
  var submit = el('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'login-submit', 'data-testid': 'login-submit' }, [submitLabel]);
  var form = el('form', { class: 'login-form', id: 'login-form', 'data-testid': 'login-form', novalidate: true },
    [user.node, pass.node, error, submit]);

  view.textContent = '';
  view.appendChild(el('div', { class: 'login-top' }, [
    el('button', { type: 'button', class: 'lang-switch', 'data-lang-switch': true, 'data-testid': 'lang-switch-login' })
  ]));
  view.appendChild(el('div', { class: 'login-card' }, [
    el('div', { class: 'login-brand' }, [
      el('img', { src: '/ui/common/logo.svg', alt: '', width: '48', height: '48' }),
      el('div', null, [el('p', { class: 'login-product', text: 'Switchboard' }), text('p', 'login-product-sub', 'login.sub')])
    ]),
    text('h1', 'login-title', 'login.title'),
    text('p', 'login-lead', 'login.lead'),
    form
  ].concat(extra)));
  view.appendChild(text('p', 'login-foot', 'login.foot'));

  /* ----------------------------------------------------------------- state */
  function setBusy(busy) {
    submit.disabled = busy;
    if (busy) submit.setAttribute('aria-busy', 'true'); else submit.removeAttribute('aria-busy');
    submitLabel.textContent = t(busy ? 'login.signingIn' : 'login.submit');
  }
  setBusy(false);

  function showError(msg) { error.textContent = msg; error.hidden = false; }

  function saved() {
    try { var s = JSON.parse(sessionStorage.getItem(opts.storageKey) || 'null'); return s && s.token ? s : null; }
    catch (e) { return null; }
  }
  function store(s) {
    try { if (s) sessionStorage.setItem(opts.storageKey, JSON.stringify(s)); else sessionStorage.removeItem(opts.storageKey); } catch (e) { /* ignore */ }
  }

  /* ---------------------------------------------------------------- submit */
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    error.hidden = true;
    var username = user.input.value.trim(), password = pass.input.value;
    if (!username || !password) { showError(t('login.err.missing')); (username ? pass.input : user.input).focus(); return; }
    setBusy(true);
    request('POST', '/v1/auth/login', { body: { username: username, password: password } }).then(function (r) {
      if (r.ok && r.data && r.data.token) {
        var allowed = opts.roles || (opts.role ? [opts.role] : null);
        if (allowed && r.data.role && allowed.indexOf(r.data.role) < 0) { showError(t(opts.wrongRole)); return; }
        var s = { token: r.data.token, role: r.data.role || (allowed && allowed[0]) || 'agent', agent_id: r.data.agent_id || null, username: username };
        store(s);
        pass.input.value = '';
        opts.onSignIn(s);
        return;
      }
      var code = errorCode(r);
      if (r.status === 401 || code === 'invalid_credentials') showError(t('login.err.invalid'));
      else if (r.status === 429) showError(r.retryAfter ? t('login.err.rate', { s: r.retryAfter }) : t('login.err.rateNoTime'));
      else showError(t('login.err.other', { msg: errorMessage(r) }));
      pass.input.select();
      pass.input.focus();
    }).catch(function () {
      showError(t('login.err.network'));
    }).then(function () { setBusy(false); });
  });

  // Demo account buttons fill in the user name.
  view.querySelectorAll('[data-fill-user]').forEach(function (b) {
    b.addEventListener('click', function () {
      user.input.value = b.getAttribute('data-fill-user');
      error.hidden = true;
      pass.input.focus();
    });
  });

  i18n.onChange(function () {
    setBusy(submit.disabled);
    error.hidden = true;
  });

  return {
    saved: saved,
    store: store,
    show: function (message) {
      opts.app.hidden = true;
      view.hidden = false;
      if (message) showError(message); else error.hidden = true;
      setTimeout(function () { (user.input.value ? pass.input : user.input).focus(); }, 0);
    },
    hide: function () {
      view.hidden = true;
      opts.app.hidden = false;
    }
  };
}
