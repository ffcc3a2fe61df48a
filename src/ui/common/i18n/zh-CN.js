// Chinese strings of the shared parts: dates and toasts (util.js), the login card (login.js)
// and the top bar (topbar.js).
export default {
  'common.today': '今天',
  'common.yesterday': '昨天',
  'common.close': '关闭',

  'login.username': '用户名',
  'login.password': '密码',
  'login.submit': '登录',
  'login.signingIn': '正在登录…',
  'login.demoSupervisor': '主管：',
  'login.demoPassword': '密码：',
  'login.foot': 'Switchboard · 开源全渠道联络中心',
  'login.err.invalid': '用户名或密码错误。',
  'login.err.missing': '请输入用户名和密码。',
  'login.err.rate': '尝试次数过多，请 {s} 秒后再试。',
  'login.err.rateNoTime': '尝试次数过多，请稍后再试。',
  'login.err.network': '无法连接服务器，请检查网络后重试。',
  'login.err.other': '登录失败：{msg}',
  'login.err.expired': '会话已失效，请重新登录。',

  'topbar.logout': '退出登录'
};
