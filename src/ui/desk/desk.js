/*
 * Switchboard — agent desk.
 *
 * Login (/ui/common/login.js: POST /v1/auth/login, token in sessionStorage) → WebSocket
 * /v1/ws/agent. The server greets with "hello" (restores open
 * conversations), then pushes offers, assignments, messages and wrap-ups.
 */
(function () {
  'use strict';

  var SB = window.Switchboard;
  var i18n = SB.i18n, t = i18n.t, U = SB.util, el = U.el;

  var SESSION_KEY = 'switchboard.desk_session';
  var PENDING_TIMEOUT_MS = 12000;
  var TYPING_SEND_EVERY_MS = 2500;

  i18n.register({
    en: {
      'desk.docTitle': 'Switchboard Desk',
      'login.sub': 'Agent Desk',
      'login.title': 'Sign in to your desk',
      'login.lead': 'Pick up conversations from every channel in one place.',
      'login.demoTitle': 'Demo accounts',
      'login.demoAgents': 'Agents:',

      'desk.inbox': 'Inbox',
      'desk.myStatus': 'My status',
      'desk.incoming': 'Incoming',
      'desk.conversations': 'Conversations',
      'desk.noConversations': 'No active conversations',
      'desk.recentlyClosed': 'Recently closed',
      'desk.mySkills': 'My skills',
      'desk.conversation': 'Conversation',
      'desk.transcript': 'Transcript',
      'desk.customer': 'Customer',
      'desk.contextEmpty': 'Customer details appear here when you open a conversation.',
      'desk.emptyTitle': 'No conversation selected',
      'desk.emptyOffline': 'You are offline. Set yourself Available to start receiving conversations.',
      'desk.emptyAway': "You're away — new conversations won't be offered until you're Available again.",
      'desk.emptyAvailable': "You're available. New conversations will appear on the left as offers.",
      'desk.emptyPick': 'Pick a conversation on the left to see its transcript.',
      'desk.logout': 'Log out',
      'desk.resolution': 'Resolution',
      'desk.wrapUp': 'Wrap up',
      'desk.wrappingUp': 'Wrapping up…',
      'desk.replyLabel': 'Reply to customer',
      'desk.replyPlaceholder': 'Write a reply…',
      'desk.replyClosed': 'This conversation is closed.',
      'desk.replyHint': 'Enter to send · Shift+Enter for a new line',
      'desk.send': 'Send',
      'desk.sending': 'Sending…',
      'desk.notSent': 'Not sent',
      'desk.retry': 'Retry',
      'desk.active': 'Active',
      'desk.closedAs': 'Closed · {res}',
      'desk.closedBanner': 'Conversation wrapped up as “{res}”.',
      'desk.noMessages': 'No messages yet',
      'desk.you': 'You',
      'desk.bot': 'Bot',
      'desk.system': 'System',
      'desk.role.agent': 'Agent',
      'desk.role.supervisor': 'Supervisor',

      'status.available': 'Available',
      'status.away': 'Away',
      'status.offline': 'Offline',
      'status.hint.available': 'Receiving new conversations.',
      'status.hint.away': 'Paused — no new offers while away.',
      'status.hint.offline': 'You’re offline. Choose Available to start receiving conversations.',

      'conn.connecting': 'Connecting…',
      'conn.online': 'Connected',
      'conn.offline': 'Reconnecting…',
      'conn.replaced': 'Desk opened in another window',
      'conn.reclaim': 'Use here',

      'offer.accept': 'Accept',
      'offer.reject': 'Reject',
      'offer.accepting': 'Accepting…',
      'offer.priority': 'P{n}',
      'offer.priorityTitle': 'Priority {n} (higher is more urgent)',
      'offer.expiresIn': 'Expires in {s}',
      'offer.noSummary': 'No summary available.',
      'offer.new': 'New conversation',

      'res.resolved': 'Resolved',
      'res.unresolved': 'Unresolved',
      'res.transferred': 'Transferred',

      'ctx.id': 'Customer ID',
      'ctx.channel': 'Channel',
      'ctx.intent': 'Intent',
      'ctx.skills': 'Skills',
      'ctx.priority': 'Priority',
      'ctx.tags': 'Tags',
      'ctx.summary': 'Bot summary',
      'ctx.noTags': 'No tags',
      'ctx.none': '—',

      'tier.standard': 'Standard',
      'tier.silver': 'Silver',
      'tier.gold': 'Gold',
      'tier.platinum': 'Platinum',
      'tier.vip': 'VIP',

      'toast.notConnected': 'Not connected to the server yet — please wait a moment.',
      'toast.assigned': 'Conversation with {name} assigned to you.',
      'toast.revoked': 'The offer for {name} was withdrawn.',
      'toast.expired': 'The offer for {name} expired.',
      'toast.error': '{msg}',
      'err.rate_limited': 'Slow down a little — too many messages in a short time.',
      'err.not_found': 'That conversation or task no longer exists.',
      'err.offer_expired': 'That offer has expired.',
      'err.forbidden': "You're not allowed to do that.",
      'err.conflict': 'Someone else already took that conversation.',
      'err.not_owner': 'This conversation is not assigned to you.',
      'err.conversation_closed': 'This conversation is already closed.',
      'err.not_ready': 'The server is not ready yet — please try again.',

      'channel.web': 'Web',
      'channel.app': 'App',
      'channel.wechat': 'WeChat',
      'channel.sms': 'SMS',
      'channel.ivr': 'Phone',
      'channel.via': 'Sent via {channel}',
      'channel.switch': 'Customer continued on {to} (from {from})',
      'channel.switchTitle': 'The customer switched from {from} to {to}',

      'ctx.identities': 'Linked identities',
      'ctx.identitiesLoading': 'Loading identities…',
      'ctx.identitiesFailed': "Couldn't load identities.",
      'ctx.identitiesNone': 'No linked identities yet.',
      'ctx.identityTitle': '{channel} · {id} · linked {when}',
      'ctx.reload': 'Try again',
      'ctx.lastMerge': 'Linked {name}.',

      'link.open': 'Link another customer',
      'link.title': 'Link another customer',
      'link.lead': 'Bring another record of the same person into {name}: their identities and history move here. You can undo it.',
      'link.channel': 'Channel',
      'link.externalId': 'ID on that channel',
      'link.placeholder.web': 'Visitor ID',
      'link.placeholder.app': 'App user ID',
      'link.placeholder.wechat': 'WeChat OpenID, e.g. oAbc123…',
      'link.placeholder.sms': 'Phone number, e.g. +8613800138000',
      'link.placeholder.ivr': 'Caller number, e.g. +8613800138000',
      'link.find': 'Find',
      'link.finding': 'Searching…',
      'link.found': 'Customer found',
      'link.notFound': 'No customer has that {channel} ID.',
      'link.sameCustomer': 'That ID already belongs to this customer.',
      'link.openConv': 'Has an open conversation',
      'link.confirm': 'Link to {name}',
      'link.confirmShort': 'Link',
      'link.linking': 'Linking…',
      'link.cancel': 'Cancel',
      'link.close': 'Close',
      'link.done': 'Done',
      'link.success': '{from} is now part of {into}.',
      'link.moved': 'Moved {what}.',
      'link.and': ' and ',
      'link.n.identity': '{n} identity', 'link.n.identities': '{n} identities',
      'link.n.conversation': '{n} conversation', 'link.n.conversations': '{n} conversations',
      'link.n.message': '{n} message', 'link.n.messages': '{n} messages',
      'link.undo': 'Undo',
      'link.undoing': 'Undoing…',
      'link.undone': 'Link undone — {from} is a separate customer again.',
      'link.err.missing': 'Enter the ID to look up.',
      'link.err.conflict': "Can't link: {msg}",
      'link.err.generic': 'That did not work: {msg}',
      'link.err.network': "Can't reach the server. Try again.",

      'desk.giveBack': 'Give back to bot',
      'desk.givingBack': 'Giving back…',
      'giveback.title': 'Give back to the bot?',
      'giveback.lead': "The bot takes over the conversation with {name} again. It stays open for the customer, but leaves your desk.",
      'giveback.cancel': 'Cancel',
      'giveback.confirm': 'Give back',
      'toast.givenBack': 'The conversation with {name} went back to the bot.',

      'hf.title': 'Hand-off from the bot',
      'hf.reason.requested': 'Asked for an agent',
      'hf.reason.not_understood': 'Bot did not understand',
      'hf.reason.complaint': 'Complaint',
      'hf.reason.vip': 'VIP customer',
      'hf.reason.flow': 'Flow hand-off',
      'hf.reasonTitle': 'Why the bot handed over',
      'hf.intent': 'Intent',
      'hf.confidence': 'confidence {p}',
      'hf.flow': 'Flow',
      'hf.slots': 'Collected by the bot',
      'hf.showTranscript': 'Show bot conversation',
      'hf.hideTranscript': 'Hide bot conversation',
      'hf.customer': 'Customer',
      'hf.more': '+{n} more',
      'slot.order_no': 'Order no.',
      'slot.address': 'Address',
      'slot.phone': 'Phone',
      'slot.reason': 'Reason',
      'slot.confirm': 'Confirmation',
      'hf.yes': 'yes',
      'hf.no': 'no',
      'slot.email': 'Email',
      'slot.name': 'Name',

      'assist.title': 'Suggestions',
      'assist.kb': 'Knowledge base',
      'assist.conversation': 'Similar conversations',
      'assist.insert': 'Insert',
      'assist.inserted': 'Inserted',
      'assist.insertTitle': 'Put this text into the reply box',
      'assist.for': 'For “{text}”',
      'assist.score': 'Match {p}',
      'assist.empty': 'When the customer writes, answers from the knowledge base and from similar past conversations show up here.',
      'assist.closed': 'No suggestions for a closed conversation.',
      'assist.using': 'From suggestion: {title}',
      'conv.unread': '{n} unread',
      'assist.drop': 'Forget the suggestion'
    },
    'zh-CN': {
      'desk.docTitle': 'Switchboard 客服工作台',
      'login.sub': '客服工作台',
      'login.title': '登录工作台',
      'login.lead': '在一个地方处理来自所有渠道的对话。',
      'login.demoTitle': '演示账号',
      'login.demoAgents': '客服：',

      'desk.inbox': '收件箱',
      'desk.myStatus': '我的状态',
      'desk.incoming': '待接入',
      'desk.conversations': '对话',
      'desk.noConversations': '暂无进行中的对话',
      'desk.recentlyClosed': '最近结束',
      'desk.mySkills': '我的技能',
      'desk.conversation': '对话',
      'desk.transcript': '聊天记录',
      'desk.customer': '客户',
      'desk.contextEmpty': '打开对话后，这里会显示客户信息。',
      'desk.emptyTitle': '未选择对话',
      'desk.emptyOffline': '您当前离线。切换为“在线”即可开始接收对话。',
      'desk.emptyAway': '您当前处于“离开”状态，切换回“在线”后才会收到新对话。',
      'desk.emptyAvailable': '您已在线，新对话会以待接入卡片的形式出现在左侧。',
      'desk.emptyPick': '从左侧选择一个对话查看聊天记录。',
      'desk.logout': '退出登录',
      'desk.resolution': '处理结果',
      'desk.wrapUp': '结束对话',
      'desk.wrappingUp': '正在结束…',
      'desk.replyLabel': '回复客户',
      'desk.replyPlaceholder': '输入回复…',
      'desk.replyClosed': '该对话已结束。',
      'desk.replyHint': 'Enter 发送 · Shift+Enter 换行',
      'desk.send': '发送',
      'desk.sending': '发送中…',
      'desk.notSent': '未发送',
      'desk.retry': '重试',
      'desk.active': '进行中',
      'desk.closedAs': '已结束 · {res}',
      'desk.closedBanner': '对话已结束，处理结果：“{res}”。',
      'desk.noMessages': '暂无消息',
      'desk.you': '我',
      'desk.bot': '机器人',
      'desk.system': '系统',
      'desk.role.agent': '客服',
      'desk.role.supervisor': '主管',

      'status.available': '在线',
      'status.away': '离开',
      'status.offline': '离线',
      'status.hint.available': '正在接收新对话。',
      'status.hint.away': '已暂停 —— 离开期间不会分配新对话。',
      'status.hint.offline': '您当前离线。选择“在线”开始接收对话。',

      'conn.connecting': '连接中…',
      'conn.online': '已连接',
      'conn.offline': '正在重连…',
      'conn.replaced': '工作台已在其他窗口打开',
      'conn.reclaim': '在此使用',

      'offer.accept': '接受',
      'offer.reject': '拒绝',
      'offer.accepting': '正在接入…',
      'offer.priority': 'P{n}',
      'offer.priorityTitle': '优先级 {n}（数值越高越紧急）',
      'offer.expiresIn': '{s} 后过期',
      'offer.noSummary': '暂无摘要。',
      'offer.new': '新对话',

      'res.resolved': '已解决',
      'res.unresolved': '未解决',
      'res.transferred': '已转接',

      'ctx.id': '客户 ID',
      'ctx.channel': '渠道',
      'ctx.intent': '意图',
      'ctx.skills': '所需技能',
      'ctx.priority': '优先级',
      'ctx.tags': '标签',
      'ctx.summary': '机器人摘要',
      'ctx.noTags': '无标签',
      'ctx.none': '—',

      'tier.standard': '普通',
      'tier.silver': '白银',
      'tier.gold': '黄金',
      'tier.platinum': '铂金',
      'tier.vip': 'VIP',

      'toast.notConnected': '尚未连接到服务器，请稍候。',
      'toast.assigned': '与 {name} 的对话已分配给您。',
      'toast.revoked': '{name} 的对话邀请已撤回。',
      'toast.expired': '{name} 的对话邀请已过期。',
      'toast.error': '{msg}',
      'err.rate_limited': '操作过于频繁，请稍后再试。',
      'err.not_found': '该对话或任务已不存在。',
      'err.offer_expired': '该邀请已过期。',
      'err.forbidden': '您没有执行此操作的权限。',
      'err.conflict': '该对话已被其他客服接入。',
      'err.not_owner': '该对话未分配给您。',
      'err.conversation_closed': '该对话已经结束。',
      'err.not_ready': '服务器尚未就绪，请稍后重试。',

      'channel.web': '网页',
      'channel.app': 'App',
      'channel.wechat': '微信',
      'channel.sms': '短信',
      'channel.ivr': '电话',
      'channel.via': '来自{channel}',
      'channel.switch': '客户从{from}转到{to}继续',
      'channel.switchTitle': '客户从{from}切换到了{to}',

      'ctx.identities': '已关联身份',
      'ctx.identitiesLoading': '正在加载身份…',
      'ctx.identitiesFailed': '身份加载失败。',
      'ctx.identitiesNone': '暂无关联身份。',
      'ctx.identityTitle': '{channel} · {id} · 关联于 {when}',
      'ctx.reload': '重试',
      'ctx.lastMerge': '已关联 {name}。',

      'link.open': '关联客户',
      'link.title': '关联客户',
      'link.lead': '把同一个人的另一条客户记录并入 {name}：其身份和历史记录会移到这里，之后可以撤销。',
      'link.channel': '渠道',
      'link.externalId': '该渠道上的 ID',
      'link.placeholder.web': '访客 ID',
      'link.placeholder.app': 'App 用户 ID',
      'link.placeholder.wechat': '微信 OpenID，例如 oAbc123…',
      'link.placeholder.sms': '手机号，例如 +8613800138000',
      'link.placeholder.ivr': '来电号码，例如 +8613800138000',
      'link.find': '查找',
      'link.finding': '查找中…',
      'link.found': '找到客户',
      'link.notFound': '没有客户使用这个{channel} ID。',
      'link.sameCustomer': '这个 ID 已属于当前客户。',
      'link.openConv': '有进行中的对话',
      'link.confirm': '关联到 {name}',
      'link.confirmShort': '关联',
      'link.linking': '正在关联…',
      'link.cancel': '取消',
      'link.close': '关闭',
      'link.done': '完成',
      'link.success': '{from} 已并入 {into}。',
      'link.moved': '已移动{what}。',
      'link.and': '、',
      'link.n.identity': ' {n} 个身份', 'link.n.identities': ' {n} 个身份',
      'link.n.conversation': ' {n} 个对话', 'link.n.conversations': ' {n} 个对话',
      'link.n.message': ' {n} 条消息', 'link.n.messages': ' {n} 条消息',
      'link.undo': '撤销',
      'link.undoing': '正在撤销…',
      'link.undone': '已撤销关联，{from} 恢复为独立客户。',
      'link.err.missing': '请输入要查找的 ID。',
      'link.err.conflict': '无法关联：{msg}',
      'link.err.generic': '操作失败：{msg}',
      'link.err.network': '无法连接服务器，请重试。',

      'desk.giveBack': '转回机器人',
      'desk.givingBack': '正在转回…',
      'giveback.title': '转回机器人？',
      'giveback.lead': '与 {name} 的对话将交还给机器人继续处理。对话不会结束，但会离开您的工作台。',
      'giveback.cancel': '取消',
      'giveback.confirm': '转回机器人',
      'toast.givenBack': '与 {name} 的对话已转回机器人。',

      'hf.title': '机器人转接信息',
      'hf.reason.requested': '客户要求转人工',
      'hf.reason.not_understood': '机器人未能理解',
      'hf.reason.complaint': '投诉',
      'hf.reason.vip': 'VIP 客户',
      'hf.reason.flow': '流程转人工',
      'hf.reasonTitle': '机器人转人工的原因',
      'hf.intent': '意图',
      'hf.confidence': '置信度 {p}',
      'hf.flow': '流程',
      'hf.slots': '机器人已收集',
      'hf.showTranscript': '查看机器人对话',
      'hf.hideTranscript': '收起机器人对话',
      'hf.customer': '客户',
      'hf.more': '另有 {n} 项',
      'slot.order_no': '订单号',
      'slot.address': '地址',
      'slot.phone': '手机号',
      'slot.reason': '原因',
      'slot.confirm': '确认',
      'hf.yes': '是',
      'hf.no': '否',
      'slot.email': '邮箱',
      'slot.name': '姓名',

      'assist.title': '智能建议',
      'assist.kb': '知识库',
      'assist.conversation': '相似会话',
      'assist.insert': '插入',
      'assist.inserted': '已插入',
      'assist.insertTitle': '把这段文字放进回复框',
      'assist.for': '针对“{text}”',
      'assist.score': '匹配度 {p}',
      'assist.empty': '客户发来消息后，这里会显示知识库答案和相似的历史会话。',
      'assist.closed': '对话已结束，不再提供建议。',
      'assist.using': '来自建议：{title}',
      'conv.unread': '{n} 条未读',
      'assist.drop': '不再关联此建议'
    }
  });

  /* ------------------------------------------------------------- elements */
  var $ = function (id) { return document.getElementById(id); };
  var deskView = $('desk-view');
  var connEl = $('conn'), connText = $('conn-text'), reclaimBtn = $('reclaim');
  var statusToggle = $('status-toggle'), statusHint = $('status-hint');
  var offersBox = $('offers'), offerList = $('offer-list'), offersCount = $('offers-count');
  var convList = $('conv-list'), convEmpty = $('conv-empty'), convsCount = $('convs-count');
  var closedBox = $('closed-box'), closedList = $('closed-list'), closedCount = $('closed-count');
  var centerEmpty = $('center-empty'), centerEmptyText = $('center-empty-text');
  var convView = $('conversation'), transcript = $('transcript'), tscroll = $('transcript-scroll');
  var replyForm = $('reply-form'), replyInput = $('reply-input'), replySend = $('reply-send');
  var wrapForm = $('wrapup-form'), wrapSelect = $('wrapup-select'), wrapBtn = $('wrapup-button');
  var closedBanner = $('closed-banner');
  var giveBtn = $('giveback-button'), handoffEl = $('handoff'), assistEl = $('assist'), assistBody = $('assist-body');
  var replyHint = $('reply-hint'), replySugg = $('reply-sugg');
  var BOT_SVG = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="5" y="8" width="14" height="11" rx="3"/><path d="M12 4v4M9 13h.01M15 13h.01"/></svg>';

  /* ---------------------------------------------------------------- state */
  var session = null;           // {token, role, agent_id, username}
  var me = { id: null, name: '', status: 'offline', skills: [] };
  var requestedStatus = null;
  var offers = new Map();       // task_id -> offer
  var offerInfo = new Map();    // task_id -> offer payload (kept for context card)
  var convs = new Map();        // conversation_id -> conversation
  var selectedId = null;
  var assists = new Map();      // conversation_id -> latest assist event {message_id, suggestions}
  var pendingSugg = null;       // {conversation_id, id, title}: the suggestion inserted into the reply box
  var ws = null, connected = false, manualClose = false, replaced = false, attempts = 0, failsWithoutHello = 0, reconnectTimer = null;
  var lastTypingSent = 0;

  /* -------------------------------------------------------------- helpers */
  var toast = U.toast;

  function tierLabel(tier) {
    if (!tier) return t('ctx.none');
    var key = 'tier.' + String(tier).toLowerCase();
    var s = t(key);
    return s === key ? String(tier) : s;
  }
  function resLabel(r) { var k = 'res.' + r; var s = t(k); return s === k ? String(r || '') : s; }
  function customerName(c) { return (c && (c.name || c.id)) || t('offer.new'); }
  function avatarNode(name, cls) {
    return el('span', { class: 'avatar' + (cls ? ' ' + cls : ''), 'aria-hidden': 'true', style: { background: U.avatarColor(name) }, text: U.initials(name) });
  }
  function send(obj) {
    if (!ws || ws.readyState !== WebSocket.OPEN) { toast(t('toast.notConnected'), 'error'); return false; }
    ws.send(JSON.stringify(obj));
    return true;
  }
  function updateTitle() {
    var n = offers.size;
    convs.forEach(function (c) { if (!c.closed) n += c.unread; });
    document.title = (n > 0 ? '(' + n + ') ' : '') + t('desk.docTitle');
  }

  /* ------------------------------------------------------------- channels */
  var CHANNELS = ['web', 'app', 'wechat', 'sms', 'ivr'];
  var CHANNEL_ICONS = {
    web: '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9M12 3C9.5 5.6 8.2 8.6 8.2 12s1.3 6.4 3.8 9"/>',
    app: '<rect x="6.5" y="2.5" width="11" height="19" rx="2.5"/><path d="M10.5 18h3"/>',
    wechat: '<path d="M10 4.5c-4 0-7 2.6-7 5.8 0 1.8 1 3.4 2.6 4.5L5 17.2l2.9-1.5c.7.2 1.4.3 2.1.3"/><path d="M15.6 9.6c3 0 5.4 2 5.4 4.5 0 1.4-.7 2.6-1.9 3.4l.4 2.1-2.3-1.2c-.5.1-1 .2-1.6.2-3 0-5.4-2-5.4-4.5s2.4-4.5 5.4-4.5z"/>',
    sms: '<path d="M5 4.5h14a1.5 1.5 0 0 1 1.5 1.5v9a1.5 1.5 0 0 1-1.5 1.5H10l-5 4v-4.1A1.5 1.5 0 0 1 3.5 15V6A1.5 1.5 0 0 1 5 4.5z"/><path d="M8 9h8M8 12h5"/>',
    ivr: '<path d="M6.6 3.5h2.6l1.6 4.2-2 1.3a10.5 10.5 0 0 0 6.2 6.2l1.3-2 4.2 1.6v2.6a2 2 0 0 1-2.2 2A15.5 15.5 0 0 1 4.6 5.7a2 2 0 0 1 2-2.2z"/>'
  };
  function knownChannel(ch) { return CHANNELS.indexOf(ch) !== -1 ? ch : null; }
  function channelLabel(ch) {
    if (!ch) return t('ctx.none');
    var k = 'channel.' + ch, s = t(k);
    return s === k ? String(ch) : s;
  }
  /** Chinese typography: a thin space between CJK and Latin/digits ("从微信转到 App 继续"). */
  function cjkSpace(s) {
    return String(s).replace(/([\u3400-\u9fff])([A-Za-z0-9])/g, '$1 $2').replace(/([A-Za-z0-9])([\u3400-\u9fff])/g, '$1 $2');
  }
  function channelIcon(ch) {
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
  function channelBadge(ch, opts) {
    opts = opts || {};
    var label = channelLabel(ch);
    var title = t('channel.via', { channel: label });
    return el('span', {
      class: 'chan chan-' + (knownChannel(ch) || 'other') + (opts.cls ? ' ' + opts.cls : ''),
      'data-testid': opts.testid || 'channel-badge', 'data-channel': ch || '',
      role: 'img', title: opts.title || title, 'aria-label': opts.title || title
    }, [channelIcon(ch), el('span', { class: 'chan-label', 'aria-hidden': 'true', text: label })]);
  }
  function setChannel(node, ch, testid) {
    node.textContent = '';
    node.appendChild(ch ? channelBadge(ch, { testid: testid, title: channelLabel(ch) }) : document.createTextNode(t('ctx.none')));
  }

  /** Masks an external id for display: phones keep their last 4 digits, others a short prefix. */
  function maskId(channel, id) {
    id = String(id || '');
    var digits = id.replace(/\D/g, '');
    var phoneish = /^\+?[\d\s().-]{7,}$/.test(id);
    if (channel === 'sms' || channel === 'ivr' || phoneish) {
      return digits.length > 4 ? '•••• ' + digits.slice(-4) : id;
    }
    if (channel === 'wechat') return id.length > 6 ? id.slice(0, 6) + '…' : id;
    return id.length > 12 ? id.slice(0, 10) + '…' : id;
  }

  /* ================================================================ login */
  // The card itself is /ui/common/login.js; any role may sign in here.
  var login = SB.login.mount({
    view: $('login-view'),
    app: deskView,
    storageKey: SESSION_KEY,
    onSignIn: function (s) { session = s; enterDesk(); }
  });

  function showLogin(message) {
    document.title = t('desk.docTitle');
    login.show(message);
  }

  function resetDeskState() {
    offers.forEach(function (o) { clearInterval(o.timer); clearTimeout(o.expireTimer); });
    offers.clear(); offerInfo.clear(); convs.clear(); custInfo.clear(); assists.clear(); lastMerge = null;
    pendingSugg = null;
    if (gbDlg && gbDlg.open) gbDlg.close();
    if (linkDlg && linkDlg.open) linkDlg.close();
    selectedId = null; requestedStatus = null;
    // the next agent in this browser must not find this one's draft
    replyInput.value = ''; U.autosize(replyInput);
    me = { id: null, name: '', status: 'offline', skills: [] };
    offerList.textContent = ''; convList.textContent = ''; closedList.textContent = '';
  }

  function enterDesk() {
    login.hide();
    resetDeskState();
    me.name = session.username || '';
    renderMe(); renderStatus(); renderOffers(); renderConvList(); renderSelection();
    manualClose = false; replaced = false; attempts = 0; failsWithoutHello = 0;
    connect();
  }

  function logout(message) {
    manualClose = true;
    clearTimeout(reconnectTimer);
    if (ws) {
      try { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'status', status: 'offline' })); } catch (e) { /* ignore */ }
      try { ws.close(1000, 'logout'); } catch (e) { /* ignore */ }
    }
    ws = null; connected = false;
    session = null;
    login.store(null);
    resetDeskState();
    showLogin(message);
  }
  $('logout').addEventListener('click', function () { logout(); });

  /* ============================================================ WebSocket */
  function setConn(state) {
    connEl.setAttribute('data-state', state === 'replaced' ? 'offline' : state);
    connText.textContent = t('conn.' + state);
    reclaimBtn.hidden = state !== 'replaced';
  }
  reclaimBtn.addEventListener('click', function () {
    replaced = false; attempts = 0; failsWithoutHello = 0;
    if (ws) { try { ws.close(); } catch (e) { /* ignore */ } ws = null; }
    connect();
  });

  function connect() {
    clearTimeout(reconnectTimer);
    if (!session) return;
    setConn(attempts > 0 ? 'offline' : 'connecting');
    var sock;
    try { sock = new WebSocket(U.wsUrl('/v1/ws/agent', session.token)); }
    catch (e) { scheduleReconnect(); return; }
    ws = sock;
    var gotHello = false;
    sock.onopen = function () { if (ws === sock) { connected = true; } };
    sock.onmessage = function (ev) {
      if (ws !== sock) return;
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === 'hello') { gotHello = true; failsWithoutHello = 0; attempts = 0; setConn('online'); }
      handle(msg);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null; connected = false;
      if (manualClose) return;
      if (replaced) { setConn('replaced'); return; } // another window owns the desk now
      if (!gotHello) failsWithoutHello++;
      // A token the server no longer accepts fails the upgrade every time.
      if (failsWithoutHello >= 4) { logout(t('login.err.expired')); return; }
      scheduleReconnect();
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  function scheduleReconnect() {
    setConn('offline');
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, U.backoff(attempts++));
  }

  function handle(msg) {
    switch (msg.type) {
      case 'hello': onHello(msg); break;
      case 'status': onStatus(msg.status); break;
      case 'offer': onOffer(msg); break;
      case 'offer_revoked': onOfferGone(msg.task_id, 'revoked'); break;
      case 'assigned': onAssigned(msg); break;
      case 'message': onMessage(msg); break;
      case 'wrapped_up': onWrappedUp(msg); break;
      case 'assist': onAssist(msg); break;
      case 'given_back': onGivenBack(msg); break;
      case 'error': onError(msg); break;
      default: break;
    }
  }

  /* ---------------------------------------------------------------- hello */
  function onHello(msg) {
    me.id = msg.agent_id || me.id;
    me.name = msg.name || me.name;
    me.skills = Array.isArray(msg.skills) ? msg.skills : [];
    onStatus(msg.status || 'offline');
    // Offers don't survive a reconnect; the server re-offers if still relevant.
    Array.from(offers.keys()).forEach(function (id) { removeOffer(id); });
    var seen = new Set();
    (msg.conversations || []).forEach(function (c) {
      seen.add(c.conversation_id);
      var existing = convs.get(c.conversation_id);
      var conv = existing || newConv(c.conversation_id);
      conv.task_id = c.task_id || conv.task_id;
      conv.customer = c.customer || conv.customer;
      conv.context = c.context || conv.context;
      conv.closed = false;
      mergeHistory(conv, c.history || []);
      convs.set(conv.id, conv);
    });
    // Conversations we had open that the server no longer lists were closed meanwhile.
    convs.forEach(function (c) { if (!seen.has(c.id) && !c.closed) { c.closed = true; c.resolution = c.resolution || null; } });
    if (!selectedId || !convs.has(selectedId)) {
      var firstActive = Array.from(convs.values()).find(function (c) { return !c.closed; });
      setSelected(firstActive ? firstActive.id : null);
    }
    renderMe(); renderSkills(); renderConvList(); renderSelection();
  }

  function renderMe() {
    var name = me.name || (session && session.username) || '—';
    $('me-name').textContent = name;
    var av = $('me-avatar');
    av.textContent = U.initials(name);
    av.style.background = U.avatarColor(name);
    $('me-role').textContent = t('desk.role.' + ((session && session.role) === 'supervisor' ? 'supervisor' : 'agent'));
  }

  function renderSkills() {
    var box = $('skills-box'), chips = $('skill-chips');
    chips.textContent = '';
    box.hidden = !me.skills.length;
    me.skills.forEach(function (s) {
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

  /* --------------------------------------------------------------- status */
  function onStatus(status) {
    if (status !== 'available' && status !== 'away' && status !== 'offline') return;
    me.status = status;
    requestedStatus = null;
    renderStatus();
    renderSelection();
  }

  function renderStatus() {
    deskView.setAttribute('data-agent-status', me.status);
    statusToggle.querySelectorAll('.status-opt').forEach(function (b) {
      var s = b.getAttribute('data-status');
      b.setAttribute('aria-checked', String(s === me.status));
      b.classList.toggle('is-busy', s === requestedStatus);
      b.tabIndex = s === me.status ? 0 : -1;
    });
    statusHint.textContent = t('status.hint.' + me.status);
  }

  function requestStatus(s) {
    if (s === me.status && !requestedStatus) return;
    if (send({ type: 'status', status: s })) { requestedStatus = s; renderStatus(); }
  }
  statusToggle.addEventListener('click', function (ev) {
    var b = ev.target.closest('.status-opt');
    if (b) requestStatus(b.getAttribute('data-status'));
  });
  statusToggle.addEventListener('keydown', function (ev) {
    var order = ['available', 'away', 'offline'];
    var i = order.indexOf(requestedStatus || me.status);
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') i = (i + 1) % 3;
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') i = (i + 2) % 3;
    else return;
    ev.preventDefault();
    requestStatus(order[i]);
    statusToggle.querySelector('[data-status="' + order[i] + '"]').focus();
  });

  /* --------------------------------------------------------------- offers */
  function onOffer(msg) {
    if (!msg.task_id) return;
    if (offers.has(msg.task_id)) removeOffer(msg.task_id);
    var total = Math.max(0, Number(msg.expires_in_ms) || 30000);
    var offer = {
      task_id: msg.task_id, conversation_id: msg.conversation_id, data: msg,
      total: total, deadline: Date.now() + total, accepting: false
    };
    offers.set(msg.task_id, offer);
    offerInfo.set(msg.task_id, msg);
    offer.expireTimer = setTimeout(function () { onOfferGone(msg.task_id, 'expired'); }, total + 1500);
    renderOffers();
  }

  function onOfferGone(taskId, why) {
    var o = offers.get(taskId);
    if (!o) return;
    if (why === 'revoked' && !o.accepting) toast(t('toast.revoked', { name: customerName(o.data.customer) }));
    if (why === 'expired') toast(t('toast.expired', { name: customerName(o.data.customer) }));
    removeOffer(taskId);
    renderOffers();
  }

  function removeOffer(taskId) {
    var o = offers.get(taskId);
    if (!o) return;
    clearInterval(o.timer); clearTimeout(o.expireTimer);
    if (o.node) o.node.remove();
    offers.delete(taskId);
  }

  function fmtSecs(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    return Math.floor(s / 60) + ':' + ('0' + (s % 60)).slice(-2);
  }

  function buildOffer(o) {
    var d = o.data, c = d.customer || {};
    var name = customerName(c);
    var prio = Number(d.priority);
    var badges = el('div', { class: 'offer-meta' });
    if (c.tier) badges.appendChild(el('span', { class: 'badge tier-' + String(c.tier).toLowerCase(), text: tierLabel(c.tier) }));
    if (!isNaN(prio) && d.priority != null && prio !== 0) {
      // Standard 0, urgent +50, VIP +100 (higher = more urgent).
      var pcls = prio >= 100 ? ' prio-high' : prio >= 50 ? ' badge-warn' : '';
      badges.appendChild(el('span', { class: 'badge prio' + pcls, title: t('offer.priorityTitle', { n: prio }), text: t('offer.priority', { n: prio }) }));
    }
    if (d.intent && !d.context) badges.appendChild(el('span', { class: 'badge badge-accent', text: d.intent }));
    (d.skills || []).forEach(function (s) { badges.appendChild(el('span', { class: 'badge', text: s })); });

    var timeEl = el('span', { class: 'offer-time', 'data-testid': 'offer-countdown', 'aria-label': t('offer.expiresIn', { s: fmtSecs(o.deadline - Date.now()) }) , text: fmtSecs(o.deadline - Date.now()) });
    var bar = el('span');
    var accept = el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'offer-accept', text: o.accepting ? t('offer.accepting') : t('offer.accept') });
    var reject = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'offer-reject', text: t('offer.reject') });
    accept.disabled = reject.disabled = o.accepting;
    accept.addEventListener('click', function () {
      if (o.accepting) return;
      if (!send({ type: 'accept', task_id: o.task_id })) return;
      o.accepting = true;
      accept.textContent = t('offer.accepting');
      accept.disabled = reject.disabled = true;
    });
    reject.addEventListener('click', function () {
      if (!send({ type: 'reject', task_id: o.task_id })) return;
      removeOffer(o.task_id);
      renderOffers();
    });

    var node = el('li', { class: 'offer', 'data-testid': 'offer-card', 'data-task-id': o.task_id, 'data-conversation-id': o.conversation_id || '', 'aria-label': name }, [
      el('div', { class: 'offer-top' }, [
        avatarNode(name),
        el('div', { class: 'offer-who' }, [el('div', { class: 'offer-name', text: name }), badges]),
        timeEl
      ]),
      d.context ? offerContext(d.context) : null,
      el('p', { class: 'offer-summary' + (d.context ? ' is-short' : ''), text: (d.context && (!d.summary || d.summary === d.context.summary) ? summaryText(d.context, d.summary) : d.summary) || t('offer.noSummary') }),
      el('div', { class: 'offer-actions' }, [accept, reject]),
      el('div', { class: 'offer-bar', 'aria-hidden': 'true' }, [bar])
    ]);
    o.node = node;

    // Countdown bar: one linear CSS transition to zero; text updates 4×/s.
    var left = Math.max(0, o.deadline - Date.now());
    bar.style.transform = 'scaleX(' + (o.total ? left / o.total : 0) + ')';
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        bar.style.transition = 'transform ' + left + 'ms linear';
        bar.style.transform = 'scaleX(0)';
      });
    });
    clearInterval(o.timer);
    var tick = function () {
      var ms = o.deadline - Date.now();
      timeEl.textContent = fmtSecs(ms);
      var urgent = ms < Math.min(10000, o.total * 0.25);
      timeEl.classList.toggle('is-urgent', urgent);
      bar.classList.toggle('is-urgent', urgent);
      if (ms <= 0) clearInterval(o.timer);
    };
    tick();
    o.timer = setInterval(tick, 250);
    return node;
  }

  function renderOffers() {
    var sorted = Array.from(offers.values()).sort(function (a, b) {
      return (Number(b.data.priority) || 0) - (Number(a.data.priority) || 0) || a.deadline - b.deadline;
    });
    sorted.forEach(function (o) { if (!o.node) buildOffer(o); offerList.appendChild(o.node); });
    offersBox.hidden = offers.size === 0;
    offersCount.textContent = String(offers.size);
    updateTitle();
  }

  /* -------------------------------------------------------- conversations */
  function newConv(id) {
    return { id: id, task_id: null, customer: null, context: null, messages: [], byId: new Set(), unread: 0, closed: false, resolution: null, wrapping: false, givingBack: false, ctxOpen: false };
  }

  function normalize(m) {
    return {
      id: m.id || null, conversation_id: m.conversation_id, from: m.from || 'system', channel: m.channel || null,
      text: m.text == null ? '' : String(m.text), sent_at: m.sent_at || new Date().toISOString(), pending: false
    };
  }

  function mergeHistory(conv, history) {
    history.forEach(function (raw) {
      var m = normalize(raw);
      if (m.id && conv.byId.has(m.id)) return;
      if (m.id) conv.byId.add(m.id);
      conv.messages.push(m);
    });
  }

  function onAssigned(msg) {
    var id = msg.conversation_id;
    if (msg.task_id) removeOffer(msg.task_id);
    renderOffers();
    var conv = convs.get(id) || newConv(id);
    conv.task_id = msg.task_id || conv.task_id;
    conv.customer = msg.customer || conv.customer;
    conv.context = msg.context || conv.context || (msg.task_id && offerInfo.get(msg.task_id) && offerInfo.get(msg.task_id).context) || null;
    conv.closed = false; conv.resolution = null; conv.wrapping = false; conv.givingBack = false;
    mergeHistory(conv, msg.history || []);
    convs.set(id, conv);
    // A half-written reply keeps its conversation: the new one waits in the list, unread.
    var current = selectedId && convs.get(selectedId);
    if (current && current.id !== id && !current.closed && replyInput.value.trim()) {
      conv.unread = (conv.unread || 0) + 1;
      renderConvList(); renderSelection();
      return;
    }
    setSelected(id);
    conv.unread = 0;
    renderConvList(); renderSelection();
    replyInput.focus();
  }

  function findPending(conv, text) {
    for (var i = 0; i < conv.messages.length; i++) {
      var m = conv.messages[i];
      if (m.pending && m.text === text) return m;
    }
    for (var j = 0; j < conv.messages.length; j++) { if (conv.messages[j].pending) return conv.messages[j]; }
    return null;
  }

  function onMessage(raw) {
    var conv = convs.get(raw.conversation_id);
    if (!conv) return; // not one of ours (e.g. already closed and pruned)
    var m = normalize(raw);
    if (m.id && conv.byId.has(m.id)) return;
    if (m.from === 'agent') {
      var p = findPending(conv, m.text);
      if (p) {
        clearTimeout(p.timer);
        p.pending = false; p.failed = false; p.id = m.id; p.sent_at = m.sent_at; p.channel = m.channel;
        if (m.id) conv.byId.add(m.id);
        if (selectedId === conv.id) refreshNode(p);
        renderConvList();
        return;
      }
    }
    if (m.id) conv.byId.add(m.id);
    conv.messages.push(m);
    var visible = selectedId === conv.id && !document.hidden;
    if (!visible && m.from === 'customer') conv.unread++;
    if (selectedId === conv.id) {
      appendNode(conv, m);
      if (m.from === 'customer' && m.channel) {
        setChannel($('conv-channel'), channelOf(conv), 'conversation-channel');
        setChannel($('cust-channel'), channelOf(conv), 'customer-channel-badge');
      }
    }
    noteChannel(conv, m);
    renderConvList();
  }

  function onWrappedUp(msg) {
    var conv = convs.get(msg.conversation_id);
    if (!conv) return;
    conv.closed = true; conv.wrapping = false; conv.unread = 0;
    conv.resolution = msg.resolution || conv.resolution;
    renderConvList();
    if (selectedId === conv.id) renderSelection();
  }

  function onError(msg) {
    if (msg.code === 'replaced') {
      // Opened in another window: stop here instead of fighting over the session.
      replaced = true;
      setConn('replaced');
      return;
    }
    var key = 'err.' + msg.code;
    var text = t(key);
    if (text === key) text = msg.message || msg.code || 'Error';
    toast(text, 'error');
    // A reply the server refused: fail the oldest pending one so it can be retried.
    var oldest = null, owner = null;
    convs.forEach(function (c) {
      c.messages.forEach(function (m) {
        if (m.pending && (!oldest || m.sent_at < oldest.sent_at)) { oldest = m; owner = c; }
      });
    });
    if (oldest && msg.code !== 'offer_expired' && msg.code !== 'replaced') {
      clearTimeout(oldest.timer);
      oldest.pending = false; oldest.failed = true;
      if (selectedId === owner.id) refreshNode(oldest);
    }
    // An accept that failed: drop the stale card.
    offers.forEach(function (o) { if (o.accepting && (!msg.task_id || msg.task_id === o.task_id)) removeOffer(o.task_id); });
    renderOffers();
    convs.forEach(function (c) {
      if (c.wrapping || c.givingBack) { c.wrapping = false; c.givingBack = false; if (selectedId === c.id) renderHeaderState(c); }
    });
  }

  function lastMessage(conv) {
    for (var i = conv.messages.length - 1; i >= 0; i--) if (conv.messages[i].from !== 'system') return conv.messages[i];
    return conv.messages[conv.messages.length - 1] || null;
  }
  function channelOf(conv) {
    for (var i = conv.messages.length - 1; i >= 0; i--) {
      if (conv.messages[i].from === 'customer' && conv.messages[i].channel) return conv.messages[i].channel;
    }
    var any = conv.messages.find(function (m) { return m.channel; });
    return any ? any.channel : 'web';
  }

  function buildConvItem(conv) {
    var name = customerName(conv.customer);
    var last = lastMessage(conv);
    var preview = last ? (last.from === 'agent' ? t('desk.you') + ': ' : '') + last.text : t('desk.noMessages');
    var row2 = el('div', { class: 'conv-row' }, [el('span', { class: 'conv-preview', text: preview })]);
    if (conv.unread > 0 && !conv.closed) row2.appendChild(el('span', { class: 'unread', 'data-testid': 'unread-count', 'aria-label': t('conv.unread', { n: conv.unread }), text: String(conv.unread) }));
    var btn = el('button', {
      type: 'button', class: 'conv-item' + (conv.unread && !conv.closed ? ' has-unread' : ''),
      'data-testid': 'conversation-item', 'data-conversation-id': conv.id,
      'aria-current': selectedId === conv.id ? 'true' : 'false',
      onclick: function () { select(conv.id); }
    }, [
      avatarNode(name),
      el('div', { class: 'conv-main' }, [
        el('div', { class: 'conv-row' }, [
          el('span', { class: 'conv-name', text: name }),
          el('span', { class: 'conv-time', text: last ? U.formatTime(last.sent_at) : '' })
        ]),
        row2
      ])
    ]);
    return el('li', {}, [btn]);
  }

  function renderConvList() {
    var active = [], closed = [];
    convs.forEach(function (c) { (c.closed ? closed : active).push(c); });
    var byRecent = function (a, b) {
      var la = lastMessage(a), lb = lastMessage(b);
      return (lb ? U.toDate(lb.sent_at).getTime() : 0) - (la ? U.toDate(la.sent_at).getTime() : 0);
    };
    active.sort(byRecent); closed.sort(byRecent);
    convList.textContent = '';
    active.forEach(function (c) { convList.appendChild(buildConvItem(c)); });
    closedList.textContent = '';
    closed.forEach(function (c) { closedList.appendChild(buildConvItem(c)); });
    convEmpty.hidden = active.length > 0;
    convsCount.textContent = String(active.length);
    closedBox.hidden = closed.length === 0;
    closedCount.textContent = String(closed.length);
    updateTitle();
  }

  /**
   * Changes the selected conversation. The reply box is per conversation: what was typed (and
   * the suggestion it came from) stays with its conversation and comes back with it, so a
   * draft never goes to another customer.
   */
  function setSelected(id) {
    if (id === selectedId) return;
    var prev = selectedId && convs.get(selectedId);
    if (prev) {
      prev.draft = replyInput.value;
      prev.sugg = pendingSugg && pendingSugg.conversation_id === prev.id ? pendingSugg : null;
    }
    selectedId = id;
    var next = id && convs.get(id);
    replyInput.value = (next && next.draft) || '';
    pendingSugg = (next && next.sugg) || null;
    U.autosize(replyInput);
    updateReplyState();
    renderReplySugg();
  }

  function select(id) {
    setSelected(id);
    var conv = convs.get(id);
    if (conv) conv.unread = 0;
    renderConvList(); renderSelection();
    if (conv && !conv.closed) replyInput.focus();
  }

  /* ----------------------------------------------------------- transcript */
  function msgNode(m) {
    var time = el('time', { datetime: U.toDate(m.sent_at).toISOString(), text: U.formatTime(m.sent_at) });
    var node;
    if (m.from === 'system') {
      node = el('li', { class: 't-msg t-system', 'data-testid': 'transcript-message', 'data-from': 'system' }, [
        el('span', { class: 't-note' }, [el('span', { text: m.text }), time])
      ]);
    } else {
      var conv = convs.get(selectedId);
      var cname = customerName(conv && conv.customer);
      var who, av;
      if (m.from === 'customer') { who = cname; av = avatarNode(cname); }
      else if (m.from === 'bot') { who = t('desk.bot'); av = el('span', { class: 'avatar', 'aria-hidden': 'true' }); av.innerHTML = BOT_SVG; }
      else { who = t('desk.you'); av = avatarNode(me.name || 'Me'); }
      var meta = el('div', { class: 't-meta' }, [time]);
      if (m.channel && m.from === 'customer') meta.appendChild(channelBadge(m.channel));
      if (m.pending) meta.appendChild(el('span', { text: '· ' + t('desk.sending') }));
      if (m.failed) {
        meta.appendChild(el('span', { text: '· ' + t('desk.notSent') }));
        meta.appendChild(el('button', { type: 'button', class: 'btn-link', text: t('desk.retry'), onclick: function () { retry(m); } }));
      }
      node = el('li', { class: 't-msg t-' + (m.from === 'customer' || m.from === 'bot' || m.from === 'agent' ? m.from : 'customer') + (m.pending ? ' is-pending' : ''), 'data-testid': 'transcript-message', 'data-from': m.from }, [
        av,
        el('div', { class: 't-col' }, [
          el('span', { class: 't-author', text: who }),
          el('div', { class: 't-bubble', 'data-testid': 'transcript-text', text: m.text }),
          meta
        ])
      ]);
    }
    if (m.id) node.setAttribute('data-id', m.id);
    node.setAttribute('data-state', m.pending ? 'pending' : m.failed ? 'failed' : 'sent');
    m.node = node;
    return node;
  }

  /** Where the customer changed channel: customer message index -> the channel they left. */
  function channelSwitches(msgs) {
    var out = {}, last = null;
    msgs.forEach(function (m, i) {
      if (m.from !== 'customer' || !m.channel) return;
      if (last && last !== m.channel) out[i] = last;
      last = m.channel;
    });
    return out;
  }

  function switchNode(from, to) {
    var fromL = channelLabel(from), toL = channelLabel(to);
    var text = t('channel.switch', { from: fromL, to: toL });
    if (i18n.lang === 'zh-CN') text = cjkSpace(text);
    return el('li', {
      class: 't-switch', 'data-testid': 'channel-switch', 'data-from-channel': from, 'data-to-channel': to,
      title: t('channel.switchTitle', { from: fromL, to: toL })
    }, [el('span', { class: 't-switch-pill chan-' + (knownChannel(to) || 'other') }, [channelIcon(to), el('span', { text: text })])]);
  }

  function regroup(conv) {
    transcript.querySelectorAll('.t-day, .t-switch').forEach(function (n) { n.remove(); });
    var prev = null, msgs = conv.messages;
    var switches = channelSwitches(msgs);
    var side = function (m) { return m.from === 'customer' ? 'l' : (m.from === 'system' ? 's' : 'r' + m.from); };
    msgs.forEach(function (m, i) {
      if (!m.node) return;
      if (!prev || U.dayKey(prev.sent_at) !== U.dayKey(m.sent_at)) {
        transcript.insertBefore(el('li', { class: 't-day', 'aria-hidden': 'true', text: U.formatDay(m.sent_at) }), m.node);
        prev = null;
      }
      if (switches[i]) {
        transcript.insertBefore(switchNode(switches[i], m.channel), m.node);
        prev = null;
      }
      var next = msgs[i + 1];
      var same = function (a, b) {
        return a && b && side(a) === side(b) && a.from !== 'system' && U.dayKey(a.sent_at) === U.dayKey(b.sent_at) &&
          !(b === next && switches[i + 1]);
      };
      m.node.classList.toggle('group-start', !same(prev, m));
      m.node.classList.toggle('group-end', !same(m, next));
      var author = m.node.querySelector('.t-author');
      if (author) author.hidden = same(prev, m);
      prev = m;
    });
  }

  function nearBottom() { return tscroll.scrollHeight - tscroll.scrollTop - tscroll.clientHeight < 140; }
  function toBottom(force) { if (force || nearBottom()) requestAnimationFrame(function () { tscroll.scrollTop = tscroll.scrollHeight; }); }

  function appendNode(conv, m) {
    var stick = nearBottom() || m.from === 'agent';
    transcript.appendChild(msgNode(m));
    regroup(conv);
    toBottom(stick);
  }
  function refreshNode(m) {
    var conv = convs.get(selectedId);
    if (!m.node || !conv) return;
    var old = m.node;
    old.replaceWith(msgNode(m));
    regroup(conv);
  }

  function renderHeaderState(conv) {
    var state = $('conv-state');
    state.textContent = conv.closed ? t('desk.closedAs', { res: resLabel(conv.resolution || 'resolved') }) : t('desk.active');
    state.className = 'conv-state badge ' + (conv.closed ? '' : 'badge-ok');
    wrapForm.hidden = conv.closed;
    wrapBtn.disabled = conv.wrapping || conv.givingBack;
    giveBtn.hidden = conv.closed;
    giveBtn.disabled = conv.wrapping || conv.givingBack;
    giveBtn.lastElementChild.textContent = conv.givingBack ? t('desk.givingBack') : t('desk.giveBack');
    wrapBtn.lastElementChild.textContent = conv.wrapping ? t('desk.wrappingUp') : t('desk.wrapUp');
  }

  function renderSelection() {
    var conv = selectedId && convs.get(selectedId);
    if (!conv) {
      convView.hidden = true;
      centerEmpty.hidden = false;
      var anyActive = Array.from(convs.values()).some(function (c) { return !c.closed; });
      centerEmptyText.textContent = anyActive ? t('desk.emptyPick') :
        me.status === 'available' ? t('desk.emptyAvailable') : me.status === 'away' ? t('desk.emptyAway') : t('desk.emptyOffline');
      renderContext(null);
      renderHandoff(null); renderAssist(null); renderReplySugg();
      return;
    }
    centerEmpty.hidden = true;
    convView.hidden = false;
    var name = customerName(conv.customer);
    $('conv-name').textContent = name;
    var av = $('conv-avatar');
    av.textContent = U.initials(name); av.style.background = U.avatarColor(name);
    setChannel($('conv-channel'), channelOf(conv), 'conversation-channel');
    renderHeaderState(conv);
    if (conv.closed) {
      closedBanner.hidden = false;
      closedBanner.classList.toggle('is-unresolved', conv.resolution === 'unresolved');
      closedBanner.textContent = t('desk.closedBanner', { res: resLabel(conv.resolution || 'resolved') });
    } else closedBanner.hidden = true;
    replyInput.disabled = conv.closed;
    replyForm.classList.toggle('is-disabled', conv.closed);
    replyInput.placeholder = conv.closed ? t('desk.replyClosed') : t('desk.replyPlaceholder');
    updateReplyState();

    transcript.textContent = '';
    conv.messages.forEach(function (m) { transcript.appendChild(msgNode(m)); });
    regroup(conv);
    renderHandoff(conv);
    toBottom(true);
    renderContext(conv);
    renderAssist(conv);
    renderReplySugg();
  }

  function renderContext(conv) {
    var card = $('customer-card');
    $('context-empty').hidden = !!conv;
    card.hidden = !conv;
    if (!conv) return;
    var c = conv.customer || {};
    var info = (conv.task_id && offerInfo.get(conv.task_id)) || null;
    if (!info) offerInfo.forEach(function (o) { if (o.conversation_id === conv.id) info = o; });
    var ctx = conv.context || (info && info.context) || null;
    var name = customerName(c);
    var av = $('cust-avatar');
    av.textContent = U.initials(name); av.style.background = U.avatarColor(name);
    $('cust-name').textContent = name;
    var tier = $('cust-tier');
    tier.textContent = tierLabel(c.tier);
    tier.className = 'badge' + (c.tier ? ' tier-' + String(c.tier).toLowerCase() : '');
    $('cust-id').textContent = c.id || t('ctx.none');
    setChannel($('cust-channel'), channelOf(conv), 'customer-channel-badge');
    $('cust-intent').textContent = (ctx && ctx.intent) || (info && info.intent) || t('ctx.none');
    $('cust-skills').textContent = info && info.skills && info.skills.length ? info.skills.join(', ') : t('ctx.none');
    $('cust-priority').textContent = info && info.priority != null ? String(info.priority) : t('ctx.none');
    var tags = $('cust-tags');
    tags.textContent = '';
    var list = (c.tags && c.tags.length ? c.tags : (ctx && ctx.tags)) || [];
    if (!list.length) tags.appendChild(el('span', { class: 'muted', text: t('ctx.noTags') }));
    list.forEach(function (tag) { tags.appendChild(el('span', { class: 'tag', text: tag })); });
    // The task's summary, in the desk's language when it is the bot's (a call's adds its last lines).
    var summary = info && info.summary;
    if (ctx && (!summary || summary === ctx.summary)) summary = summaryText(ctx, summary);
    $('cust-summary').textContent = summary || t('offer.noSummary');
    renderIdentities();
    loadCustomer(c.id);
  }

  /* ------------------------------------------------- hand-off context */
  var REASONS = ['requested', 'not_understood', 'complaint', 'vip', 'flow'];

  function pct(x) {
    var n = Number(x);
    return x == null || isNaN(n) ? null : Math.round(Math.max(0, Math.min(1, n)) * 100) + '%';
  }
  function reasonBadge(reason, testid) {
    var known = REASONS.indexOf(reason) !== -1;
    var k = 'hf.reason.' + reason;
    return el('span', {
      class: 'reason reason-' + (known ? reason : 'other'), 'data-testid': testid, 'data-reason': reason || '',
      title: t('hf.reasonTitle')
    }, [el('span', { class: 'reason-dot', 'aria-hidden': 'true' }), known ? t(k) : String(reason || '—')]);
  }
  function slotLabel(name) { var k = 'slot.' + name, s = t(k); return s === k ? String(name) : s; }
  /** Slots in a stable, useful order: the order the bot asked for them is not on the wire, so known keys first. */
  function slotEntries(ctx) {
    var slots = (ctx && ctx.slots) || {};
    var order = ['order_no', 'phone', 'address', 'reason', 'name', 'email'];
    return Object.keys(slots).sort(function (a, b) {
      var ia = order.indexOf(a), ib = order.indexOf(b);
      return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
    }).map(function (k) { return [k, String(slots[k])]; });
  }
  function slotChip(k, v, testid) {
    var shown = /^(yes|no)$/i.test(v) ? t('hf.' + v.toLowerCase()) : v;
    return el('li', { class: 'slot', 'data-testid': testid, 'data-slot': k, 'data-value': v, title: k + ' = ' + v }, [
      el('span', { class: 'slot-k', text: slotLabel(k) }),
      el('span', { class: 'slot-v', text: shown })
    ]);
  }
  function intentChip(ctx, testid) {
    if (!ctx.intent || ctx.intent === ctx.flow) return null; // the flow chip says it already
    var p = pct(ctx.confidence);
    return el('span', { class: 'hf-chip', 'data-testid': testid, title: t('hf.intent') + (p ? ' · ' + t('hf.confidence', { p: p }) : '') }, [
      el('span', { class: 'hf-chip-k', text: t('hf.intent') }),
      el('span', { class: 'hf-chip-v', text: ctx.intent }),
      p ? el('span', { class: 'hf-conf', 'data-testid': testid + '-confidence', text: p }) : null
    ]);
  }
  /** The bot's hand-off summary in the desk's language when the server sent one, else `fallback`. */
  function summaryText(ctx, fallback) {
    var all = (ctx && ctx.summaries) || {};
    return (i18n.lang === 'zh-CN' ? all.zh || all.en : all.en || all.zh) || (ctx && ctx.summary) || fallback || '';
  }
  /** The flow's title in the desk's language when the server sent one, else its id. */
  function flowName(ctx) {
    var titles = ctx.flow_title || {};
    return (i18n.lang === 'zh-CN' ? titles.zh || titles.en : titles.en || titles.zh) || ctx.flow;
  }

  function flowChip(ctx, testid) {
    if (!ctx.flow) return null;
    var p = ctx.intent === ctx.flow ? pct(ctx.confidence) : null;
    return el('span', { class: 'hf-chip hf-chip-flow', 'data-testid': testid, title: t('hf.flow') + ': ' + ctx.flow + (p ? ' · ' + t('hf.confidence', { p: p }) : '') }, [
      el('span', { class: 'hf-chip-k', text: t('hf.flow') }),
      el('code', { class: 'hf-chip-v', text: flowName(ctx) }),
      p ? el('span', { class: 'hf-conf', 'data-testid': testid + '-confidence', text: p }) : null
    ]);
  }

  /** The compact version on an offer card: reason, intent, flow and the first slots. */
  function offerContext(ctx) {
    var head = el('div', { class: 'offer-ctx-head' }, [reasonBadge(ctx.reason, 'offer-context-reason'), intentChip(ctx, 'offer-context-intent'), flowChip(ctx, 'offer-context-flow')]);
    var slots = slotEntries(ctx), shown = slots.slice(0, 2);
    var list = null;
    if (slots.length) {
      list = el('ul', { class: 'slots slots-sm', 'data-testid': 'offer-context-slots', 'aria-label': t('hf.slots') });
      shown.forEach(function (kv) { list.appendChild(slotChip(kv[0], kv[1], 'offer-context-slot')); });
      if (slots.length > shown.length) list.appendChild(el('li', { class: 'slot slot-more', text: t('hf.more', { n: slots.length - shown.length }) }));
    }
    return el('div', { class: 'offer-ctx', 'data-testid': 'offer-context' }, [head, list]);
  }

  function hfWho(line, conv) {
    if (line.from === 'customer') return customerName(conv && conv.customer) || t('hf.customer');
    if (line.from === 'bot') return t('desk.bot');
    if (line.from === 'agent') return t('desk.role.agent');
    return t('desk.system');
  }

  /** The card at the top of the conversation: what the bot knew when it handed over. */
  function renderHandoff(conv) {
    var ctx = conv && conv.context;
    handoffEl.textContent = '';
    handoffEl.hidden = !ctx;
    if (!ctx) return;
    var reason = REASONS.indexOf(ctx.reason) !== -1 ? ctx.reason : 'other';
    handoffEl.className = 'handoff handoff-' + reason;
    var tier = ctx.tier ? el('span', { class: 'badge tier-' + String(ctx.tier).toLowerCase(), 'data-testid': 'context-tier', text: tierLabel(ctx.tier) }) : null;
    var tags = (ctx.tags || []).map(function (tag) { return el('span', { class: 'tag tag-sm', 'data-testid': 'context-tag', text: tag }); });
    var head = el('div', { class: 'hf-head' }, [
      el('h3', { class: 'sr-only', id: 'handoff-title', text: t('hf.title') }),
      reasonBadge(ctx.reason, 'context-reason'),
      intentChip(ctx, 'context-intent'),
      flowChip(ctx, 'context-flow'),
      el('span', { class: 'hf-spacer' }),
      tier
    ].concat(tags));
    handoffEl.appendChild(head);

    var slots = slotEntries(ctx);
    if (slots.length) {
      var list = el('ul', { class: 'slots', 'data-testid': 'context-slots', 'aria-label': t('hf.slots') });
      slots.forEach(function (kv) { list.appendChild(slotChip(kv[0], kv[1], 'context-slot')); });
      handoffEl.appendChild(list);
    }
    var summary = summaryText(ctx);
    if (summary) handoffEl.appendChild(el('p', { class: 'hf-summary', 'data-testid': 'context-summary', title: summary, text: summary }));

    var lines = ctx.transcript || [];
    if (lines.length) {
      var ol = el('ol', { class: 'hf-lines' });
      lines.forEach(function (ln) {
        var from = ln.from === 'customer' || ln.from === 'bot' ? ln.from : 'system';
        ol.appendChild(el('li', { class: 'hf-line hf-from-' + from, 'data-testid': 'context-line', 'data-from': ln.from || '' }, [
          el('div', { class: 'hf-line-meta' }, [
            el('span', { class: 'hf-who', text: hfWho(ln, conv) }),
            ln.channel ? channelBadge(ln.channel, { testid: 'context-line-channel' }) : null,
            ln.sent_at ? el('time', { datetime: U.toDate(ln.sent_at).toISOString(), text: U.formatTime(ln.sent_at) }) : null
          ]),
          el('p', { class: 'hf-line-text', text: ln.text })
        ]));
      });
      var label = el('span', { class: 'hf-toggle-label', text: conv.ctxOpen ? t('hf.hideTranscript') : t('hf.showTranscript') });
      var det = el('details', { class: 'hf-transcript', 'data-testid': 'context-transcript', open: conv.ctxOpen ? true : null }, [
        el('summary', { 'data-testid': 'context-transcript-toggle' }, [label, el('span', { class: 'count-pill', text: String(lines.length) })]),
        ol
      ]);
      det.addEventListener('toggle', function () {
        conv.ctxOpen = det.open;
        label.textContent = det.open ? t('hf.hideTranscript') : t('hf.showTranscript');
        if (det.open) ol.scrollTop = ol.scrollHeight;
      });
      handoffEl.appendChild(det);
    }
  }

  /* ---------------------------------------------------------------- assist */
  function onAssist(msg) {
    if (!msg.conversation_id) return;
    assists.set(msg.conversation_id, { message_id: msg.message_id || null, suggestions: Array.isArray(msg.suggestions) ? msg.suggestions : [] });
    if (selectedId === msg.conversation_id) renderAssist(convs.get(selectedId));
  }

  function scoreClass(score) { return score >= 0.75 ? 'is-high' : score >= 0.5 ? 'is-mid' : 'is-low'; }

  function suggestionNode(conv, sg) {
    var p = pct(sg.score);
    var used = pendingSugg && pendingSugg.id === sg.id;
    var insert = el('button', {
      type: 'button', class: 'btn btn-xs ' + (used ? 'btn-ghost is-used' : 'btn-soft'), 'data-testid': 'assist-insert',
      title: t('assist.insertTitle'), disabled: conv.closed ? true : null,
      onclick: function () { insertSuggestion(conv, sg); }
    }, [used ? t('assist.inserted') : t('assist.insert')]);
    return el('li', { class: 'sugg sugg-' + (sg.kind === 'conversation' ? 'conversation' : 'kb') + (used ? ' is-used' : ''),
      'data-testid': 'assist-suggestion', 'data-kind': sg.kind || '', 'data-suggestion-id': sg.id || '', 'data-reference': sg.reference || '' }, [
      el('div', { class: 'sugg-head' }, [
        el('span', { class: 'sugg-title', 'data-testid': 'assist-title', title: sg.title || '', text: sg.kind === 'conversation' ? '“' + (sg.title || '') + '”' : (sg.title || '') }),
        p ? el('span', { class: 'sugg-score ' + scoreClass(Number(sg.score)), 'data-testid': 'assist-score', title: t('assist.score', { p: p }), text: p }) : null
      ]),
      el('p', { class: 'sugg-text', 'data-testid': 'assist-text', title: sg.text || '', text: sg.text || '' }),
      el('div', { class: 'sugg-foot' }, [insert])
    ]);
  }

  function renderAssist(conv) {
    assistEl.hidden = !conv;
    assistBody.textContent = '';
    if (!conv) return;
    var a = assists.get(conv.id);
    var list = (a && a.suggestions) || [];
    if (conv.closed) { assistBody.appendChild(el('p', { class: 'assist-empty', 'data-testid': 'assist-empty', text: t('assist.closed') })); return; }
    if (!list.length) {
      assistBody.appendChild(el('p', { class: 'assist-empty', 'data-testid': 'assist-empty', text: t('assist.empty') }));
      return;
    }
    var asked = a.message_id && conv.messages.find(function (m) { return m.id === a.message_id; });
    if (asked) assistBody.appendChild(el('p', { class: 'assist-for', 'data-testid': 'assist-for', title: asked.text, text: t('assist.for', { text: asked.text }) }));
    [['kb', 'assist.kb'], ['conversation', 'assist.conversation']].forEach(function (g) {
      var items = list.filter(function (sg) { return (sg.kind === 'conversation' ? 'conversation' : 'kb') === g[0]; });
      if (!items.length) return;
      var ul = el('ul', { class: 'sugg-list' });
      items.forEach(function (sg) { ul.appendChild(suggestionNode(conv, sg)); });
      assistBody.appendChild(el('div', { class: 'assist-group', 'data-testid': 'assist-group-' + g[0] }, [
        el('h3', { class: 'assist-group-title' }, [t(g[1]), el('span', { class: 'count-pill', text: String(items.length) })]),
        ul
      ]));
    });
  }

  function insertSuggestion(conv, sg) {
    if (!conv || conv.closed || selectedId !== conv.id) return;
    var cur = replyInput.value.replace(/\s+$/, '');
    replyInput.value = cur.trim() ? cur + '\n' + (sg.text || '') : (sg.text || '');
    pendingSugg = { conversation_id: conv.id, id: sg.id, title: sg.title || '' };
    U.autosize(replyInput);
    updateReplyState();
    replyInput.focus();
    replyInput.setSelectionRange(replyInput.value.length, replyInput.value.length);
    renderReplySugg();
    renderAssist(conv);
  }

  /** "From suggestion: …" under the reply box while an inserted suggestion goes with the next send. */
  function renderReplySugg() {
    var on = !!(pendingSugg && pendingSugg.conversation_id === selectedId);
    replySugg.hidden = !on;
    replyHint.hidden = on;
    replySugg.textContent = '';
    if (!on) return;
    replySugg.appendChild(el('span', { class: 'reply-sugg-text', title: pendingSugg.title, text: t('assist.using', { title: pendingSugg.title }) }));
    replySugg.appendChild(el('button', {
      type: 'button', class: 'reply-sugg-x', 'aria-label': t('assist.drop'), title: t('assist.drop'),
      onclick: function () { pendingSugg = null; renderReplySugg(); renderAssist(convs.get(selectedId)); replyInput.focus(); }
    }, ['×']));
  }

  /* ------------------------------------------------------------- give back */
  var gbDlg = $('giveback-dialog');

  function renderGiveBackDialog() {
    var conv = convs.get(gbDlg.dataset.conversationId || selectedId);
    $('giveback-lead').textContent = t('giveback.lead', { name: customerName(conv && conv.customer) });
  }

  function openGiveBack() {
    var conv = selectedId && convs.get(selectedId);
    if (!conv || conv.closed || conv.givingBack) return;
    gbDlg.dataset.conversationId = conv.id;
    renderGiveBackDialog();
    if (typeof gbDlg.showModal === 'function') gbDlg.showModal(); else gbDlg.setAttribute('open', '');
    $('giveback-cancel').focus();
  }
  function closeGiveBack() {
    if (gbDlg.open) { if (typeof gbDlg.close === 'function') gbDlg.close(); else gbDlg.removeAttribute('open'); }
  }

  giveBtn.addEventListener('click', openGiveBack);
  $('giveback-cancel').addEventListener('click', function () { closeGiveBack(); giveBtn.focus(); });
  gbDlg.addEventListener('click', function (ev) { if (ev.target === gbDlg) closeGiveBack(); });
  $('giveback-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var conv = convs.get(gbDlg.dataset.conversationId);
    closeGiveBack();
    if (!conv || conv.closed || conv.givingBack) return;
    if (!send({ type: 'give_back', conversation_id: conv.id })) return;
    conv.givingBack = true;
    if (selectedId === conv.id) renderHeaderState(conv);
  });

  /** The conversation went back to the bot: it leaves the desk entirely (it is still open for the customer). */
  function onGivenBack(msg) {
    var conv = convs.get(msg.conversation_id);
    assists.delete(msg.conversation_id);
    if (pendingSugg && pendingSugg.conversation_id === msg.conversation_id) pendingSugg = null;
    if (!conv) return;
    convs.delete(conv.id);
    if (gbDlg.open && gbDlg.dataset.conversationId === conv.id) closeGiveBack();
    toast(t('toast.givenBack', { name: customerName(conv.customer) }));
    if (selectedId === conv.id) {
      // its draft goes with it
      selectedId = null; pendingSugg = null;
      replyInput.value = ''; U.autosize(replyInput); updateReplyState();
      var next = Array.from(convs.values()).find(function (c) { return !c.closed; });
      setSelected(next ? next.id : null);
    }
    renderConvList(); renderSelection();
  }

  /* ------------------------------------------------- identities ("one ID") */
  var custInfo = new Map();     // customer_id -> {status: 'loading'|'ok'|'error', data, seq}
  var lastMerge = null;         // {merge_id, into, from, from_name, undone}
  var custSeq = 0;

  function contextCustomerId() {
    var conv = selectedId && convs.get(selectedId);
    return (conv && conv.customer && conv.customer.id) || null;
  }

  var api = U.apiClient(function () { return session && session.token; });
  var apiMessage = U.errorMessage;

  /** GET /v1/customers/{id}, cached; `force` reloads (after a merge, or a new channel). */
  function loadCustomer(id, force) {
    if (!id || !session) return;
    var have = custInfo.get(id);
    if (have && !force && have.status !== 'error') return;
    var seq = ++custSeq;
    custInfo.set(id, { status: have && have.data ? 'ok' : 'loading', data: have && have.data, seq: seq, refreshing: true });
    if (contextCustomerId() === id) renderIdentities();
    api('GET', '/v1/customers/' + encodeURIComponent(id)).then(function (r) {
      var cur = custInfo.get(id);
      if (!cur || cur.seq !== seq) return;
      custInfo.set(id, r.ok && r.data ? { status: 'ok', data: r.data, seq: seq } : { status: 'error', data: cur.data, seq: seq });
    }).catch(function () {
      var cur = custInfo.get(id);
      if (cur && cur.seq === seq) custInfo.set(id, { status: 'error', data: cur.data, seq: seq });
    }).then(function () {
      if (contextCustomerId() === id) renderIdentities();
    });
  }

  function identityChip(idn, opts) {
    opts = opts || {};
    var label = channelLabel(idn.channel);
    var masked = maskId(idn.channel, idn.external_id);
    var title = idn.linked_at
      ? t('ctx.identityTitle', { channel: label, id: masked, when: U.formatDay(idn.linked_at) + ' ' + U.formatTime(idn.linked_at) })
      : label + ' · ' + masked;
    return el('li', {
      class: 'id-chip chan-' + (knownChannel(idn.channel) || 'other') + (opts.fresh ? ' is-fresh' : ''),
      'data-testid': opts.testid || 'identity-chip', 'data-channel': idn.channel || '', title: title
    }, [
      channelIcon(idn.channel),
      el('span', { class: 'id-chip-label', text: label }),
      el('code', { class: 'id-chip-id', text: masked })
    ]);
  }

  function renderIdentities() {
    var box = $('cust-identities'), note = $('merge-note');
    if (!box) return;
    var id = contextCustomerId();
    var info = id && custInfo.get(id);
    box.textContent = '';
    box.setAttribute('aria-busy', info && (info.status === 'loading' || info.refreshing) ? 'true' : 'false');
    if (!id) {
      box.appendChild(el('li', { class: 'muted id-empty', text: t('ctx.identitiesNone') }));
    } else if (!info || (info.status === 'loading' && !info.data)) {
      box.appendChild(el('li', { class: 'id-chip is-skeleton', 'aria-hidden': 'true' }, [el('span', { text: '\u00a0' })]));
      box.appendChild(el('li', { class: 'id-chip is-skeleton is-short', 'aria-hidden': 'true' }, [el('span', { text: '\u00a0' })]));
      box.appendChild(el('li', { class: 'sr-only', text: t('ctx.identitiesLoading') }));
    } else if (info.status === 'error' && !info.data) {
      box.appendChild(el('li', { class: 'id-error' }, [
        el('span', { text: t('ctx.identitiesFailed') + ' ' }),
        el('button', { type: 'button', class: 'btn-link', text: t('ctx.reload'), onclick: function () { loadCustomer(id, true); } })
      ]));
    } else {
      var list = (info.data && info.data.identities) || [];
      if (!list.length) box.appendChild(el('li', { class: 'muted id-empty', text: t('ctx.identitiesNone') }));
      var fresh = lastMerge && !lastMerge.undone && lastMerge.into === id ? lastMerge.moved : [];
      list.forEach(function (idn) {
        var isFresh = fresh.some(function (f) { return f.channel === idn.channel && f.external_id === idn.external_id; });
        box.appendChild(identityChip(idn, { fresh: isFresh }));
      });
    }
    // The last link made here can be undone from the panel too.
    note.textContent = '';
    var show = lastMerge && !lastMerge.undone && lastMerge.into === id;
    note.hidden = !show;
    if (show) {
      note.appendChild(el('span', { class: 'merge-note-text', text: t('ctx.lastMerge', { name: lastMerge.from_name }) }));
      note.appendChild(el('button', {
        type: 'button', class: 'btn btn-ghost btn-xs', 'data-testid': 'merge-undo-inline',
        disabled: lastMerge.busy ? true : null,
        text: lastMerge.busy ? t('link.undoing') : t('link.undo'), onclick: function () { undoMerge(); }
      }));
    }
  }

  /** A customer message on a channel we have not seen for them: their identities changed. */
  function noteChannel(conv, m) {
    if (!conv.customer || !conv.customer.id || m.from !== 'customer' || !m.channel) return;
    var info = custInfo.get(conv.customer.id);
    if (!info || !info.data) return;
    var known = (info.data.identities || []).some(function (i) { return i.channel === m.channel; });
    if (!known) loadCustomer(conv.customer.id, true);
  }

  /* ------------------------------------------------------- link dialog */
  var linkDlg = $('link-dialog'), linkChannel = $('link-channel'), linkExternal = $('link-external-id');
  var linkFind = $('link-find'), linkResult = $('link-result'), linkError = $('link-error');
  var linkSuccess = $('link-success'), linkSearch = $('link-search'), linkConfirm = $('link-confirm'), linkCancel = $('link-cancel');
  // phase: search | finding | found | merging | merged | undoing | undone
  var lastLinkChannel = 'wechat';
  var link = { phase: 'search', into: null, intoName: '', candidate: null, query: null, error: null, merge: null };

  function linkReset() {
    var conv = selectedId && convs.get(selectedId);
    link = { phase: 'search', into: contextCustomerId(), intoName: customerName(conv && conv.customer), candidate: null, query: null, error: null, merge: null };
    linkExternal.value = '';
  }

  function openLinkDialog() {
    if (!contextCustomerId()) return;
    linkReset();
    // The channel the agent used last time (most links are WeChat followers).
    linkChannel.value = lastLinkChannel;
    renderLinkDialog();
    if (typeof linkDlg.showModal === 'function') linkDlg.showModal(); else linkDlg.setAttribute('open', '');
    linkExternal.focus();
  }

  function closeLinkDialog() {
    if (linkDlg.open) { if (typeof linkDlg.close === 'function') linkDlg.close(); else linkDlg.removeAttribute('open'); }
    $('link-open').focus();
  }

  function candidateCard(c) {
    var name = c.name || c.id;
    var rows = el('ul', { class: 'id-chips id-chips-sm', 'aria-label': t('ctx.identities') });
    (c.identities || []).forEach(function (idn) { rows.appendChild(identityChip(idn, { testid: 'link-candidate-identity' })); });
    var badges = el('div', { class: 'cand-badges' });
    if (c.tier) badges.appendChild(el('span', { class: 'badge tier-' + String(c.tier).toLowerCase(), text: tierLabel(c.tier) }));
    if (c.open_conversation_id) badges.appendChild(el('span', { class: 'badge badge-warn', text: t('link.openConv') }));
    return el('div', { class: 'cand' }, [
      el('p', { class: 'cand-kicker', text: t('link.found') }),
      el('div', { class: 'cand-head' }, [
        avatarNode(name),
        el('div', { class: 'cand-who' }, [
          el('p', { class: 'cand-name', 'data-testid': 'link-candidate-name', text: name }),
          el('code', { class: 'cand-id', text: c.id })
        ]),
        badges
      ]),
      rows
    ]);
  }

  function renderLinkDialog() {
    var p = link.phase;
    $('link-lead').textContent = t('link.lead', { name: link.intoName });
    linkExternal.placeholder = t('link.placeholder.' + linkChannel.value);
    var searching = p === 'search' || p === 'finding' || p === 'found';
    linkSearch.hidden = !searching;
    linkChannel.disabled = linkExternal.disabled = p === 'finding';
    linkFind.disabled = p === 'finding';
    linkFind.textContent = p === 'finding' ? t('link.finding') : t('link.find');

    linkResult.textContent = '';
    linkResult.hidden = !(link.candidate && (p === 'found' || p === 'merging'));
    if (!linkResult.hidden) linkResult.appendChild(candidateCard(link.candidate));

    linkError.hidden = !link.error;
    linkError.textContent = link.error || '';

    linkSuccess.textContent = '';
    linkSuccess.hidden = !(p === 'merged' || p === 'undoing' || p === 'undone');
    if (!linkSuccess.hidden) {
      var m = link.merge, fromName = (link.candidate && link.candidate.name) || m.from_customer_id;
      var undone = p === 'undone';
      var moved = m.moved || {};
      linkSuccess.className = 'link-success' + (undone ? ' is-undone' : '');
      var icon = el('span', { class: 'link-success-icon', 'aria-hidden': 'true' });
      icon.innerHTML = undone
        ? '<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"><path d="M4 10h11a5 5 0 0 1 0 10h-3"/><path d="M8 6 4 10l4 4"/></svg>'
        : '<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"><path d="M20 6 9 17l-5-5"/></svg>';
      linkSuccess.appendChild(icon);
      var body = el('div', { class: 'link-success-body' }, [
        el('p', { class: 'link-success-title', 'data-testid': 'link-success-text',
          text: undone ? t('link.undone', { from: fromName }) : t('link.success', { from: fromName, into: link.intoName }) })
      ]);
      if (!undone) {
        body.appendChild(el('p', { class: 'link-success-sub', text: movedText(moved) }));
        var chips = el('ul', { class: 'id-chips id-chips-sm' });
        (moved.identities || []).forEach(function (idn) { chips.appendChild(identityChip(idn, { testid: 'link-moved-identity', fresh: true })); });
        body.appendChild(chips);
      }
      linkSuccess.appendChild(body);
      if (!undone) {
        linkSuccess.appendChild(el('button', {
          type: 'button', class: 'btn btn-ghost btn-sm link-undo', 'data-testid': 'link-undo', disabled: p === 'undoing' ? true : null,
          text: p === 'undoing' ? t('link.undoing') : t('link.undo'), onclick: function () { undoMerge(); }
        }));
      }
    }

    var done = p === 'merged' || p === 'undoing' || p === 'undone';
    linkConfirm.hidden = done;
    linkConfirm.disabled = p !== 'found' || !link.candidate || link.candidate.id === link.into;
    linkConfirm.textContent = p === 'merging' ? t('link.linking')
      : link.candidate && p === 'found' ? t('link.confirm', { name: link.intoName }) : t('link.confirmShort');
    linkCancel.textContent = done ? t('link.done') : t('link.cancel');
    linkCancel.classList.toggle('btn-primary', done);
    linkCancel.classList.toggle('btn-ghost', !done);
  }

  /** "Moved 1 identity and 3 messages." — zero counts left out. */
  function movedText(moved) {
    var parts = [];
    [['identity', (moved.identities || []).length], ['conversation', moved.conversations || 0], ['message', moved.messages || 0]]
      .forEach(function (p) { if (p[1] > 0) parts.push(t('link.n.' + p[0] + (p[1] === 1 ? '' : 's'), { n: p[1] })); });
    if (!parts.length) return '';
    var and = t('link.and');
    var what = parts.length === 1 ? parts[0]
      : (and === '、' ? parts.join(and) : parts.slice(0, -1).join(', ') + and + parts[parts.length - 1]);
    return t('link.moved', { what: what });
  }

  function findCandidate() {
    var channel = linkChannel.value, ext = linkExternal.value.trim();
    link.error = null; link.candidate = null;
    if (!ext) { link.phase = 'search'; link.error = t('link.err.missing'); renderLinkDialog(); linkExternal.focus(); return; }
    link.phase = 'finding'; link.query = channel + '\u0000' + ext;
    renderLinkDialog();
    var q = link.query;
    api('GET', '/v1/customers/lookup?channel=' + encodeURIComponent(channel) + '&external_id=' + encodeURIComponent(ext)).then(function (r) {
      if (link.query !== q) return null;
      if (r.status === 404) throw { user: t('link.notFound', { channel: channelLabel(channel) }) };
      if (!r.ok || !r.data || !r.data.customer_id) throw { user: t('link.err.generic', { msg: apiMessage(r) }) };
      return api('GET', '/v1/customers/' + encodeURIComponent(r.data.customer_id)).then(function (c) {
        if (!c.ok || !c.data) throw { user: t('link.err.generic', { msg: apiMessage(c) }) };
        return c.data;
      });
    }).then(function (cust) {
      if (!cust || link.query !== q) return;
      link.candidate = cust;
      link.phase = 'found';
      if (cust.id === link.into) link.error = t('link.sameCustomer');
      renderLinkDialog();
      if (!linkConfirm.disabled) linkConfirm.focus();
    }).catch(function (e) {
      if (link.query !== q) return;
      link.phase = 'search';
      link.error = (e && e.user) || t('link.err.network');
      renderLinkDialog();
      linkExternal.focus();
    });
  }

  function confirmMerge() {
    if (link.phase !== 'found' || !link.candidate || link.candidate.id === link.into) return;
    var into = link.into, from = link.candidate;
    link.phase = 'merging'; link.error = null;
    renderLinkDialog();
    api('POST', '/v1/customers/' + encodeURIComponent(into) + '/merge', { from_customer_id: from.id }).then(function (r) {
      if (!r.ok || !r.data) {
        link.phase = 'found';
        link.error = r.status === 409 || r.status === 404 ? t('link.err.conflict', { msg: apiMessage(r) }) : t('link.err.generic', { msg: apiMessage(r) });
        renderLinkDialog();
        return;
      }
      link.merge = r.data;
      link.phase = 'merged';
      lastMerge = { merge_id: r.data.merge_id, into: into, from: from.id, from_name: from.name || from.id,
        moved: (r.data.moved && r.data.moved.identities) || [], undone: false };
      custInfo.delete(from.id);
      renderLinkDialog();
      loadCustomer(into, true);
      var undo = linkSuccess.querySelector('[data-testid=link-undo]');
      if (undo) undo.focus();
    }).catch(function () {
      link.phase = 'found'; link.error = t('link.err.network');
      renderLinkDialog();
    });
  }

  function undoMerge() {
    if (!lastMerge || lastMerge.undone || lastMerge.busy) return;
    var mg = lastMerge;
    var inDialog = linkDlg.open && link.merge && link.merge.merge_id === mg.merge_id;
    mg.busy = true;
    if (inDialog) { link.phase = 'undoing'; link.error = null; renderLinkDialog(); }
    renderIdentities();
    api('POST', '/v1/customers/merges/' + encodeURIComponent(mg.merge_id) + '/undo', {}).then(function (r) {
      mg.busy = false;
      if (r.ok || r.status === 409) {
        // 409: already undone (elsewhere) — either way it is not linked any more.
        mg.undone = true;
        if (inDialog) link.phase = 'undone';
        if (!linkDlg.open) toast(t('link.undone', { from: mg.from_name }));
        if (r.status === 409 && inDialog) link.error = apiMessage(r);
      } else {
        if (inDialog) { link.phase = 'merged'; link.error = t('link.err.generic', { msg: apiMessage(r) }); }
        else toast(t('link.err.generic', { msg: apiMessage(r) }), 'error');
      }
    }).catch(function () {
      mg.busy = false;
      if (inDialog) { link.phase = 'merged'; link.error = t('link.err.network'); }
      else toast(t('link.err.network'), 'error');
    }).then(function () {
      if (inDialog) renderLinkDialog();
      custInfo.delete(mg.from);
      loadCustomer(mg.into, true);
      renderIdentities();
    });
  }

  $('link-open').addEventListener('click', openLinkDialog);
  linkFind.addEventListener('click', findCandidate);
  linkChannel.addEventListener('change', function () {
    lastLinkChannel = linkChannel.value;
    link.candidate = null; link.error = null; if (link.phase === 'found') link.phase = 'search';
    renderLinkDialog();
  });
  linkExternal.addEventListener('input', function () {
    if (link.phase === 'found' || link.error) { link.candidate = null; link.error = null; link.phase = 'search'; renderLinkDialog(); }
  });
  linkExternal.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.isComposing && ev.keyCode !== 229) { ev.preventDefault(); findCandidate(); }
  });
  $('link-form').addEventListener('submit', function (ev) { ev.preventDefault(); confirmMerge(); });
  linkCancel.addEventListener('click', closeLinkDialog);
  $('link-x').addEventListener('click', closeLinkDialog);
  linkDlg.addEventListener('click', function (ev) { if (ev.target === linkDlg && link.phase !== 'merging') closeLinkDialog(); });
  linkDlg.addEventListener('cancel', function (ev) { if (link.phase === 'merging' || link.phase === 'undoing') ev.preventDefault(); });

  /* ---------------------------------------------------------------- reply */
  function updateReplyState() { replySend.disabled = !replyInput.value.trim() || replyInput.disabled; }

  function sendPending(conv, m) {
    clearTimeout(m.timer);
    var frame = { type: 'message', conversation_id: conv.id, text: m.text };
    if (m.suggestion_id) frame.suggestion_id = m.suggestion_id;
    if (!send(frame)) { m.pending = false; m.failed = true; return false; }
    m.timer = setTimeout(function () {
      if (m.pending) { m.pending = false; m.failed = true; if (selectedId === conv.id) refreshNode(m); }
    }, PENDING_TIMEOUT_MS);
    return true;
  }

  function retry(m) {
    var conv = convs.get(selectedId);
    if (!conv || conv.closed) return;
    m.failed = false; m.pending = true;
    sendPending(conv, m);
    refreshNode(m);
  }

  function submitReply() {
    var conv = convs.get(selectedId);
    var text = replyInput.value.replace(/\s+$/, '');
    if (!conv || conv.closed || !text.trim()) return;
    var m = { id: null, conversation_id: conv.id, from: 'agent', channel: null, text: text, sent_at: new Date().toISOString(), pending: true };
    if (!ws || ws.readyState !== WebSocket.OPEN) { toast(t('toast.notConnected'), 'error'); return; }
    // The suggestion the text came from (even if edited since) goes with it, once.
    if (pendingSugg && pendingSugg.conversation_id === conv.id) m.suggestion_id = pendingSugg.id;
    var hadSugg = !!pendingSugg;
    pendingSugg = null;
    renderReplySugg();
    if (hadSugg) renderAssist(conv);
    conv.messages.push(m);
    sendPending(conv, m);
    appendNode(conv, m);
    replyInput.value = '';
    U.autosize(replyInput);
    updateReplyState();
    renderConvList();
  }

  replyForm.addEventListener('submit', function (ev) { ev.preventDefault(); submitReply(); });
  replyInput.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) { ev.preventDefault(); submitReply(); }
  });
  replyInput.addEventListener('input', function () {
    U.autosize(replyInput);
    updateReplyState();
    if (pendingSugg && !replyInput.value.trim()) { pendingSugg = null; renderReplySugg(); renderAssist(convs.get(selectedId)); }
    var now = Date.now();
    if (selectedId && replyInput.value.trim() && ws && ws.readyState === WebSocket.OPEN && now - lastTypingSent > TYPING_SEND_EVERY_MS) {
      lastTypingSent = now;
      ws.send(JSON.stringify({ type: 'typing', conversation_id: selectedId }));
    }
  });

  wrapForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var conv = convs.get(selectedId);
    if (!conv || conv.closed || conv.wrapping) return;
    if (!send({ type: 'wrap_up', conversation_id: conv.id, resolution: wrapSelect.value })) return;
    conv.wrapping = true;
    conv.resolution = wrapSelect.value;
    renderHeaderState(conv);
  });

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && selectedId && convs.get(selectedId)) { convs.get(selectedId).unread = 0; renderConvList(); }
  });

  /* ------------------------------------------------------------- language */
  i18n.onChange(function () {
    updateTitle();
    if (!deskView.hidden) {
      setConn(connEl.getAttribute('data-state'));
      renderMe(); renderStatus();
      offers.forEach(function (o) { clearInterval(o.timer); if (o.node) o.node.remove(); o.node = null; });
      renderOffers(); renderConvList(); renderSelection();
      if (linkDlg.open) renderLinkDialog();
      if (gbDlg.open) renderGiveBackDialog();
    }
  });
  i18n.bindSwitches();
  i18n.apply();

  /* ----------------------------------------------------------------- boot */
  session = login.saved();
  if (session) enterDesk(); else showLogin();

  window.SwitchboardDesk = {
    get state() { return { me: me, offers: offers.size, conversations: convs.size, selected: selectedId, connected: connected }; }
  };
})();
