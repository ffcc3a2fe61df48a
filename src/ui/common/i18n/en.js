// English strings of the shared parts: dates and toasts (util.js), the login card (login.js)
// and the top bar (topbar.js).
export default {
  'common.today': 'Today',
  'common.yesterday': 'Yesterday',
  'common.close': 'Close',

  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.signingIn': 'Signing in…',
  'login.demoSupervisor': 'Supervisor:',
  'login.demoPassword': 'Password:',
  'login.foot': 'Switchboard · open-source omnichannel contact center',
  'login.err.invalid': 'Incorrect username or password.',
  'login.err.missing': 'Please enter your username and password.',
  'login.err.rate': 'Too many attempts. Please wait {s} s and try again.',
  'login.err.rateNoTime': 'Too many attempts. Please wait a moment and try again.',
  'login.err.network': "Can't reach the server. Check your connection and try again.",
  'login.err.other': 'Sign-in failed: {msg}',
  'login.err.expired': 'Your session has ended. Please sign in again.',

  'topbar.logout': 'Log out'
};
