/*
 * Switchboard — supervisor console.
 *
 * Plain JS, no dependencies beyond /ui/common/i18n.js (Switchboard.i18n, Switchboard.util) and
 * /ui/common/login.js (the login card, shared with the desk).
 * Login (POST /v1/auth/login, token in sessionStorage) → six sections switched by the URL hash:
 *
 *   #live       GET /v1/queues every 2 s (queues, waiting tasks, agents, overrides in force);
 *               "Why?" on a waiting task opens GET /v1/tasks/{id}/routing in a side drawer
 *   #rules      JSON editor + rule cards; validate / save / dry-run / activate (problems in place)
 *   #dryrun     POST /v1/routing/rules/{v}/dry-run → KPIs, SVG timeline, per queue / agent
 *   #history    GET /v1/routing/rules/versions + GET /v1/routing/history
 *   #overrides  POST/GET/DELETE /v1/routing/overrides
 *   #kb         GET/POST/PUT/DELETE /v1/kb/entries, POST /v1/kb/match ("Try a question"),
 *               POST /v1/kb/import, GET /v1/kb/export; #kb/<id> and #kb/new open the entry editor
 *
 * Endpoints that answer 404 "No route" are shown as "not available yet" rather than errors.
 */
(function () {
  'use strict';

  var SB = window.Switchboard;
  var i18n = SB.i18n, t = i18n.t, U = SB.util, el = U.el;

  var SESSION_KEY = 'switchboard.console_session';
  var POLL_MS = 2000;
  var SECTIONS = ['live', 'rules', 'dryrun', 'history', 'overrides', 'kb'];
  var ATTRIBUTES = ['channel', 'intent', 'language', 'tier', 'tags', 'wait_secs', 'hour', 'weekday', 'queue'];
  var STRATEGIES = ['least_occupied', 'longest_idle', 'best_skill'];
  var FALLBACKS = ['callback', 'ticket', 'bot_message'];
  var TEMPLATE = {
    rules: [
      { name: 'vip', when: "tier == 'vip' || 'vip' in tags", queue: 'vip', skills: [{ name: 'vip', min_level: 1 }], priority: 100 },
      { name: 'billing', when: "intent == 'billing'", queue: 'billing', skills: [{ name: 'billing', min_level: 4 }],
        aging_per_minute: 2, strategy: 'best_skill',
        overflow: [{ after_secs: 30, skills: [{ name: 'billing', min_level: 2 }] }, { after_secs: 300, queue: 'general', skills: [] }] },
      { name: 'everyone', when: 'true', queue: 'general' }
    ],
    queues: {
      billing: { max_wait_secs: 600, fallback: 'callback', hours: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '18:00' }], utc_offset_minutes: 480 }
    }
  };

  /* ============================================================== strings */
  i18n.register({
    en: {
      'doc.title': 'Switchboard Console',
      'nav.skip': 'Skip to content',
      'nav.sections': 'Sections',
      'nav.live': 'Live',
      'nav.rules': 'Rules',
      'nav.dryrun': 'Dry-run',
      'nav.history': 'History',
      'nav.overrides': 'Overrides',
      'nav.logout': 'Log out',
      'nav.footTitle': 'Routing in force',
      'nav.footVersion': 'Version {v}',
      'nav.footBuiltin': 'Built-in routing (no rule set active)',
      'nav.footActivated': 'activated {when} by {who}',
      'me.role': 'Supervisor',

      'login.sub': 'Supervisor Console',
      'login.title': 'Sign in to the console',
      'login.lead': 'Watch your queues live, tune routing rules and try them on real traffic before they go live.',
      'login.demoTitle': 'Demo account',
      'login.agentsHint': 'Agents work in the',
      'login.deskLink': 'agent desk',
      'login.err.notSupervisor': 'The console is for supervisors. Agents can use the agent desk.',

      'live.pill.connecting': 'Connecting…',
      'live.pill.live': 'Live',
      'live.pill.offline': 'Reconnecting…',
      'live.pill.paused': 'Paused',
      'live.title': 'Live operations',
      'live.updated': 'Updated {time} · refreshes every 2 s',
      'live.updatedStale': 'Last update {time} — the server is not answering, retrying…',
      'live.loading': 'Loading live figures…',
      'live.waiting': 'Waiting',
      'live.offered': 'Being offered',
      'live.longest': 'Longest wait',
      'live.agentsAvailable': 'Agents available',
      'live.sl': 'Service level ({s} s)',
      'live.slPlain': 'Service level',
      'live.slHint': 'Answered within {s} s, last {window}',
      'live.queues': 'Queues',
      'live.agents': 'Agents',
      'live.overrides': 'Overrides in force',
      'live.newOverride': 'New override',
      'live.windowHint': 'Figures over the last {window}',
      'live.queuesTotal': 'All queues',
      'live.queuesTotalHint': 'Per-queue figures are not available on this server yet.',
      'live.noQueues': 'No queue traffic yet',
      'live.noQueuesText': 'Queues appear here as soon as tasks are routed to them.',
      'live.noAgents': 'No agents signed in',
      'live.noAgentsText': 'Agents appear here when they open the agent desk.',
      'live.agentsHint': '{available} of {total} available',
      'live.noOverrides': 'No overrides in force',
      'live.noOverridesText': 'Every rule routes as published.',
      'live.overridesUnknown': 'This server does not report overrides yet.',
      'live.error': "Can't load live figures",
      'live.errorText': 'The server did not answer ({msg}). Retrying every few seconds.',
      'live.load': 'Load',
      'live.occupancy': 'Occupancy',
      'live.noSkills': 'No skills',
      'live.wrapEnds': 'ends in {s} s',
      'live.full': 'Full',

      'status.available': 'Available',
      'status.away': 'Away',
      'status.offline': 'Offline',
      'status.wrap_up': 'Wrap-up',
      'status.busy': 'Busy',

      'col.queue': 'Queue',
      'col.waiting': 'Waiting',
      'col.offered': 'Offered',
      'col.longest': 'Longest wait',
      'col.sl': 'Service level',
      'col.answered': 'Answered',
      'col.abandonment': 'Abandonment',
      'col.fallbacks': 'Fallbacks',
      'col.tasks': 'Tasks',
      'col.p50': 'Wait p50',
      'col.p90': 'Wait p90',
      'col.abandoned': 'Abandoned',
      'col.task': 'Task',
      'col.from': 'Was routed to',
      'col.to': 'Would go to',

      'ovr.title': 'Temporary overrides',
      'ovr.sub': "Send one rule's traffic somewhere else for a while — a promotion, an outage, a sick team — without publishing a new version. Overrides end by themselves.",
      'ovr.new': 'New override',
      'ovr.rule': 'Rule',
      'ovr.rulePick': 'Choose a rule…',
      'ovr.ruleHint': 'Now: queue {queue}{skills}',
      'ovr.queue': 'Send to queue',
      'ovr.skills': 'Required skills',
      'ovr.skillsPh': 'billing:2, tech',
      'ovr.skillsHint': 'name:level, comma separated. Empty = any agent.',
      'ovr.duration': 'Duration',
      'ovr.minutes': 'minutes',
      'ovr.reason': 'Reason',
      'ovr.reasonPh': 'Flash sale — billing team in training',
      'ovr.start': 'Start override',
      'ovr.starting': 'Starting…',
      'ovr.inForce': 'In force',
      'ovr.count': '{n} in force',
      'ovr.endNow': 'End now',
      'ovr.ending': 'Ending…',
      'ovr.confirmEnd': 'End this override now?',
      'ovr.ended': 'Override for “{rule}” ended.',
      'ovr.started': 'Override for “{rule}” is in force until {time}.',
      'ovr.expiresIn': 'ends in {left}',
      'ovr.expiresAt': 'until {time}',
      'ovr.by': 'by {who}',
      'ovr.sameRules': 'same skills',
      'ovr.anyAgent': 'any agent',
      'ovr.noRules': 'Overrides redirect a rule of the active rule set — activate a rule set first.',
      'ovr.unavailable': 'Overrides are not available on this server yet.',
      'ovr.err.rule': 'Choose a rule.',
      'ovr.err.target': 'Give a queue, skills, or both.',
      'ovr.err.minutes': 'Between 1 and 10080 minutes.',
      'ovr.err.skills': 'Write skills as name:level, e.g. billing:2.',
      'ovr.err.failed': 'The override was not started: {msg}',

      'rules.title': 'Routing rules',
      'rules.sub': 'Rules are tried top to bottom; the first whose condition holds routes the task. Saving creates a new, inactive version.',
      'rules.load': 'Load a version',
      'rules.loadActive': 'Active version (v{v})',
      'rules.loadTemplate': 'Start from the template',
      'rules.loadVersion': 'Version {v}',
      'rules.loadHeader': 'Load…',
      'rules.format': 'Format',
      'rules.validate': 'Validate',
      'rules.validating': 'Checking…',
      'rules.save': 'Save as new version',
      'rules.saving': 'Saving…',
      'rules.dryrun': 'Dry-run',
      'rules.activate': 'Activate',
      'rules.activating': 'Activating…',
      'rules.unsaved': 'Unsaved changes',
      'rules.jsonLabel': 'Rule set (JSON)',
      'rules.cheat': 'Reference: attributes, strategies, fallbacks',
      'rules.cheatAttrs': 'Condition attributes',
      'rules.cheatOps': 'Operators',
      'rules.cheatStrategies': 'Strategies',
      'rules.cheatFallbacks': 'Queue fallbacks',
      'rules.preview': 'Preview',
      'rules.previewHint': '{rules} rules · {queues} queue settings',
      'rules.base.active': 'Editing the active version {v}',
      'rules.base.version': 'Editing version {v} (not active)',
      'rules.base.template': 'New rule set from the template',
      'rules.base.builtin': 'No rule set is active yet — start from the template',
      'rules.base.saved': 'Version {v} saved — not active yet',
      'rules.base.edited': ' · edited',
      'rules.loading': 'Loading the active rule set…',
      'rules.loadFailed': "Couldn't load the rule set: {msg}",
      'rules.unavailableVersion': 'Loading a specific version is not available on this server yet.',
      'rules.discard': 'Discard your unsaved edits?',
      'rules.json.title': 'The JSON is malformed — nothing was sent.',
      'rules.json.at': 'Line {line}, column {col}: {msg}',
      'rules.json.notObject': 'The document must be an object: {"rules": [...], "queues": {...}}.',
      'rules.json.unexpected': 'unexpected {tok}',
      'rules.json.eof': 'the text ends too early',
      'rules.json.string': 'unterminated string',
      'rules.json.escape': 'invalid escape in a string',
      'rules.json.control': 'line break inside a string',
      'rules.json.number': 'invalid number',
      'rules.json.trailing': 'trailing comma',
      'rules.json.key': 'expected a "quoted" key',
      'rules.json.colon': 'expected “:” after the key',
      'rules.json.after': 'extra text after the document',
      'rules.problems': '{n} problems — nothing was stored',
      'rules.problems1': '1 problem — nothing was stored',
      'rules.problemsValidate': '{n} problems found',
      'rules.problemsValidate1': '1 problem found',
      'rules.problemsStale': 'You edited since this check — validate again.',
      'rules.problemWhere': 'Rule {n}',
      'rules.problemDoc': 'Document',
      'rules.problemQueue': 'Queue {q}',
      'rules.valid': 'Looks good: the rule set is valid.',
      'rules.validLocal': 'The JSON is well-formed. Server-side validation is not available yet — Save also validates.',
      'rules.saved': 'Saved as version {v}. It is not active yet.',
      'rules.savedVersion': 'v{v}',
      'rules.tryIt': 'Dry-run v{v}',
      'rules.activateIt': 'Activate v{v}',
      'rules.needSave': 'Save your edits as a new version first — a dry-run replays a stored version.',
      'rules.needSaveActivate': 'Save your edits as a new version first; then activate it.',
      'rules.alreadyActive': 'Version {v} is already active.',
      'rules.nothingToActivate': 'Save the rule set first, then activate the new version.',
      'rules.confirmActivate': 'Activate version {v}? New tasks are routed by it at once.',
      'rules.confirmActivateWas': 'Version {prev} stops routing.',
      'rules.confirmRollback': 'Roll back to version {v}? New tasks are routed by it at once.',
      'rules.activated': 'Version {v} is now active.',
      'rules.activatedWas': 'Version {v} is now active (was {prev}).',
      'rules.activateFailed': 'Activation failed: {msg}',
      'rules.saveFailed': 'Saving failed: {msg}',
      'rules.validateFailed': 'Validation failed: {msg}',
      'rules.empty': 'No rules yet',
      'rules.emptyText': 'Without rules every task keeps the skills of its hand-off.',
      'rules.noQueues': 'No queue settings: queues are always open and never fall back.',
      'rules.queueSettings': 'Queue settings',
      'hist.changes': 'Changes ({n})',
      'hist.none': '(not set)',
      'dry.unserved': '{n} tasks could not be served by either version (no agent has the skills).',
      'dry.unservedCmp': 'Unserved: {n} (was {b}).',

      'card.when': 'When',
      'card.queue': 'Queue',
      'card.skills': 'Skills',
      'card.overflow': 'Overflow',
      'card.always': 'always',
      'card.anyAgent': 'any agent',
      'card.priority': 'P{n}',
      'card.priorityTitle': 'Priority {n}',
      'card.aging': '+{n}/min',
      'card.agingTitle': 'Priority grows by {n} per minute of waiting',
      'card.sticky': 'sticky {n} s',
      'card.after': 'after {s}',
      'card.relax': 'skills',
      'card.moveTo': 'move to',
      'card.unnamed': '(unnamed)',
      'card.hours': 'Open',
      'card.closed': 'Holidays',
      'card.maxWait': 'Max wait',
      'card.fallback': 'Fallback',
      'card.tz': 'UTC{off}',
      'card.alwaysOpen': 'always open',

      'strategy.least_occupied': 'Least occupied',
      'strategy.longest_idle': 'Longest idle',
      'strategy.best_skill': 'Best skill',
      'fallback.callback': 'Callback',
      'fallback.ticket': 'Ticket',
      'fallback.bot_message': 'Bot message',
      'fallback.none': 'none',
      'day.1': 'Mon', 'day.2': 'Tue', 'day.3': 'Wed', 'day.4': 'Thu', 'day.5': 'Fri', 'day.6': 'Sat', 'day.7': 'Sun', 'day.0': 'Sun',
      'day.weekdays': 'Mon–Fri',
      'day.everyday': 'Every day'
    }
  });

  i18n.register({
    en: {
      'dry.title': 'Dry-run report',
      'dry.sub': 'Replay past traffic through a rule-set version and compare it with the rules that were in force. Nothing is changed.',
      'dry.version': 'Version',
      'dry.versionOpt': 'v{v}',
      'dry.versionActive': 'v{v} · active',
      'dry.versionNew': 'v{v} · just saved',
      'dry.noVersions': 'No saved versions',
      'dry.from': 'From',
      'dry.to': 'To',
      'dry.run': 'Run dry-run',
      'dry.running': 'Replaying…',
      'dry.presets': 'Quick window',
      'dry.quick': 'Quick window:',
      'dry.p1h': 'Last hour',
      'dry.p24h': 'Last 24 hours',
      'dry.p7d': 'Last 7 days',
      'dry.p30d': 'Last 30 days',
      'dry.err.window': '“From” must be before “To”.',
      'dry.err.long': 'The window can be at most 31 days.',
      'dry.err.version': 'Choose a version to replay.',
      'dry.err.unknown': 'There is no version {v}.',
      'dry.err.failed': 'The dry-run failed: {msg}',
      'dry.unavailable': 'Dry-runs are not available on this server yet',
      'dry.unavailableText': 'The replay endpoint is still being deployed. Try again in a little while.',
      'dry.emptyTitle': 'Try a version on real traffic',
      'dry.emptyText': 'Pick a version and a time window, then run. The report compares it with the rules that were in force.',
      'dry.loading': 'Replaying {from} → {to}…',
      'dry.reportTitle': 'Version {v}',
      'dry.vs': 'vs',
      'dry.baseline': 'version {v}',
      'dry.baselineBuiltin': 'built-in routing',
      'dry.tasks': '{n} tasks',
      'dry.agents': '{n} agents',
      'dry.noTasks': 'No tasks in this window',
      'dry.noTasksText': 'Nothing arrived between {from} and {to}. Widen the window to replay more traffic.',
      'dry.was': 'was {v}',
      'dry.same': 'no change',
      'dry.pp': '{n} pp',
      'dry.kpi.sl': 'Service level',
      'dry.kpi.p50': 'Wait p50',
      'dry.kpi.p90': 'Wait p90',
      'dry.kpi.abandonment': 'Abandonment',
      'dry.kpi.answered': 'Answered',
      'dry.kpi.fallbacks': 'Fallbacks',
      'dry.kpi.unserved': 'Unserved',
      'dry.chart': 'Waiting over time',
      'dry.chartHint': 'Tasks waiting at each moment of the window',
      'dry.chartEmpty': 'No timeline in this report.',
      'dry.candidate': 'Candidate v{v}',
      'dry.baselineKey': 'Baseline',
      'dry.queues': 'Per queue',
      'dry.queuesHint': 'candidate · baseline below',
      'dry.agentsTitle': 'Agent occupancy',
      'dry.handled': '{n} handled',
      'dry.handledWas': '{n} handled (was {b})',
      'dry.changed': 'Tasks that change queue',
      'dry.changedCount': '{n} of {total} tasks',
      'dry.changedNone': 'Every task stays in the same queue.',
      'dry.changedSample': 'Sample of the first {n}',
      'dry.activate': 'Activate v{v}',
      'dry.isActive': 'v{v} is active',
      'dry.rerun': 'Run again',
      'dry.none': '—',

      'hist.title': 'Versions & audit trail',
      'hist.sub': 'Every saved version is kept. Activate a newer one or roll back to an earlier one at any time.',
      'hist.versions': 'Versions',
      'hist.audit': 'Audit trail',
      'hist.active': 'Active',
      'hist.by': 'by {who}',
      'hist.created': 'saved {when} by {who}',
      'hist.rules': '{n} rules',
      'hist.showDiff': 'Changes vs v{v}',
      'hist.firstVersion': 'First version',
      'hist.noDiff': 'Same rules as the previous version.',
      'hist.activate': 'Activate',
      'hist.rollback': 'Roll back to v{v}',
      'hist.open': 'Open in editor',
      'hist.dryrun': 'Dry-run',
      'hist.confirm': 'Confirm',
      'hist.cancel': 'Cancel',
      'hist.noVersions': 'No versions yet',
      'hist.noVersionsText': 'Save a rule set in the Rules editor to create version 1.',
      'hist.noAudit': 'Nothing audited yet',
      'hist.noAuditText': 'Saving, activating and overrides are recorded here.',
      'hist.versionsUnavailable': 'Version history is not available on this server yet',
      'hist.auditUnavailable': 'The audit trail is not available on this server yet',
      'hist.unavailableText': 'This part of the API is still being deployed. Try again in a little while.',
      'hist.activeFallback': 'In force now: version {v}',
      'hist.loading': 'Loading…',
      'hist.loadFailed': "Couldn't load: {msg}",
      'hist.field': 'Field',
      'hist.before': 'Before',
      'hist.after': 'After',
      'hist.moved': 'moved from position {from} to {to}',
      'op.added': 'added',
      'op.removed': 'removed',
      'op.changed': 'changed',
      'op.moved': 'moved',
      'audit.routing.rules.created': '{who} saved version {v}',
      'audit.routing.rules.activated': '{who} activated version {v}',
      'audit.routing.rules.activatedWas': '{who} activated version {v} (was {prev})',
      'audit.routing.override.created': '{who} started an override of “{rule}”',
      'audit.routing.override.ended': '{who} ended an override of “{rule}”',
      'audit.other': '{who}: {action} {subject}',
      'audit.system': 'System',
      'audit.reason': 'Reason: {r}',
      'audit.target': 'to {target} for {m} min',
      'audit.targetUntil': 'to {target} until {time}',

      'common.refresh': 'Refresh',
      'common.cancel': 'Cancel',
      'common.confirm': 'Confirm',
      'common.retry': 'Try again',
      'common.close': 'Close',
      'common.unavailable': 'Not available yet',
      'common.secs': '{n} s',
      'common.mins': '{n} min',
      'common.minsSecs': '{m} min {s} s',
      'common.hours': '{n} h',
      'common.hoursMins': '{h} h {m} min',
      'common.days': '{n} d',
      'common.justNow': 'just now',
      'common.ago': '{d} ago',
      'common.today': 'Today',
      'common.yesterday': 'Yesterday',
      'common.network': "Can't reach the server.",
      'common.forbidden': "You're not allowed to do that.",
      'common.sessionEnded': 'Your session has ended. Please sign in again.'
    }
  });

  i18n.register({
    'zh-CN': {
      'doc.title': 'Switchboard 主管控制台',
      'nav.skip': '跳到主要内容',
      'nav.sections': '栏目',
      'nav.live': '实时',
      'nav.rules': '路由规则',
      'nav.dryrun': '模拟回放',
      'nav.history': '历史',
      'nav.overrides': '临时调整',
      'nav.logout': '退出登录',
      'nav.footTitle': '当前生效的路由',
      'nav.footVersion': '版本 {v}',
      'nav.footBuiltin': '内置路由（未启用规则集）',
      'nav.footActivated': '{who} 于 {when} 启用',
      'me.role': '主管',

      'login.sub': '主管控制台',
      'login.title': '登录控制台',
      'login.lead': '实时查看队列，调整路由规则，并在上线前用真实流量试运行。',
      'login.demoTitle': '演示账号',
      'login.agentsHint': '客服请使用',
      'login.deskLink': '客服工作台',
      'login.err.notSupervisor': '控制台仅供主管使用，客服请使用客服工作台。',

      'live.pill.connecting': '连接中…',
      'live.pill.live': '实时',
      'live.pill.offline': '正在重连…',
      'live.pill.paused': '已暂停',
      'live.title': '实时运营',
      'live.updated': '更新于 {time} · 每 2 秒刷新',
      'live.updatedStale': '最后更新 {time} —— 服务器无响应，正在重试…',
      'live.loading': '正在加载实时数据…',
      'live.waiting': '排队中',
      'live.offered': '分配中',
      'live.longest': '最长等待',
      'live.agentsAvailable': '在线客服',
      'live.sl': '服务水平（{s} 秒）',
      'live.slPlain': '服务水平',
      'live.slHint': '{s} 秒内接起的比例，统计最近 {window}',
      'live.queues': '队列',
      'live.agents': '客服',
      'live.overrides': '生效中的临时调整',
      'live.newOverride': '新建临时调整',
      'live.windowHint': '统计最近 {window}',
      'live.queuesTotal': '全部队列',
      'live.queuesTotalHint': '此服务器暂不提供分队列数据。',
      'live.noQueues': '暂无队列流量',
      'live.noQueuesText': '有任务被路由到队列后，会显示在这里。',
      'live.noAgents': '暂无客服登录',
      'live.noAgentsText': '客服打开工作台后会显示在这里。',
      'live.agentsHint': '{total} 人中 {available} 人在线',
      'live.noOverrides': '没有生效中的临时调整',
      'live.noOverridesText': '所有规则均按已发布版本路由。',
      'live.overridesUnknown': '此服务器暂不提供临时调整数据。',
      'live.error': '无法加载实时数据',
      'live.errorText': '服务器未响应（{msg}），每隔几秒自动重试。',
      'live.load': '负载',
      'live.occupancy': '占用率',
      'live.noSkills': '无技能',
      'live.wrapEnds': '{s} 秒后结束',
      'live.full': '已满',

      'status.available': '在线',
      'status.away': '离开',
      'status.offline': '离线',
      'status.wrap_up': '话后处理',
      'status.busy': '忙碌',

      'col.queue': '队列',
      'col.waiting': '排队',
      'col.offered': '分配中',
      'col.longest': '最长等待',
      'col.sl': '服务水平',
      'col.answered': '已接起',
      'col.abandonment': '放弃率',
      'col.fallbacks': '兜底处理',
      'col.tasks': '任务',
      'col.p50': '等待 p50',
      'col.p90': '等待 p90',
      'col.abandoned': '放弃',
      'col.task': '任务',
      'col.from': '原路由到',
      'col.to': '将路由到',

      'ovr.title': '临时调整',
      'ovr.sub': '在一段时间内把某条规则的流量转到别处 —— 促销、故障、团队缺勤 —— 无需发布新版本。到期自动结束。',
      'ovr.new': '新建临时调整',
      'ovr.rule': '规则',
      'ovr.rulePick': '选择规则…',
      'ovr.ruleHint': '当前：队列 {queue}{skills}',
      'ovr.queue': '转到队列',
      'ovr.skills': '所需技能',
      'ovr.skillsPh': 'billing:2, tech',
      'ovr.skillsHint': '格式 名称:等级，用逗号分隔。留空 = 任意客服。',
      'ovr.duration': '持续时间',
      'ovr.minutes': '分钟',
      'ovr.reason': '原因',
      'ovr.reasonPh': '限时促销 —— 账务组培训中',
      'ovr.start': '开始调整',
      'ovr.starting': '正在开始…',
      'ovr.inForce': '生效中',
      'ovr.count': '{n} 条生效中',
      'ovr.endNow': '立即结束',
      'ovr.ending': '正在结束…',
      'ovr.confirmEnd': '立即结束此临时调整？',
      'ovr.ended': '规则“{rule}”的临时调整已结束。',
      'ovr.started': '规则“{rule}”的临时调整已生效，至 {time} 结束。',
      'ovr.expiresIn': '{left}后结束',
      'ovr.expiresAt': '至 {time}',
      'ovr.by': '由 {who} 创建',
      'ovr.sameRules': '技能不变',
      'ovr.anyAgent': '任意客服',
      'ovr.noRules': '临时调整针对当前生效规则集中的规则 —— 请先启用一个规则集。',
      'ovr.unavailable': '此服务器暂不支持临时调整。',
      'ovr.err.rule': '请选择规则。',
      'ovr.err.target': '请填写队列或技能（或两者）。',
      'ovr.err.minutes': '请输入 1 到 10080 分钟。',
      'ovr.err.skills': '技能格式为 名称:等级，例如 billing:2。',
      'ovr.err.failed': '未能开始临时调整：{msg}'
    }
  });

  i18n.register({
    'zh-CN': {
      'rules.title': '路由规则',
      'rules.sub': '规则自上而下依次匹配，第一条条件成立的规则决定任务的路由。保存会生成一个新版本，但不会立即启用。',
      'rules.load': '载入版本',
      'rules.loadActive': '当前生效版本（v{v}）',
      'rules.loadTemplate': '从模板开始',
      'rules.loadVersion': '版本 {v}',
      'rules.loadHeader': '载入…',
      'rules.format': '格式化',
      'rules.validate': '校验',
      'rules.validating': '校验中…',
      'rules.save': '另存为新版本',
      'rules.saving': '保存中…',
      'rules.dryrun': '模拟回放',
      'rules.activate': '启用',
      'rules.activating': '启用中…',
      'rules.unsaved': '有未保存的修改',
      'rules.jsonLabel': '规则集（JSON）',
      'rules.cheat': '参考：条件属性、分配策略、兜底方式',
      'rules.cheatAttrs': '条件属性',
      'rules.cheatOps': '运算符',
      'rules.cheatStrategies': '分配策略',
      'rules.cheatFallbacks': '队列兜底方式',
      'rules.preview': '预览',
      'rules.previewHint': '{rules} 条规则 · {queues} 个队列设置',
      'rules.base.active': '正在编辑当前生效的版本 {v}',
      'rules.base.version': '正在编辑版本 {v}（未启用）',
      'rules.base.template': '基于模板的新规则集',
      'rules.base.builtin': '尚未启用任何规则集 —— 可从模板开始',
      'rules.base.saved': '版本 {v} 已保存 —— 尚未启用',
      'rules.base.edited': ' · 已修改',
      'rules.loading': '正在加载当前规则集…',
      'rules.loadFailed': '无法加载规则集：{msg}',
      'rules.unavailableVersion': '此服务器暂不支持载入指定版本。',
      'rules.discard': '放弃未保存的修改？',
      'rules.json.title': 'JSON 格式有误 —— 未发送任何内容。',
      'rules.json.at': '第 {line} 行第 {col} 列：{msg}',
      'rules.json.notObject': '文档必须是一个对象：{"rules": [...], "queues": {...}}。',
      'rules.json.unexpected': '意外的 {tok}',
      'rules.json.eof': '文本提前结束',
      'rules.json.string': '字符串未闭合',
      'rules.json.escape': '字符串中有无效的转义',
      'rules.json.control': '字符串中不能换行',
      'rules.json.number': '无效的数字',
      'rules.json.trailing': '多余的逗号',
      'rules.json.key': '键名需要用双引号括起来',
      'rules.json.colon': '键名后应为“:”',
      'rules.json.after': '文档之后还有多余内容',
      'rules.problems': '{n} 个问题 —— 未保存任何内容',
      'rules.problems1': '1 个问题 —— 未保存任何内容',
      'rules.problemsValidate': '发现 {n} 个问题',
      'rules.problemsValidate1': '发现 1 个问题',
      'rules.problemsStale': '校验后有修改 —— 请重新校验。',
      'rules.problemWhere': '规则 {n}',
      'rules.problemDoc': '文档',
      'rules.problemQueue': '队列 {q}',
      'rules.valid': '校验通过：规则集有效。',
      'rules.validLocal': 'JSON 格式正确。服务器端校验暂不可用 —— 保存时也会校验。',
      'rules.saved': '已保存为版本 {v}，尚未启用。',
      'rules.savedVersion': 'v{v}',
      'rules.tryIt': '模拟回放 v{v}',
      'rules.activateIt': '启用 v{v}',
      'rules.needSave': '请先将修改另存为新版本 —— 模拟回放使用已保存的版本。',
      'rules.needSaveActivate': '请先将修改另存为新版本，然后再启用。',
      'rules.alreadyActive': '版本 {v} 已在生效中。',
      'rules.nothingToActivate': '请先保存规则集，再启用新版本。',
      'rules.confirmActivate': '启用版本 {v}？新任务将立即按它路由。',
      'rules.confirmActivateWas': '版本 {prev} 将停止路由。',
      'rules.confirmRollback': '回滚到版本 {v}？新任务将立即按它路由。',
      'rules.activated': '版本 {v} 已启用。',
      'rules.activatedWas': '版本 {v} 已启用（原为 {prev}）。',
      'rules.activateFailed': '启用失败：{msg}',
      'rules.saveFailed': '保存失败：{msg}',
      'rules.validateFailed': '校验失败：{msg}',
      'rules.empty': '暂无规则',
      'rules.emptyText': '没有规则时，任务保留转人工时的技能要求。',
      'rules.noQueues': '没有队列设置：队列始终开放，也不会兜底处理。',
      'rules.queueSettings': '队列设置',
      'hist.changes': '变更（{n}）',
      'hist.none': '（未设置）',
      'dry.unserved': '有 {n} 个任务在两个版本下都无法分配（没有客服具备所需技能）。',
      'dry.unservedCmp': '无法分配：{n} 个（原为 {b} 个）。',

      'card.when': '条件',
      'card.queue': '队列',
      'card.skills': '技能',
      'card.overflow': '溢出',
      'card.always': '始终',
      'card.anyAgent': '任意客服',
      'card.priority': 'P{n}',
      'card.priorityTitle': '优先级 {n}',
      'card.aging': '+{n}/分钟',
      'card.agingTitle': '每等待一分钟优先级增加 {n}',
      'card.sticky': '粘性 {n} 秒',
      'card.after': '{s}后',
      'card.relax': '技能',
      'card.moveTo': '转到',
      'card.unnamed': '（未命名）',
      'card.hours': '营业时间',
      'card.closed': '节假日',
      'card.maxWait': '最长等待',
      'card.fallback': '兜底方式',
      'card.tz': 'UTC{off}',
      'card.alwaysOpen': '全天开放',

      'strategy.least_occupied': '最空闲优先',
      'strategy.longest_idle': '空闲最久优先',
      'strategy.best_skill': '技能最高优先',
      'fallback.callback': '回电',
      'fallback.ticket': '工单',
      'fallback.bot_message': '机器人消息',
      'fallback.none': '无',
      'day.1': '周一', 'day.2': '周二', 'day.3': '周三', 'day.4': '周四', 'day.5': '周五', 'day.6': '周六', 'day.7': '周日', 'day.0': '周日',
      'day.weekdays': '周一至周五',
      'day.everyday': '每天',

      'dry.title': '模拟回放报告',
      'dry.sub': '用某个规则集版本重放历史流量，并与当时生效的规则对比。不会改变任何内容。',
      'dry.version': '版本',
      'dry.versionOpt': 'v{v}',
      'dry.versionActive': 'v{v} · 生效中',
      'dry.versionNew': 'v{v} · 刚保存',
      'dry.noVersions': '暂无已保存的版本',
      'dry.from': '开始',
      'dry.to': '结束',
      'dry.run': '开始回放',
      'dry.running': '回放中…',
      'dry.presets': '快速选择时间段',
      'dry.quick': '快速选择：',
      'dry.p1h': '最近 1 小时',
      'dry.p24h': '最近 24 小时',
      'dry.p7d': '最近 7 天',
      'dry.p30d': '最近 30 天',
      'dry.err.window': '“开始”必须早于“结束”。',
      'dry.err.long': '时间段最长 31 天。',
      'dry.err.version': '请选择要回放的版本。',
      'dry.err.unknown': '不存在版本 {v}。',
      'dry.err.failed': '模拟回放失败：{msg}',
      'dry.unavailable': '此服务器暂不支持模拟回放',
      'dry.unavailableText': '回放接口仍在部署中，请稍后再试。',
      'dry.emptyTitle': '用真实流量试运行一个版本',
      'dry.emptyText': '选择版本和时间段后开始回放，报告会与当时生效的规则进行对比。',
      'dry.loading': '正在回放 {from} → {to}…',
      'dry.reportTitle': '版本 {v}',
      'dry.vs': '对比',
      'dry.baseline': '版本 {v}',
      'dry.baselineBuiltin': '内置路由',
      'dry.tasks': '{n} 个任务',
      'dry.agents': '{n} 位客服',
      'dry.noTasks': '该时间段内没有任务',
      'dry.noTasksText': '{from} 至 {to} 之间没有任务到达。扩大时间段以回放更多流量。',
      'dry.was': '原为 {v}',
      'dry.same': '无变化',
      'dry.pp': '{n} 个百分点',
      'dry.kpi.sl': '服务水平',
      'dry.kpi.p50': '等待 p50',
      'dry.kpi.p90': '等待 p90',
      'dry.kpi.abandonment': '放弃率',
      'dry.kpi.answered': '已接起',
      'dry.kpi.fallbacks': '兜底处理',
      'dry.kpi.unserved': '未服务',
      'dry.chart': '排队数随时间变化',
      'dry.chartHint': '时间段内每个时刻排队中的任务数',
      'dry.chartEmpty': '此报告没有时间线数据。',
      'dry.candidate': '候选 v{v}',
      'dry.baselineKey': '基线',
      'dry.queues': '分队列',
      'dry.queuesHint': '候选 · 下方为基线',
      'dry.agentsTitle': '客服占用率',
      'dry.handled': '处理 {n} 个',
      'dry.handledWas': '处理 {n} 个（原为 {b}）',
      'dry.changed': '改变队列的任务',
      'dry.changedCount': '{total} 个任务中的 {n} 个',
      'dry.changedNone': '所有任务都留在原队列。',
      'dry.changedSample': '前 {n} 个样本',
      'dry.activate': '启用 v{v}',
      'dry.isActive': 'v{v} 生效中',
      'dry.rerun': '重新回放',
      'dry.none': '—',

      'hist.title': '版本与审计记录',
      'hist.sub': '每个保存的版本都会保留。可随时启用新版本或回滚到旧版本。',
      'hist.versions': '版本',
      'hist.audit': '审计记录',
      'hist.active': '生效中',
      'hist.by': '由 {who}',
      'hist.created': '{who} 于 {when} 保存',
      'hist.rules': '{n} 条规则',
      'hist.showDiff': '相对 v{v} 的变更',
      'hist.firstVersion': '首个版本',
      'hist.noDiff': '与上一版本规则相同。',
      'hist.activate': '启用',
      'hist.rollback': '回滚到 v{v}',
      'hist.open': '在编辑器中打开',
      'hist.dryrun': '模拟回放',
      'hist.confirm': '确认',
      'hist.cancel': '取消',
      'hist.noVersions': '暂无版本',
      'hist.noVersionsText': '在“路由规则”编辑器中保存规则集即可创建版本 1。',
      'hist.noAudit': '暂无审计记录',
      'hist.noAuditText': '保存、启用和临时调整都会记录在这里。',
      'hist.versionsUnavailable': '此服务器暂不提供版本历史',
      'hist.auditUnavailable': '此服务器暂不提供审计记录',
      'hist.unavailableText': '该接口仍在部署中，请稍后再试。',
      'hist.activeFallback': '当前生效：版本 {v}',
      'hist.loading': '加载中…',
      'hist.loadFailed': '无法加载：{msg}',
      'hist.field': '字段',
      'hist.before': '修改前',
      'hist.after': '修改后',
      'hist.moved': '从第 {from} 位移到第 {to} 位',
      'op.added': '新增',
      'op.removed': '删除',
      'op.changed': '修改',
      'op.moved': '移动',
      'audit.routing.rules.created': '{who} 保存了版本 {v}',
      'audit.routing.rules.activated': '{who} 启用了版本 {v}',
      'audit.routing.rules.activatedWas': '{who} 启用了版本 {v}（原为 {prev}）',
      'audit.routing.override.created': '{who} 对规则“{rule}”开始了临时调整',
      'audit.routing.override.ended': '{who} 结束了规则“{rule}”的临时调整',
      'audit.other': '{who}：{action} {subject}',
      'audit.system': '系统',
      'audit.reason': '原因：{r}',
      'audit.target': '转到 {target}，持续 {m} 分钟',
      'audit.targetUntil': '转到 {target}，至 {time}',

      'common.refresh': '刷新',
      'common.cancel': '取消',
      'common.confirm': '确认',
      'common.retry': '重试',
      'common.close': '关闭',
      'common.unavailable': '暂不可用',
      'common.secs': '{n} 秒',
      'common.mins': '{n} 分钟',
      'common.minsSecs': '{m} 分 {s} 秒',
      'common.hours': '{n} 小时',
      'common.hoursMins': '{h} 小时 {m} 分',
      'common.days': '{n} 天',
      'common.justNow': '刚刚',
      'common.ago': '{d}前',
      'common.today': '今天',
      'common.yesterday': '昨天',
      'common.network': '无法连接服务器。',
      'common.forbidden': '您没有执行此操作的权限。',
      'common.sessionEnded': '会话已失效，请重新登录。'
    }
  });

  /* -------------------------------------------- waiting tasks · Why? strings */
  i18n.register({
    en: {
      'tasks.title': 'Waiting tasks',
      'tasks.hint': 'In service order · “Why?” explains each routing decision',
      'tasks.col.customer': 'Customer',
      'tasks.col.channel': 'Channel',
      'tasks.col.intent': 'Intent',
      'tasks.col.queue': 'Queue',
      'tasks.col.rule': 'Rule',
      'tasks.col.priority': 'Priority',
      'tasks.col.skills': 'Skills',
      'tasks.col.waiting': 'Waiting',
      'tasks.col.state': 'State',
      'tasks.col.explain': 'Explain',
      'tasks.empty': 'No one is waiting',
      'tasks.emptyText': 'Customers who ask for a person appear here, in the order they will be served.',
      'tasks.unavailable': 'This server does not list waiting tasks yet.',
      'tasks.more': 'Showing the first {shown} of {total} waiting tasks.',
      'tasks.state.offered': 'Offered to {name}',
      'tasks.state.reserved': 'Reserved for {name}',
      'tasks.state.waiting': 'Waiting',
      'tasks.why': 'Why?',
      'tasks.whyLabel': 'Why is the task of {name} routed this way?',
      'tasks.builtin': 'built-in',
      'tasks.builtinTitle': 'Built-in routing: no rule of the active set routes this task',
      'tasks.anyAgent': 'any agent',
      'channel.web': 'Web',
      'channel.app': 'App',
      'channel.wechat': 'WeChat',
      'channel.sms': 'SMS',
      'channel.ivr': 'Phone',
      'media.chat': 'chat',
      'media.voice': 'voice',
      'media.ticket': 'ticket',
      'mediaName.chat': 'Chat',
      'mediaName.voice': 'Voice call',
      'mediaName.ticket': 'Ticket',
      'language.en': 'English',
      'language.zh': 'Chinese',
      'taskStatus.waiting': 'Waiting',
      'taskStatus.offered': 'Offered',
      'taskStatus.assigned': 'Assigned',
      'taskStatus.closed': 'Closed',
      'taskStatus.abandoned': 'Abandoned',

      'why.kicker': 'Why this routing?',
      'why.closeHint': 'Close (Esc)',
      'why.loading': 'Loading the explanation…',
      'why.offeredTo': 'Offered to {name}',
      'why.lastOfferedTo': 'Last offered to {name}',
      'why.assignedTo': 'Assigned to {name}',
      'why.offerMeta': '{when} · {ago} · rules v{v}',
      'why.offerMetaBuiltin': '{when} · {ago} · built-in routing',
      'why.notOffered': 'Not offered yet — no eligible agent',
      'why.notOfferedText': 'The task waits in its queue until an agent qualifies: someone becomes available, frees a slot, or an overflow step relaxes the target.',
      'why.fromList': 'From the waiting list; the full target is recorded with the first offer.',
      'why.notFound': 'This task is unknown',
      'why.notFoundText': 'The server has no task with this id any more. Close this panel and pick another task.',
      'why.unavailable': 'Routing explanations are not available on this server yet.',
      'why.unavailableText': 'GET /v1/tasks/{id}/routing is missing on this server.',
      'why.error': "Can't load the explanation",
      'why.sec.rule': 'Rule & queue',
      'why.sec.target': 'Target',
      'why.sec.candidates': 'Eligible agents',
      'why.sec.excluded': 'Excluded agents',
      'why.rule': 'Rule',
      'why.ruleIndex': 'rule {n}',
      'why.builtin': 'Built-in routing',
      'why.builtinText': 'No rule of the active set routed this task.',
      'why.overflow': 'Overflow',
      'why.overflowStep': 'Step {n}',
      'why.overflowStepText': 'waited long enough for the rule’s overflow step {n}',
      'why.overflowNone': 'Base target — no overflow step yet',
      'why.override': 'Override',
      'why.overrideOn': 'Supervisor override in force',
      'why.queue': 'Queue',
      'why.version': 'Rule set',
      'why.versionN': 'Version {v}',
      'why.skills': 'Skills',
      'why.noSkills': 'Any agent',
      'why.language': 'Language',
      'why.priority': 'Priority',
      'why.media': 'Media',
      'why.strategy': 'Strategy',
      'why.preferred': 'Preferred agent',
      'why.strategyHint.least_occupied': 'Lowest load for the task’s media first, then whoever has been free the longest.',
      'why.strategyHint.longest_idle': 'Whoever has been free the longest first, then the lowest load.',
      'why.strategyHint.best_skill': 'Highest total level in the required skills first, then lowest load, then longest free.',
      'why.chosen': 'Got the offer',
      'why.loadOf': '{media} {load}/{cap}',
      'why.skillScore': 'skill score {n}',
      'why.skillScoreTitle': 'Sum of the agent’s levels in the required skills',
      'why.noneEligible': 'No agent was eligible at that moment.',
      'why.counts': '{eligible} eligible · {excluded} excluded',
      'why.asOf': 'Figures and times left are as of the offer ({when}).',

      'reason.not_available': 'Not available ({status})',
      'reason.wrapping_up': 'Wrapping up ({left} left)',
      'reason.at_capacity': 'At capacity ({media} {load}/{cap})',
      'reason.on_call': 'On a call — no chats meanwhile',
      'reason.in_chats': 'Busy with chats — no calls meanwhile',
      'reason.language': "Doesn't speak {language}",
      'reason.skill': 'Skill {name}: needs ≥{required}, has {has}',
      'reason.skillNone': 'Skill {name}: needs ≥{required}, has none',
      'reason.declined_recently': 'Declined or missed this task a moment ago',
      'reason.reserved_for_previous_agent': 'Reserved for {name} ({left} left)'
    },
    'zh-CN': {
      'tasks.title': '等待中的任务',
      'tasks.hint': '按服务顺序排列 · 点击“为什么？”查看路由依据',
      'tasks.col.customer': '客户',
      'tasks.col.channel': '渠道',
      'tasks.col.intent': '意图',
      'tasks.col.queue': '队列',
      'tasks.col.rule': '规则',
      'tasks.col.priority': '优先级',
      'tasks.col.skills': '技能',
      'tasks.col.waiting': '已等待',
      'tasks.col.state': '状态',
      'tasks.col.explain': '说明',
      'tasks.empty': '当前无人等待',
      'tasks.emptyText': '请求人工服务的客户会按服务顺序显示在这里。',
      'tasks.unavailable': '此服务器暂不提供等待任务列表。',
      'tasks.more': '显示前 {shown} 个，共 {total} 个等待中的任务。',
      'tasks.state.offered': '已推送给 {name}',
      'tasks.state.reserved': '为 {name} 保留',
      'tasks.state.waiting': '等待中',
      'tasks.why': '为什么？',
      'tasks.whyLabel': '{name} 的任务为什么这样路由？',
      'tasks.builtin': '内置',
      'tasks.builtinTitle': '内置路由：当前规则集中没有规则匹配此任务',
      'tasks.anyAgent': '任意坐席',
      'channel.web': '网页',
      'channel.app': 'App',
      'channel.wechat': '微信',
      'channel.sms': '短信',
      'channel.ivr': '电话',
      'media.chat': '聊天',
      'media.voice': '语音',
      'media.ticket': '工单',
      'mediaName.chat': '聊天',
      'mediaName.voice': '语音通话',
      'mediaName.ticket': '工单',
      'language.en': '英语',
      'language.zh': '中文',
      'taskStatus.waiting': '等待中',
      'taskStatus.offered': '推送中',
      'taskStatus.assigned': '已分配',
      'taskStatus.closed': '已关闭',
      'taskStatus.abandoned': '已放弃',

      'why.kicker': '为什么这样路由？',
      'why.closeHint': '关闭（Esc）',
      'why.loading': '正在加载路由说明…',
      'why.offeredTo': '已推送给 {name}',
      'why.lastOfferedTo': '上次推送给 {name}',
      'why.assignedTo': '已分配给 {name}',
      'why.offerMeta': '{when} · {ago} · 规则版本 {v}',
      'why.offerMetaBuiltin': '{when} · {ago} · 内置路由',
      'why.notOffered': '尚未推送——没有符合条件的坐席',
      'why.notOfferedText': '任务会在队列中等待，直到有坐席符合条件：有人上线、空出接待名额，或溢出步骤放宽了目标。',
      'why.fromList': '以下信息来自等待列表；完整的路由目标会在首次推送时记录。',
      'why.notFound': '找不到此任务',
      'why.notFoundText': '服务器上已没有这个任务。请关闭此面板并选择其他任务。',
      'why.unavailable': '此服务器暂不提供路由说明。',
      'why.unavailableText': '此服务器缺少 GET /v1/tasks/{id}/routing。',
      'why.error': '无法加载路由说明',
      'why.sec.rule': '规则与队列',
      'why.sec.target': '路由目标',
      'why.sec.candidates': '符合条件的坐席',
      'why.sec.excluded': '被排除的坐席',
      'why.rule': '规则',
      'why.ruleIndex': '第 {n} 条',
      'why.builtin': '内置路由',
      'why.builtinText': '当前规则集中没有规则路由此任务。',
      'why.overflow': '溢出',
      'why.overflowStep': '第 {n} 步',
      'why.overflowStepText': '等待时间已达到规则的第 {n} 个溢出步骤',
      'why.overflowNone': '基础目标——尚未溢出',
      'why.override': '临时调整',
      'why.overrideOn': '主管的临时调整生效中',
      'why.queue': '队列',
      'why.version': '规则版本',
      'why.versionN': '版本 {v}',
      'why.skills': '技能',
      'why.noSkills': '任意坐席',
      'why.language': '语言',
      'why.priority': '优先级',
      'why.media': '媒体',
      'why.strategy': '分配策略',
      'why.preferred': '优先坐席',
      'why.strategyHint.least_occupied': '优先选择该媒体负载最低的坐席，其次是空闲最久的。',
      'why.strategyHint.longest_idle': '优先选择空闲最久的坐席，其次是负载最低的。',
      'why.strategyHint.best_skill': '优先选择所需技能等级总和最高的坐席，其次负载最低，再次空闲最久。',
      'why.chosen': '获得推送',
      'why.loadOf': '{media} {load}/{cap}',
      'why.skillScore': '技能分 {n}',
      'why.skillScoreTitle': '坐席在所需技能上的等级之和',
      'why.noneEligible': '当时没有符合条件的坐席。',
      'why.counts': '{eligible} 人符合 · {excluded} 人被排除',
      'why.asOf': '负载与剩余时间均为推送时（{when}）的数据。',

      'reason.not_available': '不可接待（{status}）',
      'reason.wrapping_up': '正在整理（剩 {left}）',
      'reason.at_capacity': '已满（{media} {load}/{cap}）',
      'reason.on_call': '通话中，暂不接聊天',
      'reason.in_chats': '正在聊天，暂不接电话',
      'reason.language': '不会{language}',
      'reason.skill': '技能 {name}：需要 ≥{required}，当前 {has}',
      'reason.skillNone': '技能 {name}：需要 ≥{required}，未掌握',
      'reason.declined_recently': '刚刚拒绝或错过了此任务',
      'reason.reserved_for_previous_agent': '为 {name} 保留（剩 {left}）'
    }
  });

  /* ------------------------------------------------------ knowledge base strings */
  i18n.register({
    en: {
      'nav.kb': 'Knowledge base',
      'kb.title': 'Knowledge base',
      'kb.sub': 'The questions and answers the bot uses. Only published entries answer customers; every change retrains the bot within seconds.',
      'kb.import': 'Import',
      'kb.export': 'Export',
      'kb.exportJson': 'JSON document',
      'kb.exportJsonHint': 'Entries and out-of-scope examples',
      'kb.exportCsv': 'Spreadsheet (CSV)',
      'kb.exportCsvHint': 'Opens in Excel and WPS, Chinese included',
      'kb.exported': 'Downloaded {name}.',
      'kb.exportFailed': 'Export failed: {msg}',
      'kb.new': 'New entry',
      'kb.importTitle': 'Import entries',
      'kb.importHint': 'A JSON or CSV file like the ones Export gives · up to 5 MB',
      'kb.importFile': 'File',
      'kb.importMode': 'Mode',
      'kb.importMerge': 'Merge',
      'kb.importMergeHint': "Adds the file's entries; an entry with the same id is replaced, the others stay.",
      'kb.importReplace': 'Replace everything',
      'kb.importReplaceHint': 'The file becomes the whole knowledge base: entries that are not in it are deleted.',
      'kb.importRun': 'Import',
      'kb.importing': 'Importing…',
      'kb.importNoFile': 'Choose a .json or .csv file first.',
      'kb.importTooBig': 'The file is larger than 5 MB.',
      'kb.importType': 'Only .json and .csv files can be imported.',
      'kb.importConfirm': 'Replace the whole knowledge base with “{file}”?',
      'kb.importConfirmSub': 'Every entry that is not in the file is deleted and the bot stops using it at once. Export a copy first if you are unsure.',
      'kb.importConfirmOk': 'Replace everything',
      'kb.imported': 'Imported {n} entries from “{file}” ({mode}). The knowledge base is at revision {rev}.',
      'kb.imported1': 'Imported 1 entry from “{file}” ({mode}). The knowledge base is at revision {rev}.',
      'kb.mode.merge': 'merged',
      'kb.mode.replace': 'replaced everything',
      'kb.importProblems': '{n} problems in “{file}” — nothing was imported',
      'kb.importProblems1': '1 problem in “{file}” — nothing was imported',
      'kb.importFailed': 'The import failed: {msg}',
      'kb.searchLabel': 'Search entries',
      'kb.searchPh': 'Search by id, title or question…',
      'kb.statusFilter': 'Status',
      'kb.tagFilter': 'Tag',
      'kb.allTags': 'All tags',
      'kb.all': 'All',
      'kb.status.published': 'Published',
      'kb.status.draft': 'Draft',
      'kb.status.archived': 'Archived',
      'kb.statusHint.published': 'Answers customers.',
      'kb.statusHint.draft': 'Being written — the bot does not use it yet.',
      'kb.statusHint.archived': 'Kept for the record — the bot no longer uses it.',
      'kb.count': '{n} entries',
      'kb.count1': '1 entry',
      'kb.countFiltered': 'Showing {n} of {total} entries',
      'kb.col.entry': 'Entry',
      'kb.col.status': 'Status · updated',
      'kb.col.tags': 'Tags',
      'kb.col.intent': 'Intent · skill',
      'kb.col.questions': 'Questions',
      'kb.qCount': '{zh} Chinese and {en} English question variants',
      'kb.by': 'by {who}',
      'kb.hitQuestion': 'Matching question',
      'kb.noSkill': 'no skill',
      'kb.loading': 'Loading the knowledge base…',
      'kb.loadFailed': "Can't load the knowledge base",
      'kb.unavailable': 'The knowledge base is not available on this server yet.',
      'kb.unavailableText': 'The /v1/kb endpoints are missing on this server.',
      'kb.empty': 'No entries yet',
      'kb.emptyText': 'Write the first question and answer, or import a file.',
      'kb.noMatch': 'No entry matches “{q}”',
      'kb.noMatchFiltered': 'No entry matches these filters',
      'kb.noMatchText': 'Search looks at ids, titles and question variants in both languages.',
      'kb.clearFilters': 'Clear filters',
      'kb.rev': 'Revision {rev}',
      'kb.revReady': 'Bot up to date',
      'kb.revTraining': 'Bot retraining…',
      'kb.revTitle': 'The knowledge base is at revision {rev}; the bot answering customers was trained on revision {bot}.',
      'kb.back': 'All entries',
      'kb.unsaved': 'Unsaved changes',
      'kb.delete': 'Delete',
      'kb.save': 'Save',
      'kb.create': 'Create entry',
      'kb.saving': 'Saving…',
      'kb.saveHint': 'Save (Ctrl + S)',
      'kb.shortcut': 'Ctrl + S saves',
      'kb.newTitle': 'New entry',
      'kb.meta': 'Updated {when} by {who}',
      'kb.metaNew': 'Not saved yet',
      'kb.loadingEntry': 'Loading the entry…',
      'kb.missing': 'There is no entry “{id}”',
      'kb.missingText': 'It may have been deleted. Go back to the list to pick another one.',
      'kb.f.id': 'Id',
      'kb.f.idHint': "a–z, 0–9, _ and -. It can't be changed later.",
      'kb.f.idFixed': "The id names the entry and can't be changed.",
      'kb.f.status': 'Status',
      'kb.f.intent': 'Intent',
      'kb.f.intentHint': "What routing rules see (intent == '…'). Empty: the id.",
      'kb.f.skill': 'Skill for a hand-off',
      'kb.f.skillHint': 'Needed by the agent if the customer then asks for a person.',
      'kb.f.tags': 'Tags',
      'kb.f.tagsHint': 'Comma separated, for finding and filtering entries.',
      'kb.sec.title': 'Title',
      'kb.sec.titleHint': 'A short name of the topic; the bot offers it when unsure (“Did you mean …?”).',
      'kb.sec.questions': 'Customer questions',
      'kb.sec.questionsHint': 'One per line, the way customers ask. The bot learns from these variants: the more varied, the better it understands.',
      'kb.sec.answer': 'Answer',
      'kb.sec.answerHint': 'What the bot replies, in at least one language; a customer gets the other language when theirs is missing.',
      'kb.sec.channels': 'Answers per channel',
      'kb.sec.channelsHint': 'Optional. On that channel they replace the answer above — e.g. a short SMS (one message: 70 Chinese or 160 Latin characters).',
      'kb.sec.keywords': 'Keywords',
      'kb.sec.keywordsHint': 'Optional, one per line. A keyword picks this entry when the bot is unsure (Chinese inside the text, English as whole words), so keep them specific to this entry.',
      'kb.lang.zh': 'Chinese',
      'kb.lang.en': 'English',
      'kb.nLines': '{n} variants',
      'kb.nLines1': '1 variant',
      'kb.nKeywords': '{n} keywords',
      'kb.nKeywords1': '1 keyword',
      'kb.chars': '{n} / {max}',
      'kb.smsFits': '{n} chars · 1 SMS',
      'kb.smsParts': '{n} chars · {parts} SMS',
      'kb.addChannel': 'Add an answer for a channel',
      'kb.addChannelOpt': '+ Answer for a channel…',
      'kb.removeChannel': 'Remove the {channel} answer',
      'kb.problems': '{n} problems — nothing was saved',
      'kb.problems1': '1 problem — nothing was saved',
      'kb.err.line': 'Line {n}: {msg}',
      'kb.err.tag': 'Tag {n}: {msg}',
      'kb.err.exists': 'An entry “{id}” already exists — choose another id.',
      'kb.err.changed': 'Someone else saved this entry after you opened it. Your changes were not stored.',
      'kb.err.changedSub': 'Your edits are still in the form: copy what you need, then load their version and apply your change again.',
      'kb.err.gone': 'This entry was deleted by someone else. Your changes were not stored.',
      'kb.err.goneSub': 'Your edits are still in the form; save them as a new entry if they are still needed.',
      'kb.err.loadLatest': 'Load the latest version',
      'kb.err.toList': 'Discard and go to the list',
      'kb.loadedLatest': 'Loaded the latest version.',
      'kb.saved': 'Saved “{title}” — revision {rev}. The bot learns it in a few seconds.',
      'kb.created': 'Created “{title}” — revision {rev}. The bot learns it in a few seconds.',
      'kb.saveFailed': 'Saving failed: {msg}',
      'kb.noChanges': 'Nothing to save — no changes.',
      'kb.confirmDelete': 'Delete “{title}” ({id})?',
      'kb.confirmDeleteSub': 'The bot stops using it at once; only an import can bring it back.',
      'kb.confirmDeleteOk': 'Delete entry',
      'kb.deleting': 'Deleting…',
      'kb.deleted': 'Deleted “{id}” — revision {rev}.',
      'kb.deleteFailed': 'Deleting failed: {msg}',
      'kb.leave': 'Leave without saving?',
      'kb.leaveSub': 'Your changes to this entry will be lost.',
      'kb.leaveOk': 'Discard changes',
      'kb.keepEditing': 'Keep editing',
      'kb.try.title': 'Try a question',
      'kb.try.sub': 'What the bot in force would answer a new conversation.',
      'kb.try.question': "Customer's question",
      'kb.try.ph': 'e.g. 退款多久能到账',
      'kb.try.language': 'Language',
      'kb.try.auto': 'Detect',
      'kb.try.channel': 'Channel',
      'kb.try.ask': 'Ask',
      'kb.try.asking': 'Asking…',
      'kb.try.empty': 'Type a question first.',
      'kb.try.idle': 'Ask the way a customer would: the reply, the entry it comes from and how sure the bot is appear here.',
      'kb.try.answered': 'Answers from the knowledge base',
      'kb.try.answeredSub': 'Intent {intent} · what routing rules see after a hand-off',
      'kb.try.unsure': 'Not sure — asks “did you mean …?”',
      'kb.try.unsureSub': 'No entry is confident enough to answer; the bot offers the closest topics.',
      'kb.try.unknown': "I don't know — out of scope",
      'kb.try.unknownSub': 'No entry is close enough; the bot asks the customer to rephrase.',
      'kb.try.smalltalk': 'Greeting or thanks',
      'kb.try.smalltalkSub': 'The bot answers politely; not counted as a question it missed.',
      'kb.try.handoff': 'Hands over to an agent',
      'kb.try.handoffSub': 'The customer asks for a person, or complains.',
      'kb.try.flow': 'Starts a flow',
      'kb.try.flowSub': 'Intent {intent}: the bot asks for the details it needs, then acts.',
      'kb.try.match': 'Matched entry',
      'kb.try.confidence': 'Confidence',
      'kb.try.confidenceOf': 'Confidence {pct}',
      'kb.try.reply': 'Bot reply',
      'kb.try.didYouMean': 'Did you mean',
      'kb.try.closest': 'Closest entries',
      'kb.try.open': 'Open “{title}”',
      'kb.try.keyword': 'keyword',
      'kb.try.keywordHint': 'One of its keywords is in the question',
      'kb.try.botRev': 'Bot revision {rev}',
      'kb.try.stale': 'The bot is still learning revision {rev} — ask again in a moment.',
      'kb.try.again': 'Ask again',
      'kb.try.failed': 'The question could not be tried: {msg}'
    },
    'zh-CN': {
      'nav.kb': '知识库',
      'kb.title': '知识库',
      'kb.sub': '机器人使用的问题与答案。只有已发布的条目会回答客户；每次修改后，机器人会在几秒内重新训练。',
      'kb.import': '导入',
      'kb.export': '导出',
      'kb.exportJson': 'JSON 文档',
      'kb.exportJsonHint': '条目及范围外示例',
      'kb.exportCsv': '表格（CSV）',
      'kb.exportCsvHint': '可用 Excel、WPS 打开，中文不乱码',
      'kb.exported': '已下载 {name}。',
      'kb.exportFailed': '导出失败：{msg}',
      'kb.new': '新建条目',
      'kb.importTitle': '导入条目',
      'kb.importHint': '与导出格式相同的 JSON 或 CSV 文件 · 最大 5 MB',
      'kb.importFile': '文件',
      'kb.importMode': '导入方式',
      'kb.importMerge': '合并',
      'kb.importMergeHint': '添加文件中的条目；ID 相同的条目会被替换，其他条目保留。',
      'kb.importReplace': '全部替换',
      'kb.importReplaceHint': '文件内容将成为完整的知识库：不在文件中的条目会被删除。',
      'kb.importRun': '导入',
      'kb.importing': '正在导入…',
      'kb.importNoFile': '请先选择 .json 或 .csv 文件。',
      'kb.importTooBig': '文件超过 5 MB。',
      'kb.importType': '只能导入 .json 或 .csv 文件。',
      'kb.importConfirm': '用“{file}”替换整个知识库？',
      'kb.importConfirmSub': '不在文件中的条目都会被删除，机器人会立即停止使用它们。如不确定，请先导出一份备份。',
      'kb.importConfirmOk': '全部替换',
      'kb.imported': '已从“{file}”导入 {n} 个条目（{mode}）。知识库当前为修订版本 {rev}。',
      'kb.imported1': '已从“{file}”导入 1 个条目（{mode}）。知识库当前为修订版本 {rev}。',
      'kb.mode.merge': '合并',
      'kb.mode.replace': '全部替换',
      'kb.importProblems': '“{file}”中有 {n} 个问题——未导入任何内容',
      'kb.importProblems1': '“{file}”中有 1 个问题——未导入任何内容',
      'kb.importFailed': '导入失败：{msg}',
      'kb.searchLabel': '搜索条目',
      'kb.searchPh': '按 ID、标题或问法搜索…',
      'kb.statusFilter': '状态',
      'kb.tagFilter': '标签',
      'kb.allTags': '全部标签',
      'kb.all': '全部',
      'kb.status.published': '已发布',
      'kb.status.draft': '草稿',
      'kb.status.archived': '已归档',
      'kb.statusHint.published': '会回答客户。',
      'kb.statusHint.draft': '编辑中——机器人暂不使用。',
      'kb.statusHint.archived': '仅作留存——机器人不再使用。',
      'kb.count': '共 {n} 个条目',
      'kb.count1': '共 1 个条目',
      'kb.countFiltered': '显示 {n} 个，共 {total} 个条目',
      'kb.col.entry': '条目',
      'kb.col.status': '状态 · 更新',
      'kb.col.tags': '标签',
      'kb.col.intent': '意图 · 技能',
      'kb.col.questions': '问法',
      'kb.qCount': '中文问法 {zh} 条，英文问法 {en} 条',
      'kb.by': '{who} 更新',
      'kb.hitQuestion': '匹配的问法',
      'kb.noSkill': '无技能',
      'kb.loading': '正在加载知识库…',
      'kb.loadFailed': '无法加载知识库',
      'kb.unavailable': '此服务器暂不提供知识库。',
      'kb.unavailableText': '此服务器缺少 /v1/kb 接口。',
      'kb.empty': '还没有条目',
      'kb.emptyText': '编写第一组问答，或导入文件。',
      'kb.noMatch': '没有与“{q}”匹配的条目',
      'kb.noMatchFiltered': '没有符合筛选条件的条目',
      'kb.noMatchText': '搜索范围包括两种语言的 ID、标题和问法。',
      'kb.clearFilters': '清除筛选',
      'kb.rev': '修订版本 {rev}',
      'kb.revReady': '机器人已是最新',
      'kb.revTraining': '机器人训练中…',
      'kb.revTitle': '知识库当前为修订版本 {rev}；正在回答客户的机器人基于修订版本 {bot} 训练。',
      'kb.back': '全部条目',
      'kb.unsaved': '有未保存的修改',
      'kb.delete': '删除',
      'kb.save': '保存',
      'kb.create': '创建条目',
      'kb.saving': '保存中…',
      'kb.saveHint': '保存（Ctrl + S）',
      'kb.shortcut': '按 Ctrl + S 保存',
      'kb.newTitle': '新建条目',
      'kb.meta': '{who} 于 {when} 更新',
      'kb.metaNew': '尚未保存',
      'kb.loadingEntry': '正在加载条目…',
      'kb.missing': '不存在条目“{id}”',
      'kb.missingText': '它可能已被删除。请返回列表选择其他条目。',
      'kb.f.id': 'ID',
      'kb.f.idHint': '仅限 a–z、0–9、_ 和 -，保存后不能修改。',
      'kb.f.idFixed': 'ID 是条目的标识，不能修改。',
      'kb.f.status': '状态',
      'kb.f.intent': '意图',
      'kb.f.intentHint': "路由规则看到的意图（intent == '…'）。留空则使用 ID。",
      'kb.f.skill': '转人工所需技能',
      'kb.f.skillHint': '客户看完答案后要求转人工时，客服需具备的技能。',
      'kb.f.tags': '标签',
      'kb.f.tagsHint': '用逗号分隔，便于查找和筛选。',
      'kb.sec.title': '标题',
      'kb.sec.titleHint': '主题的简短名称；机器人不确定时，会用它反问“您是想了解……？”。',
      'kb.sec.questions': '客户问法',
      'kb.sec.questionsHint': '每行一条，按客户的说法来写。机器人从这些问法中学习：问法越多样，理解越准确。',
      'kb.sec.answer': '答案',
      'kb.sec.answerHint': '机器人的回复，至少填写一种语言；缺少客户所用的语言时，会用另一种语言回复。',
      'kb.sec.channels': '分渠道答案',
      'kb.sec.channelsHint': '可选。在对应渠道上替代上方的答案——例如简短的短信（一条短信：70 个汉字或 160 个英文字符）。',
      'kb.sec.keywords': '关键词',
      'kb.sec.keywordsHint': '可选，每行一个。机器人不确定时，关键词会直接选中此条目（中文按包含匹配，英文按整词匹配），因此应只属于本条目。',
      'kb.lang.zh': '中文',
      'kb.lang.en': '英文',
      'kb.nLines': '{n} 条',
      'kb.nLines1': '1 条',
      'kb.nKeywords': '{n} 个',
      'kb.nKeywords1': '1 个',
      'kb.chars': '{n} / {max}',
      'kb.smsFits': '{n} 字 · 1 条短信',
      'kb.smsParts': '{n} 字 · {parts} 条短信',
      'kb.addChannel': '添加渠道答案',
      'kb.addChannelOpt': '+ 添加渠道答案…',
      'kb.removeChannel': '移除{channel}答案',
      'kb.problems': '{n} 个问题——未保存任何内容',
      'kb.problems1': '1 个问题——未保存任何内容',
      'kb.err.line': '第 {n} 行：{msg}',
      'kb.err.tag': '第 {n} 个标签：{msg}',
      'kb.err.exists': '已存在条目“{id}”——请换一个 ID。',
      'kb.err.changed': '在您打开此条目后，其他人保存了它。您的修改未被保存。',
      'kb.err.changedSub': '您的修改仍在表单中：请先复制需要的内容，再加载对方的版本并重新修改。',
      'kb.err.gone': '此条目已被其他人删除。您的修改未被保存。',
      'kb.err.goneSub': '您的修改仍在表单中；如仍需要，可另存为新条目。',
      'kb.err.loadLatest': '加载最新版本',
      'kb.err.toList': '放弃修改并返回列表',
      'kb.loadedLatest': '已加载最新版本。',
      'kb.saved': '已保存“{title}”——修订版本 {rev}。机器人将在几秒内学会。',
      'kb.created': '已创建“{title}”——修订版本 {rev}。机器人将在几秒内学会。',
      'kb.saveFailed': '保存失败：{msg}',
      'kb.noChanges': '没有需要保存的修改。',
      'kb.confirmDelete': '删除“{title}”（{id}）？',
      'kb.confirmDeleteSub': '机器人会立即停止使用它；之后只能通过导入恢复。',
      'kb.confirmDeleteOk': '删除条目',
      'kb.deleting': '正在删除…',
      'kb.deleted': '已删除“{id}”——修订版本 {rev}。',
      'kb.deleteFailed': '删除失败：{msg}',
      'kb.leave': '不保存就离开？',
      'kb.leaveSub': '对此条目的修改将会丢失。',
      'kb.leaveOk': '放弃修改',
      'kb.keepEditing': '继续编辑',
      'kb.try.title': '试问一个问题',
      'kb.try.sub': '当前生效的机器人会如何回答一个新会话。',
      'kb.try.question': '客户的问题',
      'kb.try.ph': '例如：where is my parcel',
      'kb.try.language': '语言',
      'kb.try.auto': '自动识别',
      'kb.try.channel': '渠道',
      'kb.try.ask': '提问',
      'kb.try.asking': '提问中…',
      'kb.try.empty': '请先输入问题。',
      'kb.try.idle': '像客户一样提问：这里会显示机器人的回复、答案来自哪个条目，以及机器人的把握程度。',
      'kb.try.answered': '从知识库中作答',
      'kb.try.answeredSub': '意图 {intent} · 转人工后路由规则看到的意图',
      'kb.try.unsure': '不确定——反问“您是想了解……？”',
      'kb.try.unsureSub': '没有足够把握的条目，机器人会列出最接近的主题。',
      'kb.try.unknown': '不知道——超出知识库范围',
      'kb.try.unknownSub': '没有足够接近的条目，机器人会请客户换个说法。',
      'kb.try.smalltalk': '问候或致谢',
      'kb.try.smalltalkSub': '机器人礼貌回应，不计为未能理解。',
      'kb.try.handoff': '转接人工客服',
      'kb.try.handoffSub': '客户要求人工服务，或在投诉。',
      'kb.try.flow': '启动流程',
      'kb.try.flowSub': '意图 {intent}：机器人会先询问所需信息，再执行操作。',
      'kb.try.match': '命中条目',
      'kb.try.confidence': '置信度',
      'kb.try.confidenceOf': '置信度 {pct}',
      'kb.try.reply': '机器人回复',
      'kb.try.didYouMean': '您是想了解',
      'kb.try.closest': '最接近的条目',
      'kb.try.open': '打开“{title}”',
      'kb.try.keyword': '关键词',
      'kb.try.keywordHint': '问题中包含它的关键词',
      'kb.try.botRev': '机器人修订版本 {rev}',
      'kb.try.stale': '机器人仍在学习修订版本 {rev}——请稍后再问一次。',
      'kb.try.again': '再问一次',
      'kb.try.failed': '无法试问：{msg}'
    }
  });

  /* ================================================================ state */
  var S = {
    session: null,
    section: null,
    live: { data: null, error: null, lastOk: 0, failures: 0, timer: null, inflight: false, sigs: {} },
    active: null,            // GET /v1/routing/rules
    activeState: 'idle',     // idle | loading | ok | error
    versions: null,          // GET /v1/routing/rules/versions
    versionsState: 'idle',   // idle | loading | ok | unavailable | error
    versionsError: null,
    audit: null,
    auditState: 'idle',
    auditError: null,
    overrides: null,         // GET /v1/routing/overrides (or /v1/queues overrides)
    overridesState: 'idle',  // idle | loading | ok | unavailable | error
    knownVersions: {},       // every version number seen in this session
    lastSaved: null,
    editor: {
      base: null,            // {kind: active|version|template|builtin|saved, version}
      savedText: '',
      problems: [],          // [{path, message}]
      problemsKind: null,    // validate | save
      problemsText: null,    // editor text the problems belong to
      jsonError: null,
      doc: null,
      busy: null
    },
    dry: { state: 'idle', report: null, error: null, problems: null, window: null },
    confirm: null            // {scope, ...}
  };

  var $ = function (id) { return document.getElementById(id); };
  var consoleView = $('console-view');

  /* -------------------------------------------------------------- helpers */
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function num(v) { return isNum(v) ? v : null; }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function arr(v) { return Array.isArray(v) ? v : []; }
  function obj(v) { return v && typeof v === 'object' && !Array.isArray(v) ? v : {}; }
  function has(o, k) { return o != null && Object.prototype.hasOwnProperty.call(o, k); }
  function sig(v) { try { return JSON.stringify(v); } catch (e) { return String(Math.random()); } }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function svgEl(tag, attrs) {
    var n = document.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs || {}).forEach(function (k) { if (attrs[k] != null) n.setAttribute(k, attrs[k]); });
    return n;
  }
  function lbl(prefix, key) { var k = prefix + key; var s = t(k); return s === k ? String(key) : s; }

  function fmtInt(n) {
    if (!isNum(n)) return '—';
    try { return new Intl.NumberFormat(i18n.lang).format(n); } catch (e) { return String(n); }
  }
  function fmtPct(r, digits) {
    if (!isNum(r)) return '—';
    var p = r * 100;
    if (digits == null) digits = (p !== 0 && Math.abs(p) < 10 && Math.round(p) !== p) ? 1 : 0;
    return p.toFixed(digits) + '%';
  }
  /** Seconds → "12 s", "4.5 s", "3 min 20 s", "2 h 5 min". */
  function fmtSecs(s) {
    if (!isNum(s)) return '—';
    if (s < 10 && Math.round(s) !== s) return t('common.secs', { n: (Math.round(s * 10) / 10).toFixed(1) });
    s = Math.round(s);
    if (s < 60) return t('common.secs', { n: s });
    if (s < 3600) { var m = Math.floor(s / 60), r = s % 60; return r ? t('common.minsSecs', { m: m, s: r }) : t('common.mins', { n: m }); }
    if (s < 86400) { var h = Math.floor(s / 3600), mm = Math.round((s % 3600) / 60); return mm ? t('common.hoursMins', { h: h, m: mm }) : t('common.hours', { n: h }); }
    return t('common.days', { n: Math.round(s / 86400) });
  }
  function fmtMs(ms) { return isNum(ms) ? fmtSecs(ms / 1000 >= 10 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10) : '—'; }
  function fmtWindow(secs) {
    if (!isNum(secs)) return '';
    if (secs % 3600 === 0) return t('common.hours', { n: secs / 3600 });
    return fmtSecs(secs);
  }
  function fmtDateTime(v, withYear) {
    if (v == null || v === '') return '—';
    var d = U.toDate(v);
    try {
      var o = { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false };
      if (withYear) o.year = 'numeric';
      return new Intl.DateTimeFormat(i18n.lang, o).format(d);
    } catch (e) { return d.toISOString().slice(0, 16).replace('T', ' '); }
  }
  function fmtWhen(v) {
    if (v == null || v === '') return '—';
    var d = U.toDate(v), now = new Date();
    if (d.toDateString() === now.toDateString()) return t('common.today') + ' ' + U.formatTime(d);
    return fmtDateTime(d);
  }
  function fmtAgo(v) {
    var secs = Math.max(0, Math.round((Date.now() - U.toDate(v).getTime()) / 1000));
    if (secs < 10) return t('common.justNow');
    return t('common.ago', { d: fmtSecs(secs < 3600 ? secs : Math.round(secs / 60) * 60) });
  }
  function fmtLeft(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s >= 3600) s = Math.round(s / 60) * 60;
    return fmtSecs(s);
  }

  function avatarNode(name, cls) {
    return el('span', { class: 'avatar' + (cls ? ' ' + cls : ''), 'aria-hidden': 'true', style: { background: U.avatarColor(name) }, text: U.initials(name) });
  }
  function queueColor(name) { return U.avatarColor('q:' + name); }
  function queueTag(name) {
    return el('span', { class: 'queue-tag' }, [el('span', { class: 'q-swatch', style: { background: queueColor(name || '') } }), String(name || '—')]);
  }
  function skillChip(name, level, missing) {
    var dots = null;
    if (isNum(level)) {
      dots = el('span', { class: 'skill-level', title: level + '/5', 'aria-label': level + '/5' });
      for (var i = 1; i <= 5; i++) dots.appendChild(el('i', { class: i <= level ? 'on' : '' }));
    }
    return el('span', { class: 'skill-chip' + (missing ? ' is-missing' : ''), 'data-testid': 'skill-chip' }, [String(name), dots]);
  }
  function needChip(need) {
    var n = obj(need);
    return el('span', { class: 'skill-chip' }, [String(n.name || '?'), isNum(n.min_level) ? el('span', { class: 'muted', text: '≥' + n.min_level }) : null]);
  }
  function emptyState(kind, title, text, extra) {
    var art = kind === 'unavailable'
      ? '<svg viewBox="0 0 56 56" fill="none" aria-hidden="true"><rect x="8" y="12" width="40" height="32" rx="8" fill="#f1f3f8" stroke="#cfd4e0" stroke-width="1.5"/><path d="M20 28h16" stroke="#adb5bd" stroke-width="2.5" stroke-linecap="round"/><circle cx="42" cy="40" r="9" fill="#fff4e6" stroke="#ffc078" stroke-width="1.5"/><path d="M42 36v4.5M42 43.5v.2" stroke="#e67700" stroke-width="2" stroke-linecap="round"/></svg>'
      : kind === 'error'
        ? '<svg viewBox="0 0 56 56" fill="none" aria-hidden="true"><circle cx="28" cy="28" r="20" fill="#fff0f6" stroke="#fcc2d7" stroke-width="1.5"/><path d="M28 19v11M28 36v.5" stroke="#d6336c" stroke-width="3" stroke-linecap="round"/></svg>'
        : '<svg viewBox="0 0 56 56" fill="none" aria-hidden="true"><rect x="9" y="14" width="38" height="28" rx="8" fill="#eef2ff"/><rect x="15" y="21" width="18" height="4" rx="2" fill="#bac8ff"/><rect x="15" y="29" width="26" height="4" rx="2" fill="#dbe4ff"/></svg>';
    var node = el('div', { class: 'empty' + (kind === 'unavailable' ? ' is-unavailable' : ''), 'data-testid': kind === 'unavailable' ? 'unavailable' : (kind === 'error' ? 'error-state' : 'empty-state') });
    node.innerHTML = art;
    node.appendChild(el('strong', { text: title }));
    if (text) node.appendChild(el('p', { text: text }));
    if (extra) node.appendChild(extra);
    return node;
  }
  function loadingRow(text) { return el('div', { class: 'loading-row', 'data-testid': 'loading' }, [el('span', { class: 'spinner' }), text || t('hist.loading')]); }

  var toast = U.toast;

  function setBusy(btn, busyKey) {
    if (!btn) return;
    var span = btn.querySelector('span[data-i18n]') || btn.querySelector('span');
    if (busyKey) {
      btn.disabled = true;
      btn.setAttribute('aria-busy', 'true');
      if (span) { span.setAttribute('data-prev', span.getAttribute('data-i18n') || ''); span.removeAttribute('data-i18n'); span.textContent = t(busyKey); }
    } else {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
      if (span && span.hasAttribute('data-prev')) { var k = span.getAttribute('data-prev'); span.setAttribute('data-i18n', k); span.textContent = t(k); span.removeAttribute('data-prev'); }
    }
  }

  /* ------------------------------------------------------------------ API */
  // A 401 while signed in ends the session: back to the login card (the call never settles).
  var api = U.apiClient(function () { return S.session && S.session.token; },
    function () { logout(t('login.err.expired')); });
  /** The server has no such route yet (404 "No route …" or 405). */
  function missingRoute(r) {
    if (!r) return false;
    if (r.status === 405 || r.status === 501) return true;
    if (r.status !== 404) return false;
    var m = r.data && r.data.error && r.data.error.message;
    return !m || /no route/i.test(m) || !!(r.data && r.data.raw);
  }
  function errMsg(r) {
    if (!r) return t('common.network');
    if (r.status === 403) return t('common.forbidden');
    return U.errorMessage(r);
  }
  /**
   * A person for an actor / created_by / updated_by value: the signed-in supervisor (named by
   * GET /v1/me), the name the API gave with it, a live agent, or a shortened id.
   */
  function who(id, name) {
    if (id == null || id === '') return '—';
    if (S.session && id === S.session.agent_id) return S.session.name || S.session.username || id;
    if (name) return name;
    var a = arr(S.live.data && S.live.data.agents).find(function (x) { return x && x.agent_id === id; });
    if (a && a.name) return a.name;
    id = String(id);
    return /^agt_[0-9a-f]{12,}$/i.test(id) ? id.slice(0, 8) + '…' + id.slice(-4) : id;
  }
  /** The login answer names no supervisor's own id: GET /v1/me does, with their display name. */
  function loadMe() {
    var session = S.session;
    if (!session || (session.agent_id && session.name)) return;
    api('GET', '/v1/me').then(function (r) {
      if (S.session !== session || !r.ok || !r.data || r.data.kind !== 'staff') return;
      session.agent_id = r.data.agent_id;
      session.name = r.data.name;
      login.store(session);
      renderMe(); renderActiveInfo(); renderAudit(); renderKbList();
    }).catch(function () { /* names fall back to ids */ });
  }
  function noteVersion(v) { if (isNum(v) && v > 0) S.knownVersions[v] = true; }
  function activeVersion() {
    var live = S.live.data;
    if (live && has(live, 'rules_version')) return live.rules_version || null;
    if (S.active && isNum(S.active.version) && S.active.version > 0) return S.active.version;
    if (S.versions && has(S.versions, 'active')) return S.versions.active || null;
    return null;
  }

  /* ================================================================ login */
  // The card itself is /ui/common/login.js; only supervisors are let in.
  var login = SB.login.mount({
    view: $('login-view'),
    app: consoleView,
    storageKey: SESSION_KEY,
    role: 'supervisor',
    wrongRole: 'login.err.notSupervisor',
    onSignIn: function (s) { S.session = s; enterConsole(); }
  });

  function showLogin(message) {
    document.title = t('doc.title');
    login.show(message);
  }

  function enterConsole() {
    login.hide();
    renderMe();
    loadMe();
    renderLive();
    renderActiveInfo();
    startPolling();
    loadActive();
    route();
  }

  function logout(message) {
    stopPolling();
    closeWhy(true);
    S.session = null;
    login.store(null);
    S.live = { data: null, error: null, lastOk: 0, failures: 0, timer: null, inflight: false, sigs: {} };
    S.active = null; S.activeState = 'idle';
    S.versions = null; S.versionsState = 'idle';
    S.audit = null; S.auditState = 'idle';
    S.overrides = null; S.overridesState = 'idle'; S.overridesApi = null;
    S.editor.base = null; S.editor.problems = []; S.editor.jsonError = null;
    S.dry = { state: 'idle', report: null, error: null, problems: null, window: null };
    kbReset();
    S.section = null;
    showLogin(message);
  }
  $('logout').addEventListener('click', function () { logout(); });

  function renderMe() {
    var name = (S.session && (S.session.name || S.session.username)) || '—';
    var agents = S.live.data && arr(S.live.data.agents);
    var me = agents && S.session && agents.find(function (a) { return a && a.agent_id === S.session.agent_id; });
    if (me && me.name) name = me.name;
    else if (/^[a-z]/.test(name)) name = name.charAt(0).toUpperCase() + name.slice(1);
    $('me-name').textContent = name;
    var av = $('me-avatar');
    av.textContent = U.initials(name);
    av.style.background = U.avatarColor(name);
  }

  /* ============================================================= sections */
  var onEnter = {};
  function route() {
    var h = (location.hash || '').replace(/^#/, '').split('/');
    var name = SECTIONS.indexOf(h[0]) !== -1 ? h[0] : 'live';
    if (!kbMayLeave(name, h.slice(1))) return;   // unsaved knowledge-base edits: asks first
    showSection(name, h.slice(1));
  }
  window.addEventListener('hashchange', function () { if (S.session) route(); });

  function showSection(name, args) {
    var changed = S.section !== name;
    S.section = name;
    if (name !== 'live') closeWhy(true);
    document.querySelectorAll('[data-section]').forEach(function (s) { s.hidden = s.getAttribute('data-section') !== name; });
    document.querySelectorAll('[data-nav]').forEach(function (a) {
      if (a.getAttribute('data-nav') === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
    updateTitle();
    if (changed) $('content').scrollTop = 0;
    if (onEnter[name]) onEnter[name](args || [], changed);
  }
  function go(name) {
    if (location.hash === '#' + name) showSection(name);
    else location.hash = '#' + name;
  }
  function updateTitle() {
    var waiting = S.live.data && num(S.live.data.waiting);
    var sec = S.section ? t('nav.' + S.section) + ' · ' : '';
    document.title = (waiting ? '(' + waiting + ') ' : '') + sec + t('doc.title');
  }

  /** The topbar pill and the nav footer: which version routes right now. */
  function renderActiveInfo() {
    var v = activeVersion();
    var pill = $('active-version');
    pill.setAttribute('data-version', v ? String(v) : '0');
    $('active-version-text').textContent = v ? t('nav.footVersion', { v: v }) : t('nav.footBuiltin');
    var foot = clear($('nav-foot-text'));
    if (v) {
      foot.appendChild(el('strong', { text: t('nav.footVersion', { v: v }) }));
      var a = S.active && S.active.version === v ? S.active : null;
      if (a && (a.activated_at || a.activated_by)) {
        foot.appendChild(el('br'));
        foot.appendChild(document.createTextNode(t('nav.footActivated', { when: fmtWhen(a.activated_at), who: who(a.activated_by) })));
      }
    } else {
      foot.textContent = t('nav.footBuiltin');
    }
  }
  $('active-version').addEventListener('click', function () { go('history'); });

  function setNavCount(id, n) {
    var b = $(id);
    if (n) { b.textContent = n > 99 ? '99+' : String(n); b.hidden = false; } else b.hidden = true;
  }

  /* ================================================================= live */
  function startPolling() { stopPolling(); S.live.failures = 0; setLivePill('connecting'); pollNow(); }
  function stopPolling() { clearTimeout(S.live.timer); S.live.timer = null; }
  function schedulePoll(ms) { clearTimeout(S.live.timer); S.live.timer = setTimeout(pollNow, ms); }

  function pollNow() {
    if (!S.session) return;
    if (document.hidden) { setLivePill('paused'); schedulePoll(POLL_MS); return; }
    if (S.live.inflight) return;
    S.live.inflight = true;
    var session = S.session;
    api('GET', '/v1/queues').then(function (r) {
      if (session !== S.session) return;
      if (r.ok && r.data) {
        var prevVersion = activeVersion();
        S.live.data = r.data; S.live.error = null; S.live.lastOk = Date.now(); S.live.failures = 0;
        setLivePill('live');
        renderLive();
        if (has(r.data, 'rules_version')) {
          noteVersion(r.data.rules_version);
          if (prevVersion !== activeVersion()) onActiveChanged();
        }
      } else {
        liveFailed(errMsg(r));
      }
    }).catch(function () {
      if (session === S.session) liveFailed(t('common.network'));
    }).then(function () {
      S.live.inflight = false;
      if (session === S.session) schedulePoll(S.live.failures ? Math.min(10000, POLL_MS * (1 + S.live.failures)) : POLL_MS);
    });
  }
  function liveFailed(msg) {
    S.live.failures++;
    S.live.error = msg;
    if (S.live.failures >= 2 || !S.live.data) setLivePill(S.live.data ? 'offline' : 'connecting');
    renderLive();
  }
  function setLivePill(state) {
    $('live-pill').setAttribute('data-state', state);
    $('live-text').textContent = t('live.pill.' + state);
  }
  document.addEventListener('visibilitychange', function () { if (!document.hidden && S.session) pollNow(); });

  function fmtClock(ms) {
    var d = new Date(ms);
    try { return new Intl.DateTimeFormat(i18n.lang, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d); }
    catch (e) { return d.toTimeString().slice(0, 8); }
  }

  function slOf(q) {
    if (isNum(q.service_level)) return q.service_level;
    if (isNum(q.answered) && q.answered > 0 && isNum(q.answered_within_sl)) return q.answered_within_sl / q.answered;
    return null;
  }
  function slClass(v) { return !isNum(v) ? '' : v >= 0.8 ? '' : v >= 0.6 ? 'is-warn' : 'is-bad'; }
  function slCell(v) {
    if (!isNum(v)) return el('span', { class: 'dash', text: '—' });
    var bar = el('span', { class: 'sl-bar ' + slClass(v) }, [el('span', { style: { width: clamp(v * 100, 0, 100) + '%' } })]);
    return el('div', { class: 'sl' }, [bar, el('span', { class: 'sl-val', text: fmtPct(v, 0) })]);
  }

  function renderLive() {
    var d = S.live.data;
    var sub = $('live-sub');
    if (!d) {
      sub.textContent = S.live.error ? t('live.errorText', { msg: S.live.error }) : t('live.loading');
      if (S.live.error) renderLiveError(); else renderLiveLoading();
      return;
    }
    sub.textContent = S.live.error ? t('live.updatedStale', { time: fmtClock(S.live.lastOk) }) : t('live.updated', { time: fmtClock(S.live.lastOk) });
    sub.classList.toggle('is-stale', !!S.live.error);
    $('section-live').classList.toggle('is-stale', !!S.live.error);
    var slSecs = num(d.service_level_secs);
    var windowSecs = num(d.stats_window_secs);
    var queues = Array.isArray(d.queues) ? d.queues.filter(Boolean) : null;
    var agents = arr(d.agents).filter(Boolean);

    // ---- stat tiles
    $('stat-waiting').textContent = fmtInt(num(d.waiting) || 0);
    $('stat-offered').textContent = fmtInt(num(d.offered) || 0);
    $('stat-longest').textContent = fmtMs(num(d.longest_wait_ms) || 0);
    var avail = agents.filter(function (a) { return a.status === 'available'; }).length;
    var statAgents = $('stat-agents');
    clear(statAgents).appendChild(document.createTextNode(String(avail)));
    if (agents.length) statAgents.appendChild(el('small', { text: '/ ' + agents.length }));
    var overall = isNum(d.service_level) ? d.service_level : null;
    if (overall == null && queues) {
      var ans = 0, within = 0, any = false;
      queues.forEach(function (q) { if (isNum(q.answered) && isNum(q.answered_within_sl)) { ans += q.answered; within += q.answered_within_sl; any = true; } });
      if (any && ans > 0) overall = within / ans;
    }
    $('stat-sl-label').textContent = slSecs != null ? t('live.sl', { s: slSecs }) : t('live.slPlain');
    if (slSecs != null && windowSecs != null) $('stat-sl-label').title = t('live.slHint', { s: slSecs, window: fmtWindow(windowSecs) });
    $('stat-sl').textContent = overall != null ? fmtPct(overall, 0) : '—';
    var tile = function (id, cls) { var s = $(id).closest('.stat'); s.classList.remove('is-warn', 'is-bad', 'is-good'); if (cls) s.classList.add(cls); };
    var longest = num(d.longest_wait_ms) || 0;
    tile('stat-longest', slSecs != null && longest > slSecs * 1000 ? (longest > slSecs * 3000 ? 'is-bad' : 'is-warn') : null);
    tile('stat-waiting', (num(d.waiting) || 0) > 0 && avail === 0 && agents.length ? 'is-warn' : null);
    tile('stat-sl', overall == null ? null : overall >= 0.8 ? 'is-good' : overall >= 0.6 ? 'is-warn' : 'is-bad');
    tile('stat-agents', agents.length && !avail ? 'is-warn' : null);
    setNavCount('nav-count-live', num(d.waiting) || 0);
    updateTitle();
    renderActiveInfo();
    renderMe();

    // ---- queues
    $('queues-hint').textContent = windowSecs != null ? t('live.windowHint', { window: fmtWindow(windowSecs) }) : '';
    var qs = sig([queues, d.waiting, d.offered, d.longest_wait_ms, slSecs, i18n.lang]);
    if (S.live.sigs.queues !== qs) { S.live.sigs.queues = qs; renderQueues(d, queues, slSecs); }

    // ---- waiting tasks
    renderTasks(d);

    // ---- agents
    $('agents-hint').textContent = agents.length ? t('live.agentsHint', { available: avail, total: agents.length }) : '';
    var as = sig([agents, i18n.lang]);
    if (S.live.sigs.agents !== as) { S.live.sigs.agents = as; renderAgents(agents); }

    // ---- overrides
    // The live answer lists overrides briefly; GET /v1/routing/overrides has reason, author and
    // start: reload it whenever the set of ids in force changes.
    if (S.overridesApi === false) {
      if (Array.isArray(d.overrides) && sig(S.overrides) !== sig(d.overrides)) { S.overrides = d.overrides; S.overridesState = 'ok'; renderOverrideLists(); }
    } else if (S.overridesApi == null) {
      if (S.overridesState !== 'loading') loadOverrides();
    } else if (Array.isArray(d.overrides) && S.overridesState !== 'loading') {
      var ids = function (l) { return arr(l).map(function (o) { return o && o.id; }).sort().join(','); };
      if (ids(d.overrides) !== ids(S.overrides)) loadOverrides();
    }
  }

  function renderLiveLoading() {
    var body = clear($('queues-body'));
    for (var i = 0; i < 3; i++) {
      var tr = el('tr', { class: 'skeleton-row' });
      for (var c = 0; c < 8; c++) tr.appendChild(el('td', {}, [el('div', { class: 'skeleton', style: { height: '14px', width: c === 0 ? '90px' : '48px', marginLeft: c === 0 ? '0' : 'auto' } })]));
      body.appendChild(tr);
    }
    clear($('agent-list')).appendChild(loadingRow(t('live.loading')));
    clear($('live-overrides'));
    renderTasksLoading();
  }
  function renderLiveError() {
    var body = clear($('queues-body'));
    body.appendChild(el('tr', {}, [el('td', { colspan: '8' }, [emptyState('error', t('live.error'), t('live.errorText', { msg: S.live.error }))])]));
    clear($('agent-list'));
    clear($('live-overrides'));
    clear($('tasks-body')); $('tasks-count').hidden = true; $('tasks-more').hidden = true;
    S.live.sigs = {};
  }

  function renderQueues(d, queues, slSecs) {
    var body = clear($('queues-body'));
    var rows = queues;
    if (!rows) {
      rows = [{ queue: null, waiting: d.waiting, offered: d.offered, longest_wait_ms: d.longest_wait_ms, _total: true }];
    }
    if (!rows.length) {
      body.appendChild(el('tr', {}, [el('td', { colspan: '8' }, [emptyState('empty', t('live.noQueues'), t('live.noQueuesText'))])]));
      return;
    }
    rows.slice().sort(function (a, b) {
      return (num(b.waiting) || 0) - (num(a.waiting) || 0) || String(a.queue).localeCompare(String(b.queue));
    }).forEach(function (q) {
      var waiting = num(q.waiting) || 0, longest = num(q.longest_wait_ms);
      var hot = slSecs != null && longest != null && longest > slSecs * 1000;
      var wcls = waiting > 0 ? (hot ? 'waiting-hot' : 'waiting-warm') : '';
      var abRate = isNum(q.abandonment_rate) ? q.abandonment_rate
        : (isNum(q.abandoned) && isNum(q.answered) && q.abandoned + q.answered > 0 ? q.abandoned / (q.abandoned + q.answered) : null);
      var nameCell = q._total
        ? el('span', { class: 'q-name', title: t('live.queuesTotalHint') }, [t('live.queuesTotal'), el('span', { class: 'badge', text: '?' })])
        : el('span', { class: 'q-name' }, [el('span', { class: 'q-swatch', style: { background: queueColor(q.queue) } }), String(q.queue || '—')]);
      var abCell = el('td', { class: 'num' });
      if (abRate != null) {
        abCell.appendChild(el('span', { class: abRate >= 0.1 ? 'waiting-hot' : abRate >= 0.05 ? 'waiting-warm' : '', text: fmtPct(abRate) }));
        if (isNum(q.abandoned)) abCell.appendChild(el('span', { class: 'count-note', title: t('col.abandoned'), text: fmtInt(q.abandoned) }));
      } else abCell.appendChild(el('span', { class: 'dash', text: '—' }));
      body.appendChild(el('tr', { 'data-testid': 'queue-row', 'data-queue': q.queue || '' }, [
        el('td', {}, [nameCell]),
        el('td', { class: 'num' }, [el('span', { class: wcls, text: fmtInt(waiting) })]),
        el('td', { class: 'num', text: fmtInt(num(q.offered) || 0) }),
        el('td', { class: 'num' }, [longest != null && longest > 0 ? el('span', { class: hot ? 'waiting-hot' : '', text: fmtMs(longest) }) : el('span', { class: 'dash', text: '—' })]),
        el('td', {}, [slCell(slOf(q))]),
        el('td', { class: 'num', text: isNum(q.answered) ? fmtInt(q.answered) : '—' }),
        abCell,
        el('td', { class: 'num', text: isNum(q.fallbacks) ? fmtInt(q.fallbacks) : '—' })
      ]));
    });
  }

  function agentSkills(a) {
    var s = a.skills;
    if (Array.isArray(s)) return s.map(function (x) { return typeof x === 'string' ? { name: x, level: null } : { name: x.name, level: num(x.level) }; });
    return Object.keys(obj(s)).sort().map(function (k) { return { name: k, level: num(s[k]) }; });
  }
  var STATUS_ORDER = { available: 0, wrap_up: 1, away: 2, offline: 3 };
  function renderAgents(agents) {
    var list = clear($('agent-list'));
    if (!agents.length) { list.appendChild(emptyState('empty', t('live.noAgents'), t('live.noAgentsText'))); return; }
    agents.slice().sort(function (a, b) {
      var sa = has(STATUS_ORDER, a.status) ? STATUS_ORDER[a.status] : 4, sb = has(STATUS_ORDER, b.status) ? STATUS_ORDER[b.status] : 4;
      return sa - sb || (num(b.load) || 0) - (num(a.load) || 0) || String(a.name || a.agent_id).localeCompare(String(b.name || b.agent_id));
    }).forEach(function (a) {
      var name = a.name || a.agent_id || '?';
      var status = String(a.status || 'offline');
      var load = num(a.load) || 0, cap = num(a.capacity);
      var pillText = lbl('status.', status);
      if (status === 'wrap_up' && isNum(a.wrap_up_ends_in_ms)) pillText += ' · ' + t('live.wrapEnds', { s: Math.ceil(a.wrap_up_ends_in_ms / 1000) });
      var pill = el('span', { class: 'pill pill-' + status.replace(/[^a-z_]/g, ''), 'data-testid': 'agent-status', 'data-status': status, text: pillText });
      var bar = el('div', { class: 'load-bar' + (cap && load >= cap ? ' is-full' : ''), role: 'img', 'aria-label': load + '/' + (cap || '?') });
      var segs = cap && cap <= 12 ? cap : 10;
      var on = cap ? Math.round(clamp(load / cap, 0, 1) * segs) : 0;
      for (var i = 0; i < segs; i++) bar.appendChild(el('i', { class: i < on ? 'on' : '' }));
      var occ = num(a.occupancy);
      var loadBox = el('div', { class: 'load' }, [
        el('div', { class: 'load-top' }, [
          el('span', {}, [t('live.load') + ' ', el('strong', { text: load + (cap != null ? '/' + cap : '') })]),
          el('span', { title: t('live.occupancy') }, [occ != null ? t('live.occupancy') + ' ' : '', occ != null ? el('strong', { text: fmtPct(occ, 0) }) : (cap && load >= cap ? el('strong', { text: t('live.full') }) : '')])
        ]),
        bar
      ]);
      var skills = agentSkills(a);
      var chips = el('div', { class: 'chips' }, skills.length ? skills.map(function (s) { return skillChip(s.name, s.level); }) : [el('span', { class: 'muted', text: t('live.noSkills') })]);
      list.appendChild(el('li', { class: 'agent is-' + status, 'data-testid': 'agent-row', 'data-agent-id': a.agent_id || '' }, [
        avatarNode(name),
        el('div', { style: { minWidth: '0' } }, [el('div', { class: 'agent-name', text: name }), el('div', { class: 'agent-sub' }, [pill])]),
        loadBox,
        chips
      ]));
    });
  }

  /* ======================================================== waiting tasks */
  /** "tech≥3" (or "tech>=3", "tech") → {name, min_level}. */
  function parseNeed(s) {
    var m = /^(.*?)\s*(?:≥|>=)\s*(\d+)\s*$/.exec(String(s));
    return m ? { name: m[1], min_level: Number(m[2]) } : { name: String(s), min_level: null };
  }
  function agentName(id) { return id ? who(id) : '—'; }
  function taskState(tk) {
    if (tk.offered_to) return { kind: 'offered', agent: tk.offered_to };
    if (tk.reserved_for) return { kind: 'reserved', agent: tk.reserved_for };
    return { kind: 'waiting', agent: null };
  }
  function taskStatePill(tk) {
    var st = taskState(tk);
    var text = st.kind === 'waiting' ? t('tasks.state.waiting') : t('tasks.state.' + st.kind, { name: agentName(st.agent) });
    var pill = el('span', { class: 'pill task-pill task-pill-' + st.kind, 'data-testid': 'task-state', 'data-state': st.kind, 'data-agent-id': st.agent || '' });
    if (st.agent) pill.appendChild(avatarNode(agentName(st.agent), 'avatar-xs'));
    pill.appendChild(el('span', { text: text }));
    return pill;
  }
  function channelBadge(ch) {
    return el('span', { class: 'chan chan-' + String(ch || '').replace(/[^a-z]/g, ''), text: lbl('channel.', ch || '—') });
  }
  function ruleChip(rule) {
    return rule
      ? el('code', { class: 'rule-chip', title: t('why.rule') + ' ' + rule, text: rule })
      : el('span', { class: 'badge', title: t('tasks.builtinTitle'), text: t('tasks.builtin') });
  }
  function fmtWait(ms) { return fmtSecs(Math.max(0, Math.floor(ms / 1000))); }
  function waitClass(ms) {
    var sl = num(S.live.data && S.live.data.service_level_secs);
    if (sl == null) return '';
    return ms > sl * 3000 ? 'waiting-hot' : ms > sl * 1000 ? 'waiting-warm' : '';
  }
  function tickWaits() {
    var now = Date.now();
    document.querySelectorAll('[data-since]').forEach(function (n) {
      var ms = now - Number(n.getAttribute('data-since'));
      n.textContent = fmtWait(ms);
      n.className = 'task-wait ' + waitClass(ms);
    });
  }
  setInterval(tickWaits, 1000);

  function renderTasksLoading() {
    var body = clear($('tasks-body'));
    $('tasks-count').hidden = true; $('tasks-more').hidden = true;
    for (var i = 0; i < 2; i++) {
      var tr = el('tr', { class: 'skeleton-row' });
      for (var c = 0; c < 11; c++) tr.appendChild(el('td', {}, [el('div', { class: 'skeleton', style: { height: '14px', width: c === 1 ? '120px' : c === 0 ? '14px' : '54px' } })]));
      body.appendChild(tr);
    }
  }

  function renderTasks(d) {
    var body = $('tasks-body');
    if (!has(d, 'tasks')) {
      if (S.live.sigs.tasks !== 'unavailable') {
        S.live.sigs.tasks = 'unavailable';
        clear(body).appendChild(el('tr', {}, [el('td', { colspan: '11' }, [emptyState('unavailable', t('common.unavailable'), t('tasks.unavailable'))])]));
      }
      return;
    }
    var tasks = arr(d.tasks).filter(function (x) { return x && x.task_id; });
    var total = Math.max(num(d.waiting) || 0, tasks.length);
    var cnt = $('tasks-count');
    cnt.hidden = !total; cnt.textContent = fmtInt(total);
    var more = $('tasks-more');
    more.hidden = !(tasks.length && total > tasks.length);
    more.textContent = t('tasks.more', { shown: fmtInt(tasks.length), total: fmtInt(total) });
    // waited_ms grows with every poll: it is not part of the signature; the ticker moves it.
    var names = {};
    arr(d.agents).forEach(function (a) { if (a && a.agent_id) names[a.agent_id] = a.name; });
    var s = sig([tasks.map(function (x) {
      return [x.task_id, x.customer_name, x.channel, x.intent, x.queue, x.rule, x.priority, x.skills, x.offered_to, x.reserved_for];
    }), names, i18n.lang]);
    var now = Date.now();
    if (S.live.sigs.tasks !== s) {
      S.live.sigs.tasks = s;
      clear(body);
      if (!tasks.length) {
        body.appendChild(el('tr', { class: 'is-empty' }, [el('td', { colspan: '11' }, [emptyState('empty', t('tasks.empty'), t('tasks.emptyText'))])]));
      }
      tasks.forEach(function (tk, idx) { body.appendChild(taskRow(tk, idx)); });
    }
    tasks.forEach(function (tk) {
      var row = body.querySelector('tr[data-task-id="' + cssEscape(tk.task_id) + '"] [data-since]');
      if (row && isNum(tk.waited_ms)) row.setAttribute('data-since', String(now - tk.waited_ms));
      if (WHY.id === tk.task_id) whyRowChanged(tk);
    });
    if (WHY.id && !tasks.some(function (x) { return x.task_id === WHY.id; })) whyRowChanged(null);
    tickWaits();
  }
  function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, '\\$&'); }

  function taskRow(tk, idx) {
    var name = tk.customer_name || t('card.unnamed');
    var skills = arr(tk.skills).map(parseNeed);
    var since = Date.now() - (num(tk.waited_ms) || 0);
    var why = el('button', {
      type: 'button', class: 'btn btn-ghost btn-sm why-btn', 'data-testid': 'task-why', 'aria-haspopup': 'dialog',
      'aria-label': t('tasks.whyLabel', { name: name }),
      onclick: function () { openWhy(tk, why); }
    }, [el('span', { text: t('tasks.why') })]);
    var shortId = String(tk.task_id).length > 16 ? String(tk.task_id).slice(0, 8) + '…' + String(tk.task_id).slice(-5) : String(tk.task_id);
    return el('tr', { class: 'task-row' + (WHY.id === tk.task_id ? ' is-open' : ''), 'data-testid': 'task-row', 'data-task-id': tk.task_id, 'data-state': taskState(tk).kind }, [
      el('td', { class: 'num col-rank' }, [el('span', { class: 'rank', text: String(idx + 1) })]),
      el('td', {}, [el('div', { class: 'cust' }, [
        avatarNode(name, 'avatar-sm'),
        el('div', { class: 'cust-text' }, [
          el('span', { class: 'cust-name', 'data-testid': 'task-customer', text: name }),
          el('span', { class: 'task-id', title: tk.task_id, text: shortId })
        ])
      ])]),
      el('td', {}, [channelBadge(tk.channel)]),
      el('td', {}, [tk.intent ? el('span', { class: 'intent', text: tk.intent }) : el('span', { class: 'dash', text: '—' })]),
      el('td', {}, [queueTag(tk.queue)]),
      el('td', { 'data-testid': 'task-rule' }, [ruleChip(tk.rule)]),
      el('td', { class: 'num' }, [el('span', { class: 'prio' + ((num(tk.priority) || 0) > 0 ? ' is-raised' : ''), text: fmtInt(num(tk.priority) || 0) })]),
      el('td', {}, [skills.length ? el('div', { class: 'chips' }, skills.map(needChip)) : el('span', { class: 'muted', text: t('tasks.anyAgent') })]),
      el('td', { class: 'num' }, [el('span', { class: 'task-wait', 'data-testid': 'task-wait', 'data-since': String(since), text: fmtWait(Date.now() - since) })]),
      el('td', {}, [taskStatePill(tk)]),
      el('td', { class: 'col-action' }, [why])
    ]);
  }

  /* ======================================================== Why? drawer */
  // GET /v1/tasks/{id}/routing explains the last offer of a task: the rule (overflow step,
  // override) and queue, the target, and every agent — eligible ones ranked by the strategy,
  // excluded ones with each reason.
  var WHY = { id: null, task: null, listed: false, state: 'idle', data: null, error: null, opener: null, seq: 0, autoFor: null, autoTries: 0, rowSig: null };
  var whyDrawer = $('why-drawer'), whyBackdrop = $('why-backdrop');

  function openWhy(tk, opener) {
    var again = WHY.id === tk.task_id;
    WHY.id = tk.task_id; WHY.task = Object.assign({}, tk); WHY.listed = true; WHY.opener = opener || null;
    WHY.rowSig = sig(taskState(tk)); WHY.autoTries = 0;
    if (!again) { WHY.data = null; WHY.state = 'loading'; WHY.error = null; }
    whyDrawer.hidden = false; whyBackdrop.hidden = false;
    document.body.classList.add('has-drawer');
    markOpenRow();
    renderWhy();
    loadWhy(again);
    setTimeout(function () { $('why-close').focus(); }, 0);
  }
  function closeWhy(noFocus) {
    if (!WHY.id) return;
    var id = WHY.id;
    WHY.id = null; WHY.seq++; WHY.state = 'idle';
    whyDrawer.hidden = true; whyBackdrop.hidden = true;
    document.body.classList.remove('has-drawer');
    markOpenRow();
    if (noFocus || consoleView.hidden) return;
    var back = WHY.opener && document.contains(WHY.opener) ? WHY.opener
      : document.querySelector('tr[data-task-id="' + cssEscape(id) + '"] [data-testid=task-why]');
    if (back) back.focus();
  }
  function markOpenRow() {
    document.querySelectorAll('#tasks-body tr[data-task-id]').forEach(function (tr) {
      var open = tr.getAttribute('data-task-id') === WHY.id;
      tr.classList.toggle('is-open', open);
      var b = tr.querySelector('[data-testid=task-why]');
      if (b) b.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }
  function loadWhy(silent) {
    var id = WHY.id, seq = ++WHY.seq;
    if (!id) return;
    if (!silent || WHY.state !== 'ok') { WHY.state = 'loading'; renderWhy(); } else whyDrawer.classList.add('is-refreshing');
    api('GET', '/v1/tasks/' + encodeURIComponent(id) + '/routing').then(function (r) {
      if (seq !== WHY.seq || WHY.id !== id) return;
      if (r.ok && r.data) {
        WHY.state = 'ok'; WHY.data = r.data; WHY.error = null;
        WHY.autoFor = r.data.last_offer ? r.data.last_offer.offered_to || null : null;
      } else if (missingRoute(r)) WHY.state = 'unavailable';
      else if (r.status === 404) WHY.state = 'notfound';
      else { WHY.state = 'error'; WHY.error = errMsg(r); }
    }).catch(function () {
      if (seq !== WHY.seq || WHY.id !== id) return;
      WHY.state = 'error'; WHY.error = t('common.network');
    }).then(function () {
      if (seq !== WHY.seq || WHY.id !== id) return;
      whyDrawer.classList.remove('is-refreshing');
      renderWhy();
    });
  }
  /** The open task's row changed (or left the list): follow it, re-asking the server when a new offer was made. */
  function whyRowChanged(tk) {
    if (tk) {
      WHY.task = Object.assign({}, tk);
      WHY.listed = true;
    } else if (WHY.listed) {
      WHY.listed = false;             // answered, abandoned or fallen back: ask for its status
      if (WHY.state === 'ok') loadWhy(true);
      return;
    } else return;
    var rs = sig(taskState(tk));
    if (WHY.state === 'ok' && tk.offered_to && tk.offered_to !== WHY.autoFor && WHY.autoTries < 4) {
      WHY.autoFor = tk.offered_to; WHY.autoTries++;
      loadWhy(true);
    } else if (rs !== WHY.rowSig && WHY.state === 'ok') {
      renderWhy();
    }
    WHY.rowSig = rs;
  }

  $('why-close').addEventListener('click', function () { closeWhy(); });
  $('why-refresh').addEventListener('click', function () { if (WHY.id) loadWhy(true); });
  whyBackdrop.addEventListener('click', function () { closeWhy(); });
  document.addEventListener('keydown', function (ev) {
    if (!WHY.id) return;
    if (ev.key === 'Escape' || ev.key === 'Esc') { ev.preventDefault(); closeWhy(); return; }
    if (ev.key !== 'Tab') return;
    // keep the focus inside the drawer while it is open
    var f = Array.prototype.filter.call(whyDrawer.querySelectorAll('button, [href], [tabindex]:not([tabindex="-1"]), summary'), function (n) { return !n.disabled && n.offsetParent !== null; });
    if (!f.length) return;
    var first = f[0], last = f[f.length - 1];
    if (!whyDrawer.contains(document.activeElement)) { ev.preventDefault(); first.focus(); }
    else if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
  });

  /* ------------------------------------------------------- explanations */
  function fmtLeftUp(ms) { return fmtSecs(Math.max(0, Math.ceil((num(ms) || 0) / 1000))); }
  var REASON_KIND = { not_available: 'status', wrapping_up: 'status', at_capacity: 'capacity', language: 'language', skill: 'skill', declined_recently: 'declined', reserved_for_previous_agent: 'reserved' };
  /** One exclusion, readable ("Skill billing: needs ≥4, has 2"). */
  function reasonText(x, media) {
    x = obj(x);
    switch (x.reason) {
      case 'not_available': return t('reason.not_available', { status: lbl('status.', x.status || 'offline') });
      case 'wrapping_up': return t('reason.wrapping_up', { left: fmtLeftUp(x.remaining_ms) });
      case 'at_capacity': {
        var m = x.media || media || 'chat', load = obj(x.load), cap = obj(x.capacity);
        var l = num(load[m]) || 0, c = num(cap[m]) || 0;
        if (l < c && m === 'chat' && (num(load.voice) || 0) > 0) return t('reason.on_call');
        if (l < c && m === 'voice' && (num(load.chat) || 0) > 0) return t('reason.in_chats');
        return t('reason.at_capacity', { media: lbl('media.', m), load: l, cap: c });
      }
      case 'language': return t('reason.language', { language: lbl('language.', x.language) });
      case 'skill': return t(num(x.has) ? 'reason.skill' : 'reason.skillNone', { name: x.name, required: x.required, has: x.has });
      case 'declined_recently': return t('reason.declined_recently');
      case 'reserved_for_previous_agent': return t('reason.reserved_for_previous_agent', { name: agentName(x.agent_id), left: fmtLeftUp(x.remaining_ms) });
      default: return String(x.reason || '?');
    }
  }

  function whySection(title, testid, children, extra) {
    return el('section', { class: 'why-sec', 'data-testid': testid }, [
      el('h3', { class: 'why-sec-title' }, [el('span', { text: title }), extra || null])
    ].concat(children));
  }
  function whyDl(rows) {
    var dl = el('dl', { class: 'why-dl' });
    rows.forEach(function (r) {
      if (!r) return;
      dl.appendChild(el('dt', { text: r[0] }));
      dl.appendChild(el('dd', { 'data-testid': r[2] || null }, [].concat(r[1])));
    });
    return dl;
  }
  function personInline(id) {
    var name = agentName(id);
    return el('span', { class: 'person' }, [avatarNode(name, 'avatar-xs'), el('span', { text: name })]);
  }

  function renderWhy() {
    if (!WHY.id) return;
    var body = $('why-body'), keep = body.scrollTop;
    clear(body);
    whyDrawer.setAttribute('data-state', WHY.state);
    whyDrawer.setAttribute('data-task-id', WHY.id);
    var tk = obj(WHY.task);
    $('why-title').textContent = tk.customer_name || t('card.unnamed');
    var sub = clear($('why-sub'));
    if (tk.channel) sub.appendChild(channelBadge(tk.channel));
    if (tk.intent) sub.appendChild(el('span', { class: 'intent', text: tk.intent }));
    sub.appendChild(el('span', { class: 'task-id', title: WHY.id, text: WHY.id }));
    switch (WHY.state) {
      case 'loading':
        body.appendChild(loadingRow(t('why.loading')));
        break;
      case 'unavailable':
        body.appendChild(el('div', { class: 'why-sec' }, [emptyState('unavailable', t('why.unavailable'), t('why.unavailableText'))]));
        break;
      case 'notfound':
        body.appendChild(el('div', { class: 'why-sec', 'data-testid': 'why-notfound' }, [emptyState('error', t('why.notFound'), t('why.notFoundText'))]));
        break;
      case 'error':
        body.appendChild(el('div', { class: 'why-sec', 'data-testid': 'why-error' }, [emptyState('error', t('why.error'), WHY.error || '',
          el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.retry'), onclick: function () { loadWhy(); } }))]));
        break;
      case 'ok':
        renderWhyOk(body, obj(WHY.data), tk);
        body.scrollTop = keep;
        break;
    }
  }

  function whyOutcome(d, lo, tk) {
    var status = d.status ? el('span', { class: 'badge why-status', 'data-testid': 'why-status', text: lbl('taskStatus.', d.status) }) : null;
    if (d.agent_id) {
      return el('div', { class: 'why-outcome is-assigned', 'data-testid': 'why-outcome', 'data-kind': 'assigned' }, [
        avatarNode(agentName(d.agent_id), 'avatar-md'),
        el('div', { class: 'why-outcome-text' }, [
          el('strong', { text: t('why.assignedTo', { name: agentName(d.agent_id) }) }),
          el('span', { class: 'why-outcome-meta', text: d.assigned_at ? fmtWhen(d.assigned_at) + ' · ' + fmtAgo(d.assigned_at) : '' })
        ]),
        status
      ]);
    }
    if (lo) {
      var current = WHY.listed && tk.offered_to && tk.offered_to === lo.offered_to;
      var metaKey = lo.rules_version ? 'why.offerMeta' : 'why.offerMetaBuiltin';
      return el('div', { class: 'why-outcome is-offered', 'data-testid': 'why-outcome', 'data-kind': current ? 'offered' : 'last-offered' }, [
        avatarNode(agentName(lo.offered_to), 'avatar-md'),
        el('div', { class: 'why-outcome-text' }, [
          el('strong', { 'data-testid': 'why-offered-to', text: t(current ? 'why.offeredTo' : 'why.lastOfferedTo', { name: agentName(lo.offered_to) }) }),
          el('span', { class: 'why-outcome-meta', text: t(metaKey, { when: fmtWhen(lo.at), ago: fmtAgo(lo.at), v: lo.rules_version }) })
        ]),
        status
      ]);
    }
    return el('div', { class: 'why-outcome is-waiting', 'data-testid': 'why-not-offered', 'data-kind': 'not-offered' }, [
      el('span', { class: 'why-outcome-icon', 'aria-hidden': 'true', text: '!' }),
      el('div', { class: 'why-outcome-text' }, [
        el('strong', { text: t('why.notOffered') }),
        el('span', { class: 'why-outcome-meta', text: t('why.notOfferedText') })
      ]),
      status
    ]);
  }

  function renderWhyOk(body, d, tk) {
    var lo = d.last_offer ? obj(d.last_offer) : null;
    body.appendChild(whyOutcome(d, lo, tk));
    if (!lo) {
      // Nothing recorded yet: what the waiting list knows.
      var skills = arr(tk.skills).map(parseNeed);
      body.appendChild(whySection(t('why.sec.rule'), 'why-rule', [whyDl([
        [t('why.rule'), tk.rule ? [el('code', { class: 'rule-chip', text: tk.rule })] : [el('strong', { text: t('why.builtin') }), el('span', { class: 'muted why-after', text: t('why.builtinText') })], 'why-rule-name'],
        [t('why.queue'), queueTag(tk.queue), 'why-queue']
      ])]));
      body.appendChild(whySection(t('why.sec.target'), 'why-target', [whyDl([
        [t('why.skills'), skills.length ? el('div', { class: 'chips' }, skills.map(needChip)) : el('span', { class: 'muted', text: t('why.noSkills') })],
        isNum(tk.priority) ? [t('why.priority'), el('span', { class: 'tabular', text: fmtInt(tk.priority) })] : null,
        tk.reserved_for ? [t('why.preferred'), personInline(tk.reserved_for)] : null
      ]), el('p', { class: 'why-note', text: t('why.fromList') })]));
      return;
    }
    var rule = lo.rule ? obj(lo.rule) : null;
    var target = obj(lo.target);
    var media = target.media || 'chat';

    // ---- rule & queue
    var ruleRows = [];
    if (rule) {
      ruleRows.push([t('why.rule'), [el('code', { class: 'rule-chip', text: String(rule.name || '?') }),
        isNum(rule.index) ? el('span', { class: 'muted why-after', text: t('why.ruleIndex', { n: rule.index + 1 }) }) : null], 'why-rule-name']);
      ruleRows.push([t('why.overflow'), isNum(rule.overflow_step)
        ? [el('span', { class: 'badge badge-warn', text: t('why.overflowStep', { n: rule.overflow_step + 1 }) }), el('span', { class: 'muted why-after', text: t('why.overflowStepText', { n: rule.overflow_step + 1 }) })]
        : [el('span', { class: 'muted', text: t('why.overflowNone') })], 'why-overflow']);
      if (rule.override) {
        var o = arr(S.overrides).concat(arr(S.live.data && S.live.data.overrides)).find(function (x) { return x && x.id === rule.override; });
        ruleRows.push([t('why.override'), [el('span', { class: 'badge badge-warn', text: t('why.overrideOn') }),
          o && o.reason ? el('span', { class: 'why-after override-reason', text: o.reason }) : el('span', { class: 'task-id why-after', text: rule.override })], 'why-override']);
      }
    } else {
      ruleRows.push([t('why.rule'), [el('strong', { text: t('why.builtin') }), el('span', { class: 'muted why-after', text: t('why.builtinText') })], 'why-rule-name']);
    }
    ruleRows.push([t('why.queue'), queueTag(lo.queue || (rule && rule.queue) || tk.queue), 'why-queue']);
    ruleRows.push([t('why.version'), el('span', { text: lo.rules_version ? t('why.versionN', { v: lo.rules_version }) : t('nav.footBuiltin') })]);
    body.appendChild(whySection(t('why.sec.rule'), 'why-rule', [whyDl(ruleRows)]));

    // ---- target
    var needs = arr(target.skills).filter(Boolean);
    var strategy = target.strategy || 'least_occupied';
    body.appendChild(whySection(t('why.sec.target'), 'why-target', [whyDl([
      [t('why.skills'), needs.length ? el('div', { class: 'chips' }, needs.map(needChip)) : el('span', { class: 'muted', text: t('why.noSkills') }), 'why-skills'],
      target.language ? [t('why.language'), el('span', { text: lbl('language.', target.language) }), 'why-language'] : null,
      isNum(target.priority) ? [t('why.priority'), el('span', { class: 'tabular', text: fmtInt(target.priority) })] : null,
      [t('why.media'), el('span', { text: lbl('mediaName.', media) })],
      [t('why.strategy'), [el('strong', { text: lbl('strategy.', strategy) }), el('span', { class: 'why-hint', text: lbl('why.strategyHint.', strategy) })], 'why-strategy'],
      target.preferred_agent ? [t('why.preferred'), personInline(target.preferred_agent)] : null
    ])]));

    // ---- agents
    var cands = arr(lo.candidates).filter(Boolean);
    var eligible = cands.filter(function (c) { return !arr(c.excluded).length; });
    var excluded = cands.filter(function (c) { return arr(c.excluded).length; });
    var counts = el('span', { class: 'why-counts', text: t('why.counts', { eligible: eligible.length, excluded: excluded.length }) });
    var ol = el('ol', { class: 'cands', 'data-testid': 'why-candidates-list' });
    if (!eligible.length) ol.appendChild(el('li', { class: 'cand-none muted', text: t('why.noneEligible') }));
    eligible.forEach(function (c, i) { ol.appendChild(candRow(c, i + 1, c.agent_id === lo.offered_to, media, strategy, needs.length > 0)); });
    body.appendChild(whySection(t('why.sec.candidates'), 'why-candidates', [ol], counts));
    if (excluded.length) {
      var ul = el('ul', { class: 'cands is-excluded-list', 'data-testid': 'why-excluded-list' });
      excluded.forEach(function (c) { ul.appendChild(excludedRow(c, media)); });
      body.appendChild(whySection(t('why.sec.excluded'), 'why-excluded-section', [ul]));
    }
    body.appendChild(el('p', { class: 'why-note', text: t('why.asOf', { when: fmtClock(U.toDate(lo.at).getTime()) }) }));
  }

  function loadMeter(c, media, key) {
    var load = num(obj(c.load)[media]) || 0, cap = num(obj(c.capacity)[media]) || 0;
    var bar = el('span', { class: 'mini-bar' + (cap && load >= cap ? ' is-full' : ''), 'aria-hidden': 'true' });
    var segs = cap && cap <= 8 ? cap : 5, on = cap ? Math.round(clamp(load / cap, 0, 1) * segs) : 0;
    for (var i = 0; i < segs; i++) bar.appendChild(el('i', { class: i < on ? 'on' : '' }));
    return el('span', { class: 'cand-metric' + (key ? ' is-key' : ''), 'data-testid': 'why-load' }, [bar, el('span', { text: t('why.loadOf', { media: lbl('media.', media), load: load, cap: cap }) })]);
  }
  function checkIcon() {
    var svg = svgEl('svg', { viewBox: '0 0 24 24', width: '12', height: '12', fill: 'none', stroke: 'currentColor', 'stroke-width': '3', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true' });
    svg.appendChild(svgEl('path', { d: 'M20 6 9 17l-5-5' }));
    return svg;
  }
  function candRow(c, rank, chosen, media, strategy, scored) {
    var name = agentName(c.agent_id);
    return el('li', { class: 'cand' + (chosen ? ' is-chosen' : ''), 'data-testid': 'why-candidate', 'data-agent-id': c.agent_id || '', 'data-chosen': chosen ? 'true' : 'false', 'data-rank': String(rank) }, [
      el('span', { class: 'cand-rank', text: String(rank) }),
      avatarNode(name, 'avatar-md'),
      el('div', { class: 'cand-main' }, [
        el('div', { class: 'cand-top' }, [
          el('span', { class: 'cand-name', 'data-testid': 'why-candidate-name', text: name }),
          chosen ? el('span', { class: 'badge badge-accent cand-chosen', 'data-testid': 'why-chosen' }, [checkIcon(), t('why.chosen')]) : null
        ]),
        el('div', { class: 'cand-metrics' }, [
          loadMeter(c, media, strategy !== 'best_skill'),
          isNum(c.skill_score) && scored ? el('span', { class: 'cand-metric' + (strategy === 'best_skill' ? ' is-key' : ''), title: t('why.skillScoreTitle'), 'data-testid': 'why-skill-score', text: t('why.skillScore', { n: c.skill_score }) }) : null
        ])
      ])
    ]);
  }
  function excludedRow(c, media) {
    var name = agentName(c.agent_id);
    var reasons = el('ul', { class: 'reasons' }, arr(c.excluded).map(function (x) {
      var kind = REASON_KIND[obj(x).reason] || 'other';
      return el('li', { class: 'reason reason-' + kind, 'data-testid': 'why-reason', 'data-reason': obj(x).reason || '' }, [reasonText(x, media)]);
    }));
    return el('li', { class: 'cand is-excluded', 'data-testid': 'why-excluded', 'data-agent-id': c.agent_id || '' }, [
      avatarNode(name, 'avatar-md'),
      el('div', { class: 'cand-main' }, [
        el('div', { class: 'cand-top' }, [el('span', { class: 'cand-name', text: name }), el('span', { class: 'cand-side' }, [loadMeter(c, media, false)])]),
        reasons
      ])
    ]);
  }

  /* ============================================================ overrides */
  function loadOverrides() {
    if (S.overridesState === 'loading') return;
    var first = S.overrides == null;
    S.overridesState = 'loading';
    if (first) renderOverrideLists();
    var live = S.live.data && Array.isArray(S.live.data.overrides) ? S.live.data.overrides : null;
    api('GET', '/v1/routing/overrides').then(function (r) {
      if (r.ok && r.data) { S.overrides = arr(r.data.overrides); S.overridesState = 'ok'; S.overridesApi = true; }
      else if (missingRoute(r)) {
        S.overridesApi = false;
        if (live) { S.overrides = live; S.overridesState = 'ok'; } else S.overridesState = 'unavailable';
      } else if (first && !live) { S.overridesState = 'error'; S.overridesError = errMsg(r); }
      else { S.overrides = S.overrides || live; S.overridesState = 'ok'; }
    }).catch(function () {
      if (first && !live) { S.overridesState = 'error'; S.overridesError = t('common.network'); }
      else { S.overrides = S.overrides || live; S.overridesState = 'ok'; }
    }).then(renderOverrideLists);
  }

  function targetNodes(target) {
    var tg = obj(target), out = [];
    if (tg.queue) out.push(queueTag(tg.queue));
    if (Array.isArray(tg.skills)) {
      if (tg.skills.length) tg.skills.forEach(function (s) { out.push(needChip(s)); });
      else out.push(el('span', { class: 'badge', text: t('ovr.anyAgent') }));
    } else if (tg.queue) {
      out.push(el('span', { class: 'badge', text: t('ovr.sameRules') }));
    }
    return out;
  }

  function overrideItem(o, scope) {
    var expires = o.expires_at ? U.toDate(o.expires_at).getTime() : null;
    var created = o.created_at ? U.toDate(o.created_at).getTime() : null;
    var confirming = S.confirm && S.confirm.scope === 'ovr' && S.confirm.id === o.id;
    var actions;
    if (o._ending) {
      actions = el('button', { type: 'button', class: 'btn btn-ghost btn-sm override-end', disabled: true }, [el('span', { class: 'spinner' }), t('ovr.ending')]);
    } else if (confirming) {
      actions = el('div', { class: 'override-end', style: { display: 'flex', gap: '6px', alignItems: 'center' } }, [
        el('span', { class: 'muted', style: { fontSize: '12.5px' }, text: t('ovr.confirmEnd') }),
        el('button', { type: 'button', class: 'btn btn-danger btn-sm', 'data-testid': 'override-end-confirm', text: t('ovr.endNow'), onclick: function () { endOverride(o); } }),
        el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.cancel'), onclick: function () { S.confirm = null; renderOverrideLists(); } })
      ]);
    } else {
      actions = el('button', { type: 'button', class: 'btn btn-danger-ghost btn-sm override-end', 'data-testid': 'override-end', text: t('ovr.endNow'),
        onclick: function () { S.confirm = { scope: 'ovr', id: o.id }; renderOverrideLists(); } });
    }
    var meta = el('div', { class: 'override-meta' });
    if (expires) {
      meta.appendChild(el('span', { 'data-expires': String(expires), text: t('ovr.expiresIn', { left: fmtLeft(expires - Date.now()) }) }));
      meta.appendChild(el('span', { class: 'muted', text: t('ovr.expiresAt', { time: fmtWhen(o.expires_at) }) }));
    }
    if (o.created_by) meta.appendChild(el('span', { class: 'muted', text: t('ovr.by', { who: who(o.created_by) }) }));
    var bar = null;
    if (expires && created && expires > created) {
      bar = el('div', { class: 'override-bar' }, [el('span', { 'data-bar-from': String(created), 'data-bar-to': String(expires),
        style: { width: clamp((expires - Date.now()) / (expires - created), 0, 1) * 100 + '%' } })]);
    }
    return el('li', { class: 'override' + (o._ending ? ' is-ending' : ''), 'data-testid': 'override-item', 'data-override-id': o.id || '', 'data-scope': scope }, [
      el('div', { class: 'override-top' }, [
        el('span', { class: 'override-rule', text: o.rule || '—' }),
        el('span', { class: 'override-arrow', 'aria-hidden': 'true', text: '→' }),
        el('span', { class: 'override-target' }, targetNodes(o.target)),
        actions
      ]),
      o.reason ? el('p', { class: 'override-reason', text: o.reason }) : null,
      meta,
      bar
    ]);
  }

  function renderOverrideLists() {
    var list = S.overrides ? S.overrides.filter(function (o) { return o && (!o.expires_at || U.toDate(o.expires_at).getTime() > Date.now() - 1000); }) : [];
    setNavCount('nav-count-overrides', S.overrides ? list.length : 0);
    $('ovr-count').textContent = S.overrides && list.length ? t('ovr.count', { n: list.length }) : '';
    [['live-overrides', 'live'], ['ovr-list', 'page']].forEach(function (pair) {
      var box = clear($(pair[0]));
      if ((S.overridesState === 'loading' || S.overridesState === 'idle') && S.overrides == null) { box.appendChild(loadingRow()); return; }
      if (S.overridesState === 'unavailable') { box.appendChild(emptyState('unavailable', t('common.unavailable'), pair[1] === 'live' ? t('live.overridesUnknown') : t('ovr.unavailable'))); return; }
      if (S.overridesState === 'error') { box.appendChild(emptyState('error', t('hist.loadFailed', { msg: S.overridesError || '' }))); return; }
      if (!list.length) {
        var e = emptyState('empty', t('live.noOverrides'), t('live.noOverridesText'));
        e.innerHTML = e.innerHTML.replace(/<svg[\s\S]*?<\/svg>/, '<svg viewBox="0 0 56 56" fill="none" aria-hidden="true"><circle cx="28" cy="28" r="19" fill="#ebfbee" stroke="#b2f2bb" stroke-width="1.5"/><path d="m20 28.5 5.5 5.5L36.5 23" stroke="#2f9e44" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>');
        box.appendChild(e);
        return;
      }
      list.slice().sort(function (a, b) { return String(a.expires_at).localeCompare(String(b.expires_at)); })
        .forEach(function (o) { box.appendChild(overrideItem(o, pair[1])); });
    });
    renderOverrideForm();
  }

  function endOverride(o) {
    S.confirm = null;
    o._ending = true;
    renderOverrideLists();
    api('DELETE', '/v1/routing/overrides/' + encodeURIComponent(o.id)).then(function (r) {
      if (r.ok || r.status === 404) {
        if (r.ok) toast(t('ovr.ended', { rule: o.rule }));
        S.overrides = arr(S.overrides).filter(function (x) { return x.id !== o.id; });
        if (S.live.data && Array.isArray(S.live.data.overrides)) S.live.data.overrides = S.live.data.overrides.filter(function (x) { return x && x.id !== o.id; });
        if (S.auditState === 'ok') loadAudit();
      } else {
        o._ending = false;
        toast(missingRoute(r) ? t('ovr.unavailable') : errMsg(r), 'error');
      }
    }).catch(function () { o._ending = false; toast(t('common.network'), 'error'); })
      .then(renderOverrideLists);
  }

  // countdowns tick once a second without re-rendering
  setInterval(function () {
    var now = Date.now(), expired = false;
    document.querySelectorAll('[data-expires]').forEach(function (n) {
      var left = Number(n.getAttribute('data-expires')) - now;
      if (left <= 0) expired = true;
      n.textContent = t('ovr.expiresIn', { left: fmtLeft(left) });
    });
    document.querySelectorAll('[data-bar-to]').forEach(function (n) {
      var a = Number(n.getAttribute('data-bar-from')), b = Number(n.getAttribute('data-bar-to'));
      n.style.width = clamp((b - now) / (b - a), 0, 1) * 100 + '%';
    });
    if (expired) renderOverrideLists();
  }, 1000);

  /* ------------------------------------------------------- override form */
  var ovrForm = $('ovr-form');
  function activeRules() { return S.active && Array.isArray(S.active.rules) ? S.active.rules.filter(function (r) { return r && r.name; }) : []; }
  function knownQueues() {
    var set = {};
    activeRules().forEach(function (r) { if (r.queue) set[r.queue] = 1; arr(r.overflow).forEach(function (o) { if (o && o.queue) set[o.queue] = 1; }); });
    Object.keys(obj(S.active && S.active.queues)).forEach(function (q) { set[q] = 1; });
    arr(S.live.data && S.live.data.queues).forEach(function (q) { if (q && q.queue) set[q.queue] = 1; });
    return Object.keys(set).sort();
  }
  function renderOverrideForm() {
    var sel = $('ovr-rule'), keep = sel.value;
    var rules = activeRules();
    var s = sig([rules.map(function (r) { return r.name; }), i18n.lang]);
    if (sel.getAttribute('data-sig') !== s) {
      sel.setAttribute('data-sig', s);
      clear(sel).appendChild(el('option', { value: '', text: t('ovr.rulePick') }));
      rules.forEach(function (r) { sel.appendChild(el('option', { value: r.name, text: r.name + '  →  ' + (r.queue || '—') })); });
      if (keep && rules.some(function (r) { return r.name === keep; })) sel.value = keep;
    }
    var dl = clear($('ovr-queues'));
    knownQueues().forEach(function (q) { dl.appendChild(el('option', { value: q })); });
    var disabled = $('ovr-disabled');
    var reason = S.overridesState === 'unavailable' ? t('ovr.unavailable')
      : (S.activeState === 'ok' && !rules.length ? t('ovr.noRules') : null);
    disabled.hidden = !reason;
    clear(disabled);
    if (reason) disabled.appendChild(el('div', { class: 'notice notice-warn', text: reason }));
    $('ovr-submit').disabled = !!reason || ovrForm.getAttribute('aria-busy') === 'true';
    updateRuleHint();
  }
  function updateRuleHint() {
    var r = activeRules().find(function (x) { return x.name === $('ovr-rule').value; });
    var hint = $('ovr-rule-hint');
    if (!r) { hint.textContent = ''; return; }
    var skills = arr(r.skills).map(function (s) { return s.name + (isNum(s.min_level) ? '≥' + s.min_level : ''); }).join(', ');
    hint.textContent = t('ovr.ruleHint', { queue: r.queue || '—', skills: skills ? ' · ' + skills : '' });
  }
  $('ovr-rule').addEventListener('change', updateRuleHint);
  document.querySelectorAll('[data-minutes]').forEach(function (b) {
    b.addEventListener('click', function () { $('ovr-minutes').value = b.getAttribute('data-minutes'); markMinutePreset(); });
  });
  function markMinutePreset() {
    document.querySelectorAll('[data-minutes]').forEach(function (b) { b.classList.toggle('is-on', b.getAttribute('data-minutes') === $('ovr-minutes').value); });
  }
  $('ovr-minutes').addEventListener('input', markMinutePreset);

  function clearFieldErrors(form) {
    form.querySelectorAll('[data-field-error]').forEach(function (p) { p.hidden = true; p.textContent = ''; var f = p.closest('.field'); if (f) f.classList.remove('has-error'); });
  }
  function fieldError(form, key, msg) {
    var p = form.querySelector('[data-field-error="' + key + '"]');
    if (!p) return false;
    p.textContent = p.textContent ? p.textContent + ' ' + msg : msg;
    p.hidden = false;
    var f = p.closest('.field'); if (f) f.classList.add('has-error');
    return true;
  }
  function parseSkills(text) {
    var out = [], bad = false;
    String(text || '').split(/[,，;；\s]+/).filter(Boolean).forEach(function (part) {
      var m = /^([A-Za-z0-9_.-]+)(?:[:=](\d+))?$/.exec(part.trim());
      if (!m) { bad = true; return; }
      out.push({ name: m[1], min_level: m[2] ? Number(m[2]) : 1 });
    });
    return bad ? null : out;
  }

  ovrForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearFieldErrors(ovrForm);
    $('ovr-error').hidden = true;
    var rule = $('ovr-rule').value, queue = $('ovr-queue').value.trim(), skillsText = $('ovr-skills').value.trim();
    var minutes = Number($('ovr-minutes').value), reason = $('ovr-reason').value.trim();
    var skills = parseSkills(skillsText), ok = true;
    if (!rule) ok = fieldError(ovrForm, 'rule', t('ovr.err.rule')) && false;
    if (skills === null) ok = fieldError(ovrForm, 'target.skills', t('ovr.err.skills')) && false;
    if (!queue && !skillsText) ok = fieldError(ovrForm, 'target.queue', t('ovr.err.target')) && false;
    if (!(minutes >= 1 && minutes <= 10080 && Math.round(minutes) === minutes)) ok = fieldError(ovrForm, 'minutes', t('ovr.err.minutes')) && false;
    if (!ok) return;
    var target = {};
    if (queue) target.queue = queue;
    if (skillsText) target.skills = skills;
    var body = { rule: rule, target: target, minutes: minutes, reason: reason };
    ovrForm.setAttribute('aria-busy', 'true');
    setBusy($('ovr-submit'), 'ovr.starting');
    api('POST', '/v1/routing/overrides', body).then(function (r) {
      if (r.ok) {
        toast(t('ovr.started', { rule: rule, time: fmtWhen(r.data && r.data.expires_at) }));
        $('ovr-reason').value = '';
        S.overrides = arr(S.overrides).concat([{ id: r.data && r.data.id, rule: rule, target: target, reason: reason,
          created_by: S.session && S.session.username, created_at: new Date().toISOString(), expires_at: r.data && r.data.expires_at }]);
        S.overridesState = 'ok';
        renderOverrideLists();
        loadOverrides();
        if (S.auditState === 'ok') loadAudit();
        return;
      }
      if (missingRoute(r)) { S.overridesState = 'unavailable'; renderOverrideLists(); return; }
      var problems = arr(r.data && r.data.problems), rest = [];
      problems.forEach(function (p) {
        var key = String(p.path || '').replace(/\[\d+\].*$/, '').replace(/^target$/, 'target.queue');
        if (!fieldError(ovrForm, key, p.message)) rest.push((p.path ? p.path + ': ' : '') + p.message);
      });
      if (!problems.length || rest.length) {
        $('ovr-error').textContent = t('ovr.err.failed', { msg: rest.length ? rest.join(' · ') : errMsg(r) });
        $('ovr-error').hidden = false;
      }
    }).catch(function () {
      $('ovr-error').textContent = t('ovr.err.failed', { msg: t('common.network') });
      $('ovr-error').hidden = false;
    }).then(function () {
      ovrForm.removeAttribute('aria-busy');
      setBusy($('ovr-submit'), null);
      renderOverrideForm();
    });
  });

  onEnter.overrides = function () {
    if (S.activeState === 'idle' || S.activeState === 'error') loadActive();
    loadOverrides();
    renderOverrideForm();
    markMinutePreset();
  };

  /* ======================================================== JSON locator */
  /**
   * A small strict JSON reader that remembers where every path starts, so problems such as
   * "rules[1].when" can be pointed at in the editor. Throws {code, pos, tok} on malformed text.
   */
  function locate(text) {
    var i = 0, n = text.length, paths = {};
    function fail(code, at, tok) { var e = new Error(code); e.code = code; e.pos = at == null ? i : at; e.tok = tok; throw e; }
    function tokAt(p) {
      if (p >= n) return '';
      var m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(p, p + 24));
      return m ? m[0] : text.charAt(p);
    }
    function ws() {
      for (;;) {
        while (i < n && /[ \t\n\r]/.test(text.charAt(i))) i++;
        if (text.charAt(i) === '/' && (text.charAt(i + 1) === '/' || text.charAt(i + 1) === '*')) fail('unexpected', i, text.substr(i, 2));
        return;
      }
    }
    function str() {
      var start = i; i++;
      for (;;) {
        if (i >= n) fail('string', start);
        var c = text.charAt(i);
        if (c === '"') { i++; return JSON.parse(text.slice(start, i)); }
        if (c === '\\') {
          var e = text.charAt(i + 1);
          if (e === 'u') { if (!/^[0-9a-fA-F]{4}$/.test(text.substr(i + 2, 4))) fail('escape', i); i += 6; continue; }
          if ('"\\/bfnrt'.indexOf(e) === -1 || e === '') fail('escape', i);
          i += 2; continue;
        }
        if (c.charCodeAt(0) < 0x20) fail('control', i);
        i++;
      }
    }
    function numb() {
      var re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
      re.lastIndex = i;
      var m = re.exec(text);
      if (!m || !m[0] || /[0-9A-Za-z.]/.test(text.charAt(i + m[0].length))) fail('number', i);
      i += m[0].length;
      return Number(m[0]);
    }
    function value(path) {
      ws();
      if (i >= n) fail('eof', i);
      if (path && !has(paths, path)) paths[path] = i;
      var c = text.charAt(i);
      if (c === '{') return object(path);
      if (c === '[') return array(path);
      if (c === '"') return str();
      if (c === '-' || (c >= '0' && c <= '9')) return numb();
      var words = { 'true': true, 'false': false, 'null': null };
      for (var w in words) if (text.substr(i, w.length) === w && !/[A-Za-z0-9_]/.test(text.charAt(i + w.length))) { i += w.length; return words[w]; }
      fail('unexpected', i, tokAt(i));
    }
    function object(path) {
      var out = {}; i++; ws();
      if (text.charAt(i) === '}') { i++; return out; }
      for (;;) {
        ws();
        if (i >= n) fail('eof', i);
        if (text.charAt(i) !== '"') fail(text.charAt(i) === '}' ? 'trailing' : 'key', i, tokAt(i));
        var keyAt = i, k = str();
        ws();
        if (text.charAt(i) !== ':') fail(i >= n ? 'eof' : 'colon', i, tokAt(i));
        i++;
        var p = path ? path + '.' + k : k;
        paths[p] = keyAt;
        out[k] = value(p);
        ws();
        if (text.charAt(i) === ',') { i++; continue; }
        if (text.charAt(i) === '}') { i++; return out; }
        fail(i >= n ? 'eof' : 'unexpected', i, tokAt(i));
      }
    }
    function array(path) {
      var out = []; i++; ws();
      if (text.charAt(i) === ']') { i++; return out; }
      for (;;) {
        ws();
        if (text.charAt(i) === ']') fail('trailing', i);
        out.push(value(path + '[' + out.length + ']'));
        ws();
        if (text.charAt(i) === ',') { i++; continue; }
        if (text.charAt(i) === ']') { i++; return out; }
        fail(i >= n ? 'eof' : 'unexpected', i, tokAt(i));
      }
    }
    var v = value('');
    ws();
    if (i < n) fail('after', i, tokAt(i));
    return { value: v, paths: paths };
  }
  function lineCol(text, pos) {
    var before = text.slice(0, pos), lines = before.split('\n');
    return { line: lines.length, col: lines[lines.length - 1].length + 1 };
  }
  /** Offset of a problem path in the text, trimming the path until something is found. */
  function pathOffset(paths, path) {
    var p = String(path || '');
    while (p) {
      if (has(paths, p)) return paths[p];
      var cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) break;
      p = p.slice(0, cut);
    }
    return has(paths, p) ? paths[p] : null;
  }

  /* ================================================================ rules */
  var editor = $('rules-json'), gutter = $('gutter');
  var E = S.editor;
  var previewTimer = null;

  /** Keys in a reading order (known ones first, the rest after), null values dropped. */
  function ordered(o, order) {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
    var out = {};
    order.concat(Object.keys(o).sort()).forEach(function (k) {
      if (has(o, k) && !has(out, k) && o[k] !== null) out[k] = o[k];
    });
    return out;
  }
  var RULE_KEYS = ['name', 'when', 'queue', 'skills', 'priority', 'aging_per_minute', 'strategy', 'sticky_secs', 'overflow'];
  var QUEUE_KEYS = ['hours', 'utc_offset_minutes', 'holidays', 'max_wait_secs', 'fallback'];
  function orderSkills(list) { return Array.isArray(list) ? list.map(function (x) { return ordered(x, ['name', 'min_level']); }) : list; }
  function docFromRuleSet(rs) {
    var doc = { rules: arr(rs && rs.rules).map(function (r) {
      r = ordered(r, RULE_KEYS);
      if (!r || typeof r !== 'object') return r;
      if (has(r, 'skills')) r.skills = orderSkills(r.skills);
      if (Array.isArray(r.overflow)) r.overflow = r.overflow.map(function (o) {
        o = ordered(o, ['after_secs', 'queue', 'skills']);
        if (o && has(o, 'skills')) o.skills = orderSkills(o.skills);
        return o;
      });
      return r;
    }) };
    var qs = obj(rs && rs.queues);
    if (Object.keys(qs).length) {
      doc.queues = {};
      Object.keys(qs).forEach(function (q) { doc.queues[q] = ordered(qs[q], QUEUE_KEYS); });
    }
    return doc;
  }
  function pretty(doc) { return JSON.stringify(doc, null, 2); }
  function isDirty() { return editor.value !== E.savedText; }

  function setEditor(text, base) {
    editor.value = text;
    E.savedText = text;
    E.base = base;
    E.problems = []; E.problemsText = null; E.problemsKind = null; E.jsonError = null;
    hideRulesStatus(); hideRulesConfirm();
    editor.scrollTop = 0;
    try { editor.setSelectionRange(0, 0); } catch (e) { /* not focused */ }
    afterEdit(true);
  }

  function loadActive(force) {
    if (S.activeState === 'loading' && !force) return Promise.resolve();
    S.activeState = 'loading';
    if (!E.base) renderRulesBase();
    return api('GET', '/v1/routing/rules').then(function (r) {
      if (r.ok && r.data) {
        S.active = r.data; S.activeState = 'ok';
        noteVersion(r.data.version);
        // The active answer may lack the queue settings: the version itself has them.
        if (isNum(r.data.version) && r.data.version > 0 && !has(r.data, 'queues')) {
          return api('GET', '/v1/routing/rules/' + r.data.version).then(function (full) {
            if (full.ok && full.data && S.active === r.data) S.active.queues = obj(full.data.queues);
          }).catch(function () { /* keep the rules alone */ }).then(fillIfUntouched);
        }
        fillIfUntouched();
      } else {
        S.activeState = 'error'; S.activeError = errMsg(r);
        if (!E.base) setEditor(pretty(TEMPLATE), { kind: 'template' });
      }
    }).catch(function () {
      S.activeState = 'error'; S.activeError = t('common.network');
      if (!E.base) setEditor(pretty(TEMPLATE), { kind: 'template' });
    }).then(function () {
      renderActiveInfo(); renderRulesBase(); renderLoadSelect(); renderOverrideForm();
    });
  }
  function fillIfUntouched() {
    if (!E.base || ((E.base.kind === 'active' || E.base.kind === 'builtin') && !isDirty())) fillFromActive();
  }
  function fillFromActive() {
    var a = S.active;
    if (a && isNum(a.version) && a.version > 0 && !a.builtin) setEditor(pretty(docFromRuleSet(a)), { kind: 'active', version: a.version });
    else setEditor(pretty(TEMPLATE), { kind: 'builtin' });
  }
  function onActiveChanged() {
    renderActiveInfo();
    loadActive(true);
    if (S.versionsState === 'ok') loadVersions();
    if (S.section === 'history') loadAudit();
    if (S.dry.report) renderDryReport();
  }

  function renderRulesBase() {
    var box = clear($('editor-base'));
    var b = E.base;
    if (!b) { box.appendChild(el('span', { class: 'muted', text: S.activeState === 'error' ? t('rules.loadFailed', { msg: S.activeError }) : t('rules.loading') })); return; }
    var active = activeVersion();
    var text;
    if (b.kind === 'builtin') text = t('rules.base.builtin');
    else if (b.kind === 'template') text = t('rules.base.template');
    else if (b.kind === 'saved') text = t('rules.base.saved', { v: b.version });
    else if (b.version === active) text = t('rules.base.active', { v: b.version });
    else text = t('rules.base.version', { v: b.version });
    if (b.version && b.version === active && b.kind === 'saved') text = t('rules.base.active', { v: b.version });
    var m = /^(.*?)(v?\d+)(.*)$/.exec(text);
    if (b.version && m) { box.appendChild(document.createTextNode(m[1])); box.appendChild(el('strong', { 'data-testid': 'editor-version', text: m[2] })); box.appendChild(document.createTextNode(m[3])); }
    else box.textContent = text;
    if (b.version && b.version === active) box.appendChild(el('span', { class: 'badge badge-ok', style: { marginLeft: '8px' }, text: t('hist.active') }));
    var dirty = isDirty();
    $('dirty-dot').hidden = !dirty;
    if (dirty) box.appendChild(el('span', { class: 'muted', text: t('rules.base.edited') }));
    $('dirty-dot').title = t('rules.unsaved');
  }

  function renderLoadSelect() {
    var sel = clear($('rules-load'));
    sel.appendChild(el('option', { value: '', text: t('rules.loadHeader') }));
    var a = S.active && S.active.version > 0 ? S.active.version : null;
    if (a) sel.appendChild(el('option', { value: 'active', text: t('rules.loadActive', { v: a }) }));
    sel.appendChild(el('option', { value: 'template', text: t('rules.loadTemplate') }));
    versionNumbers().forEach(function (v) { if (v !== a) sel.appendChild(el('option', { value: 'v:' + v, text: t('rules.loadVersion', { v: v }) })); });
    sel.value = '';
  }
  /** Known version numbers, newest first (from the versions list or what this session has seen). */
  function versionNumbers() {
    var set = {};
    if (S.versions) arr(S.versions.versions).forEach(function (v) { if (v && isNum(v.version)) set[v.version] = 1; });
    Object.keys(S.knownVersions).forEach(function (v) { set[v] = 1; });
    var max = Math.max.apply(null, [0].concat(Object.keys(set).map(Number)));
    if (!S.versions) for (var i = 1; i <= max; i++) set[i] = 1; // versions are numbered 1, 2, 3 …
    return Object.keys(set).map(Number).sort(function (x, y) { return y - x; });
  }

  $('rules-load').addEventListener('change', function () {
    var v = this.value;
    this.value = '';
    if (!v) return;
    var doLoad = function () {
      if (v === 'active') { if (S.active) fillFromActive(); }
      else if (v === 'template') setEditor(pretty(TEMPLATE), { kind: 'template' });
      else openVersion(Number(v.slice(2)));
    };
    if (isDirty()) showRulesConfirm(t('rules.discard'), null, t('common.confirm'), 'btn-danger', doLoad);
    else doLoad();
  });

  function openVersion(v) {
    if (S.active && S.active.version === v) { fillFromActive(); go('rules'); return; }
    api('GET', '/v1/routing/rules/' + v).then(function (r) {
      if (r.ok && r.data) { setEditor(pretty(docFromRuleSet(r.data)), { kind: 'version', version: v }); go('rules'); }
      else if (missingRoute(r)) toast(t('rules.unavailableVersion'), 'error');
      else toast(errMsg(r), 'error');
    }).catch(function () { toast(t('common.network'), 'error'); });
  }

  /* ------------------------------------------------------- editor chrome */
  var gutterSig = '';
  function renderGutter() {
    var lines = editor.value.split('\n').length;
    var bad = {};
    problemTargets().forEach(function (p) { if (p.line) bad[p.line] = true; });
    if (E.jsonError) bad[E.jsonError.line] = true;
    var focus = E.focusLine || 0;
    var s = lines + '|' + Object.keys(bad).join(',') + '|' + focus;
    if (s === gutterSig) return;
    gutterSig = s;
    var frag = document.createDocumentFragment();
    for (var i = 1; i <= lines; i++) frag.appendChild(el('span', { class: 'ln' + (bad[i] ? ' is-problem' : '') + (i === focus ? ' is-focus' : ''), text: String(i) }));
    clear(gutter).appendChild(frag);
    gutter.scrollTop = editor.scrollTop;
  }
  editor.addEventListener('scroll', function () { gutter.scrollTop = editor.scrollTop; });
  function updateCaret() {
    var lc = lineCol(editor.value, editor.selectionStart);
    $('editor-pos').textContent = lc.line + ':' + lc.col;
  }
  ['keyup', 'click', 'select'].forEach(function (ev) { editor.addEventListener(ev, updateCaret); });
  editor.addEventListener('input', function () {
    E.focusLine = 0;
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () { afterEdit(false); }, 220);
    renderGutter(); updateCaret();
    renderRulesBase();
  });
  editor.addEventListener('keydown', function (ev) {
    if (ev.key === 'Tab' && !ev.shiftKey && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      var s = editor.selectionStart, e = editor.selectionEnd;
      editor.setRangeText('  ', s, e, 'end');
      editor.dispatchEvent(new Event('input'));
    } else if ((ev.ctrlKey || ev.metaKey) && ev.key === 's') {
      ev.preventDefault(); saveRules();
    } else if ((ev.ctrlKey || ev.metaKey) && ev.key === 'Enter') {
      ev.preventDefault(); validateRules();
    }
  });

  /** Moves the caret to a problem path and flashes its line. */
  function jumpTo(path) {
    var parsed = safeLocate(editor.value);
    var off = parsed && parsed.paths ? pathOffset(parsed.paths, path) : null;
    if (off == null) return;
    var lc = lineCol(editor.value, off);
    editor.focus();
    editor.setSelectionRange(off, off);
    editor.scrollTop = Math.max(0, (lc.line - 4) * 20);
    E.focusLine = lc.line;
    renderGutter(); updateCaret();
  }
  function safeLocate(text) { try { return locate(text); } catch (e) { return null; } }

  /* ------------------------------------------------------------- preview */
  function parseProblemPath(path) {
    var p = String(path || ''), m;
    if ((m = /^rules\[(\d+)\](?:\.([A-Za-z_]+))?(?:\[(\d+)\])?(?:\.([A-Za-z_]+))?/.exec(p))) {
      return { rule: Number(m[1]), field: m[2] || null, sub: m[3] != null ? Number(m[3]) : null, subField: m[4] || null };
    }
    if ((m = /^queues\.([^.[\]]+)(?:\.([A-Za-z_]+))?/.exec(p))) return { queue: m[1], field: m[2] || null };
    return { doc: true };
  }
  function problemTargets() {
    var paths = E.paths || {};
    return E.problems.map(function (pr) {
      var tg = parseProblemPath(pr.path);
      tg.path = pr.path; tg.message = pr.message;
      var off = pathOffset(paths, pr.path);
      tg.line = off != null ? lineCol(editor.value, off).line : null;
      return tg;
    });
  }
  function problemsStale() { return E.problemsText != null && E.problemsText !== editor.value; }

  function afterEdit(fresh) {
    var text = editor.value;
    E.jsonError = null;
    try {
      E.doc = JSON.parse(text);
      var loc = safeLocate(text);
      E.paths = loc ? loc.paths : {};
    } catch (e) {
      try { locate(text); E.jsonError = { line: 1, col: 1, msg: e.message }; }
      catch (err) {
        var lc = lineCol(text, err.pos || 0);
        var msg = t('rules.json.' + err.code, { tok: err.tok ? '“' + err.tok + '”' : '' });
        E.jsonError = { line: lc.line, col: lc.col, msg: msg, pos: err.pos };
      }
    }
    if (fresh) gutterSig = '';
    renderPreview(); renderProblems(); renderGutter(); updateCaret(); renderRulesBase();
  }

  function renderPreview() {
    var errBox = $('preview-error');
    clear(errBox);
    var je = E.jsonError;
    var doc = E.doc;
    var notObject = !je && (!doc || typeof doc !== 'object' || Array.isArray(doc));
    errBox.hidden = !je && !notObject;
    if (je) {
      errBox.appendChild(el('strong', { text: t('rules.json.title') }));
      errBox.appendChild(el('button', { type: 'button', class: 'link-btn', style: { textAlign: 'left', color: 'inherit' }, text: t('rules.json.at', { line: je.line, col: je.col, msg: je.msg }),
        onclick: function () { if (je.pos != null) { editor.focus(); editor.setSelectionRange(je.pos, je.pos); E.focusLine = je.line; editor.scrollTop = Math.max(0, (je.line - 4) * 20); renderGutter(); updateCaret(); } } }));
    } else if (notObject) {
      errBox.appendChild(el('strong', { text: t('rules.json.notObject') }));
    }
    $('preview').classList.toggle('is-stale', !!je);
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) doc = { rules: [] };

    var targets = problemTargets();
    var byRule = {}, byQueue = {}, docLevel = [];
    var rules = Array.isArray(doc.rules) ? doc.rules : [];
    var queues = obj(doc.queues);
    targets.forEach(function (tg) {
      if (tg.rule != null && tg.rule < rules.length) (byRule[tg.rule] = byRule[tg.rule] || []).push(tg);
      else if (tg.queue != null && has(queues, tg.queue)) (byQueue[tg.queue] = byQueue[tg.queue] || []).push(tg);
      else docLevel.push(tg);
    });

    $('preview-hint').textContent = t('rules.previewHint', { rules: rules.length, queues: Object.keys(queues).length });
    var dp = clear($('doc-problems'));
    dp.hidden = !docLevel.length;
    docLevel.forEach(function (tg) { dp.appendChild(el('div', { class: 'notice notice-danger', 'data-testid': 'doc-problem' }, [problemRow(tg)])); });

    var list = clear($('rule-cards'));
    if (!rules.length) list.appendChild(emptyState('empty', t('rules.empty'), t('rules.emptyText')));
    rules.forEach(function (r, idx) { list.appendChild(ruleCard(obj(r), idx, byRule[idx] || [])); });

    var qbox = clear($('queue-cards'));
    var qnames = Object.keys(queues);
    if (qnames.length) qbox.appendChild(el('h2', { class: 'block-title', style: { margin: '8px 2px 0' }, text: t('rules.queueSettings') }));
    else if (rules.length) qbox.appendChild(el('p', { class: 'card-hint', style: { padding: '0 4px' }, text: t('rules.noQueues') }));
    qnames.forEach(function (q) { qbox.appendChild(queueCard(q, obj(queues[q]), byQueue[q] || [])); });
  }

  function problemRow(tg, compact) {
    return el('div', { class: 'rule-problem', role: 'button', tabindex: '0', 'data-testid': 'card-problem', 'data-path': tg.path,
      onclick: function () { jumpTo(tg.path); }, onkeydown: function (ev) { if (ev.key === 'Enter') jumpTo(tg.path); } }, [
      el('code', { class: 'problem-path', text: tg.path }),
      el('span', { class: 'problem-msg', text: tg.message })
    ]);
  }

  function ruleCard(r, idx, probs) {
    var bad = {};
    probs.forEach(function (p) { bad[p.field || 'name'] = bad[p.field || 'name'] || []; bad[p.field || 'name'].push(p); });
    var mark = function (field, node) {
      if (bad[field] && bad[field].some(function (p) { return p.sub == null; })) node.classList.add('is-bad-field');
      return node;
    };
    var badges = el('div', { class: 'rule-badges' });
    if (isNum(r.priority) && r.priority) badges.appendChild(el('span', { class: 'badge badge-accent', title: t('card.priorityTitle', { n: r.priority }), text: t('card.priority', { n: r.priority }) }));
    if (isNum(r.aging_per_minute) && r.aging_per_minute) badges.appendChild(el('span', { class: 'badge', title: t('card.agingTitle', { n: r.aging_per_minute }), text: t('card.aging', { n: r.aging_per_minute }) }));
    if (r.strategy) badges.appendChild(mark('strategy', el('span', { class: 'badge', text: lbl('strategy.', r.strategy) })));
    if (isNum(r.sticky_secs)) badges.appendChild(el('span', { class: 'badge', text: t('card.sticky', { n: r.sticky_secs }) }));

    var when = r.when == null ? 'true' : String(r.when);
    var always = /^\s*true\s*$/.test(when);
    var body = el('dl', { class: 'rule-body' });
    var row = function (label, field, content) {
      var dd = el('dd', {}, content);
      if (bad[field]) dd.classList.add('has-bad');
      body.appendChild(el('dt', { text: label }));
      body.appendChild(dd);
    };
    row(t('card.when'), 'when', [mark('when', el('code', { class: 'cond' + (always ? ' is-always' : ''), 'data-testid': 'rule-when', text: always ? t('card.always') : when }))]);
    row(t('card.queue'), 'queue', [mark('queue', queueTag(r.queue))]);
    var skills = arr(r.skills);
    var skillNodes = skills.length ? skills.map(function (s, j) {
      var chip = needChip(s);
      if (probs.some(function (p) { return p.field === 'skills' && p.sub === j; })) chip.classList.add('is-missing');
      return chip;
    }) : [el('span', { class: 'muted', text: t('card.anyAgent') })];
    row(t('card.skills'), 'skills', [mark('skills', el('div', { class: 'chips' }, skillNodes))]);
    var overflow = arr(r.overflow);
    if (overflow.length || bad.overflow) {
      var ladder = el('ol', { class: 'ladder' });
      overflow.forEach(function (o, k) {
        o = obj(o);
        var li = el('li', {}, [el('span', { class: 'after', text: t('card.after', { s: fmtSecs(num(o.after_secs)) }) })]);
        if (o.queue) { li.appendChild(el('span', { class: 'muted', text: t('card.moveTo') })); li.appendChild(queueTag(o.queue)); }
        var ss = arr(o.skills);
        li.appendChild(el('span', { class: 'muted', text: t('card.relax') }));
        if (ss.length) ss.forEach(function (s) { li.appendChild(needChip(s)); });
        else li.appendChild(el('span', { class: 'badge', text: t('card.anyAgent') }));
        if (probs.some(function (p) { return p.field === 'overflow' && p.sub === k; })) li.classList.add('is-bad-field');
        ladder.appendChild(li);
      });
      row(t('card.overflow'), 'overflow', [mark('overflow', ladder)]);
    }
    var card = el('li', { class: 'rule-card' + (probs.length ? ' has-problems' : ''), 'data-testid': 'rule-card', 'data-index': String(idx), 'data-rule': r.name || '', id: 'rule-card-' + idx }, [
      el('div', { class: 'rule-top' }, [
        el('span', { class: 'rule-index', text: String(idx + 1) }),
        mark('name', el('span', { class: 'rule-name', text: r.name || t('card.unnamed') })),
        badges
      ]),
      body
    ]);
    if (probs.length) {
      var pl = el('ul', { class: 'rule-problems', 'data-testid': 'rule-card-problems' });
      probs.forEach(function (p) { pl.appendChild(el('li', {}, [problemRow(p)])); });
      card.appendChild(pl);
    }
    return card;
  }

  function fmtOffset(mins) {
    if (!isNum(mins) || !mins) return '';
    var sign = mins < 0 ? '−' : '+', a = Math.abs(mins);
    return sign + Math.floor(a / 60) + (a % 60 ? ':' + ('0' + (a % 60)).slice(-2) : '');
  }
  function fmtDays(days) {
    var d = arr(days).slice().sort();
    if (d.join(',') === '1,2,3,4,5') return t('day.weekdays');
    if (d.join(',') === '1,2,3,4,5,6,7') return t('day.everyday');
    return d.map(function (x) { return lbl('day.', x); }).join(' ');
  }
  function queueCard(name, q, probs) {
    var facts = el('div', { class: 'queue-card-facts' });
    var fact = function (label, value) { facts.appendChild(el('span', {}, [label + ' ', el('b', { text: value })])); };
    var hours = arr(q.hours);
    fact(t('card.hours'), hours.length ? hours.map(function (h) { h = obj(h); return fmtDays(h.days) + ' ' + (h.from || '?') + '–' + (h.to || '?'); }).join(', ') + ' ' + t('card.tz', { off: fmtOffset(q.utc_offset_minutes) }) : t('card.alwaysOpen'));
    if (isNum(q.max_wait_secs)) fact(t('card.maxWait'), fmtSecs(q.max_wait_secs));
    fact(t('card.fallback'), q.fallback ? lbl('fallback.', q.fallback) : t('fallback.none'));
    if (arr(q.holidays).length) fact(t('card.closed'), arr(q.holidays).join(', '));
    var card = el('div', { class: 'queue-card' + (probs.length ? ' has-problems' : ''), 'data-testid': 'queue-card', 'data-queue': name }, [
      el('div', { class: 'queue-card-top' }, [queueTag(name)]), facts
    ]);
    if (probs.length) {
      var pl = el('ul', { class: 'rule-problems' });
      probs.forEach(function (p) { pl.appendChild(el('li', {}, [problemRow(p)])); });
      card.appendChild(pl);
    }
    return card;
  }

  function renderProblems() {
    var box = $('problems');
    var n = E.problems.length;
    box.hidden = !n;
    setNavCount('nav-count-rules', n);
    if (!n) return;
    var kind = E.problemsKind === 'save' ? 'rules.problems' : 'rules.problemsValidate';
    $('problems-title').textContent = n === 1 ? t(kind + '1') : t(kind, { n: n });
    $('problems-note').textContent = problemsStale() ? t('rules.problemsStale') : '';
    var list = clear($('problems-list'));
    var doc = E.doc && typeof E.doc === 'object' ? E.doc : {};
    problemTargets().forEach(function (tg) {
      var where = tg.rule != null ? t('rules.problemWhere', { n: tg.rule + 1 }) + (arr(doc.rules)[tg.rule] && doc.rules[tg.rule].name ? ' · ' + doc.rules[tg.rule].name : '')
        : tg.queue != null ? t('rules.problemQueue', { q: tg.queue }) : t('rules.problemDoc');
      list.appendChild(el('li', { class: 'problem', tabindex: '0', 'data-testid': 'problem', 'data-path': tg.path,
        onclick: function () { jumpTo(tg.path); var c = tg.rule != null && $('rule-card-' + tg.rule); if (c) { c.classList.remove('is-flash'); void c.offsetWidth; c.classList.add('is-flash'); c.scrollIntoView({ block: 'nearest', behavior: 'smooth' }); } },
        onkeydown: function (ev) { if (ev.key === 'Enter') this.click(); } }, [
        el('code', { class: 'problem-path', text: tg.path }),
        el('span', { class: 'problem-msg', text: tg.message }),
        el('span', { class: 'problem-where', text: where + (tg.line ? ' · L' + tg.line : '') })
      ]));
    });
  }

  /* ------------------------------------------------------ banner, confirm */
  function showRulesStatus(kind, text, actions, testValue) {
    var box = clear($('rules-status'));
    box.className = 'status-banner is-' + kind;
    box.setAttribute('data-kind', kind);
    box.appendChild(el('span', { class: 'ico', 'aria-hidden': 'true' }, [el('span', { text: kind === 'ok' ? '✓' : kind === 'error' ? '!' : 'i' })]));
    var txt = el('span', { 'data-testid': 'rules-status-text', text: text });
    box.appendChild(txt);
    if (testValue != null) box.appendChild(el('span', { class: 'ver ver-cand', 'data-testid': 'saved-version', 'data-version': String(testValue), text: t('rules.savedVersion', { v: testValue }) }));
    if (actions && actions.length) box.appendChild(el('div', { class: 'banner-actions' }, actions));
    box.hidden = false;
    if (S.section === 'rules') box.scrollIntoView({ block: 'nearest' });
  }
  function hideRulesStatus() { $('rules-status').hidden = true; }
  function showRulesConfirm(text, sub, okLabel, okClass, onOk) {
    var bar = clear($('rules-confirm'));
    bar.appendChild(el('div', {}, [el('strong', { text: text }), sub ? el('div', { style: { fontSize: '13px' }, text: sub }) : null]));
    var ok = el('button', { type: 'button', class: 'btn btn-sm ' + (okClass || 'btn-primary'), 'data-testid': 'rules-confirm-ok', text: okLabel,
      onclick: function () { hideRulesConfirm(); onOk(); } });
    bar.appendChild(el('div', { class: 'confirm-actions' }, [
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'rules-confirm-cancel', text: t('common.cancel'), onclick: hideRulesConfirm }),
      ok
    ]));
    bar.hidden = false;
    ok.focus();
  }
  function hideRulesConfirm() { $('rules-confirm').hidden = true; }

  /* -------------------------------------------------------------- actions */
  /** The editor's document, or null after reporting malformed JSON in place. */
  function docForSend() {
    afterEdit(false);
    var je = E.jsonError;
    if (je) {
      showRulesStatus('error', t('rules.json.title') + ' ' + t('rules.json.at', { line: je.line, col: je.col, msg: je.msg }), [
        el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'json-error-goto', text: 'L' + je.line,
          onclick: function () { if (je.pos != null) { editor.focus(); editor.setSelectionRange(je.pos, je.pos); E.focusLine = je.line; renderGutter(); } } })
      ]);
      $('rules-status').setAttribute('data-testid', 'rules-status');
      if (je.pos != null) { editor.focus({ preventScroll: true }); editor.setSelectionRange(je.pos, je.pos); E.focusLine = je.line; editor.scrollTop = Math.max(0, (je.line - 4) * 20); renderGutter(); }
      $('rules-status').scrollIntoView({ block: 'nearest' });
      return null;
    }
    if (!E.doc || typeof E.doc !== 'object' || Array.isArray(E.doc)) { showRulesStatus('error', t('rules.json.notObject')); return null; }
    return E.doc;
  }
  function setProblems(problems, kind) {
    E.problems = arr(problems).map(function (p) { return { path: String((p && p.path) || 'document'), message: String((p && p.message) || '') }; });
    E.problemsKind = kind;
    E.problemsText = editor.value;
    gutterSig = '';
    renderPreview(); renderProblems(); renderGutter();
    if (E.problems.length) $('problems').scrollIntoView({ block: 'nearest' });
  }
  function rulesBusy(which) {
    E.busy = which;
    setBusy($('btn-validate'), which === 'validate' ? 'rules.validating' : null);
    setBusy($('btn-save'), which === 'save' ? 'rules.saving' : null);
    setBusy($('btn-activate'), which === 'activate' ? 'rules.activating' : null);
    ['btn-validate', 'btn-save', 'btn-activate', 'btn-dryrun', 'btn-format'].forEach(function (id) { $(id).disabled = !!which; });
  }

  function validateRules() {
    if (E.busy) return;
    hideRulesConfirm();
    var doc = docForSend();
    if (!doc) return;
    rulesBusy('validate');
    api('POST', '/v1/routing/rules/validate', doc).then(function (r) {
      if (r.ok) { setProblems([], null); showRulesStatus('ok', t('rules.valid')); }
      else if (r.status === 422) { hideRulesStatus(); setProblems(r.data && r.data.problems && r.data.problems.length ? r.data.problems : [{ path: 'document', message: errMsg(r) }], 'validate'); }
      else if (missingRoute(r)) { setProblems([], null); showRulesStatus('info', t('rules.validLocal')); }
      else showRulesStatus('error', t('rules.validateFailed', { msg: errMsg(r) }));
    }).catch(function () { showRulesStatus('error', t('rules.validateFailed', { msg: t('common.network') })); })
      .then(function () { rulesBusy(null); });
  }

  function saveRules() {
    if (E.busy) return;
    hideRulesConfirm();
    var doc = docForSend();
    if (!doc) return;
    rulesBusy('save');
    var text = editor.value;
    api('POST', '/v1/routing/rules', doc).then(function (r) {
      if (r.ok && r.data && isNum(r.data.version)) {
        var v = r.data.version;
        noteVersion(v);
        S.lastSaved = v;
        E.savedText = text;
        E.base = { kind: 'saved', version: v };
        setProblems([], null);
        showRulesStatus('ok', t('rules.saved', { v: v }), [
          el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'saved-dryrun', text: t('rules.tryIt', { v: v }), onclick: function () { goDryRun(v, true); } }),
          el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'saved-activate', text: t('rules.activateIt', { v: v }), onclick: function () { confirmActivateFromRules(v); } })
        ], v);
        renderRulesBase(); renderLoadSelect();
        if (S.versionsState !== 'idle') loadVersions();
        if (S.auditState === 'ok') loadAudit();
      } else if (r.status === 422) {
        hideRulesStatus();
        setProblems(r.data && r.data.problems && r.data.problems.length ? r.data.problems : [{ path: 'document', message: errMsg(r) }], 'save');
      } else {
        showRulesStatus('error', t('rules.saveFailed', { msg: errMsg(r) }));
      }
    }).catch(function () { showRulesStatus('error', t('rules.saveFailed', { msg: t('common.network') })); })
      .then(function () { rulesBusy(null); });
  }

  function needSaveBanner(key) {
    showRulesStatus('warn', t(key), [el('button', { type: 'button', class: 'btn btn-primary btn-sm', text: t('rules.save'), onclick: saveRules })]);
  }
  function editorVersion() { return E.base && E.base.version && !isDirty() ? E.base.version : null; }

  function dryRunFromEditor() {
    hideRulesConfirm();
    var v = editorVersion();
    if (!v) { needSaveBanner('rules.needSave'); return; }
    goDryRun(v, false);
  }
  function activateFromEditor() {
    hideRulesConfirm();
    if (isDirty() || !E.base || !E.base.version) { needSaveBanner(isDirty() && E.base && E.base.version ? 'rules.needSaveActivate' : 'rules.nothingToActivate'); return; }
    confirmActivateFromRules(E.base.version);
  }
  function confirmActivateFromRules(v) {
    var active = activeVersion();
    if (v === active) { showRulesStatus('info', t('rules.alreadyActive', { v: v })); return; }
    var rollback = active && v < active;
    showRulesConfirm(t(rollback ? 'rules.confirmRollback' : 'rules.confirmActivate', { v: v }), active ? t('rules.confirmActivateWas', { prev: 'v' + active }) : null,
      rollback ? t('hist.rollback', { v: v }) : t('rules.activateIt', { v: v }), 'btn-primary', function () {
        rulesBusy('activate');
        activateVersion(v).then(function (res) {
          if (res.ok) showRulesStatus('ok', res.message);
          else showRulesStatus('error', res.message);
        }).then(function () { rulesBusy(null); });
      });
  }

  /**
   * POST …/activate. Resolves {ok, message}; on success the live figures, history and the
   * editor's base are refreshed.
   */
  function activateVersion(v) {
    return api('POST', '/v1/routing/rules/' + v + '/activate').then(function (r) {
      if (r.ok) {
        var prev = r.data && has(r.data, 'previous') ? r.data.previous : null;
        if (S.live.data) S.live.data.rules_version = v;
        noteVersion(v);
        var msg = prev ? t('rules.activatedWas', { v: v, prev: 'v' + prev }) : t('rules.activated', { v: v });
        toast(msg);
        onActiveChanged();
        loadVersions();
        if (S.auditState !== 'idle') loadAudit();
        pollNow();
        return { ok: true, message: msg };
      }
      if (r.status === 404 && !missingRoute(r)) return { ok: false, message: t('dry.err.unknown', { v: v }) };
      return { ok: false, message: t('rules.activateFailed', { msg: errMsg(r) }) };
    }).catch(function () { return { ok: false, message: t('rules.activateFailed', { msg: t('common.network') }) }; });
  }

  $('btn-validate').addEventListener('click', validateRules);
  $('btn-save').addEventListener('click', saveRules);
  $('btn-dryrun').addEventListener('click', dryRunFromEditor);
  $('btn-activate').addEventListener('click', activateFromEditor);
  $('btn-format').addEventListener('click', function () {
    afterEdit(false);
    if (E.jsonError) { docForSend(); return; }
    var text = pretty(E.doc);
    if (text !== editor.value) { editor.value = text; editor.dispatchEvent(new Event('input')); afterEdit(false); }
  });

  function renderCheatSheet() {
    var box = clear($('cheat-body'));
    var dl = el('dl', { style: { margin: '0', display: 'grid', gap: '8px' } });
    var row = function (title, items) {
      dl.appendChild(el('div', {}, [el('dt', { text: title }), el('dd', {}, items.map(function (x) { return el('code', { title: x[1] || '', text: x[0] }); }))]));
    };
    row(t('rules.cheatAttrs'), ATTRIBUTES.map(function (a) { return [a]; }));
    row(t('rules.cheatOps'), [['=='], ['!='], ['<'], ['>='], ['&&'], ['||'], ['!'], ["'vip' in tags"], ["intent in ['billing', 'refunds']"], ['true']]);
    row(t('rules.cheatStrategies'), STRATEGIES.map(function (s) { return [s, lbl('strategy.', s)]; }));
    row(t('rules.cheatFallbacks'), FALLBACKS.map(function (s) { return [s, lbl('fallback.', s)]; }));
    box.appendChild(dl);
  }

  onEnter.rules = function () {
    if (S.activeState === 'idle' || S.activeState === 'error') loadActive();
    if (S.versionsState === 'idle') loadVersions();
    renderRulesBase(); renderLoadSelect(); renderGutter();
  };

  /* ============================================================== dry-run */
  var dryForm = $('dry-form');
  var dryErr = el('p', { class: 'field-error', 'data-testid': 'dryrun-error', role: 'alert', hidden: true });
  dryForm.appendChild(dryErr);

  function toLocalInput(ms) {
    var d = new Date(ms), p = function (n) { return ('0' + n).slice(-2); };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
  function fromLocalInput(v) { if (!v) return null; var d = new Date(v); return isNaN(d.getTime()) ? null : d.getTime(); }
  function setWindowHours(h) {
    var to = Math.ceil((Date.now() + 60000) / 60000) * 60000; // the next full minute: covers "now"
    $('dry-to').value = toLocalInput(to);
    $('dry-from').value = toLocalInput(to - h * 3600000);
    markPreset();
  }
  function markPreset() {
    var from = fromLocalInput($('dry-from').value), to = fromLocalInput($('dry-to').value);
    var hours = from != null && to != null ? Math.round((to - from) / 360000) / 10 : null;
    var nearNow = to != null && Math.abs(to - Date.now()) < 5 * 60000;
    dryForm.querySelectorAll('[data-preset]').forEach(function (b) { b.classList.toggle('is-on', nearNow && Number(b.getAttribute('data-preset')) === hours); });
  }
  dryForm.querySelectorAll('[data-preset]').forEach(function (b) {
    b.addEventListener('click', function () { setWindowHours(Number(b.getAttribute('data-preset'))); });
  });
  ['dry-from', 'dry-to'].forEach(function (id) { $(id).addEventListener('change', markPreset); });
  $('dry-version').addEventListener('change', function () { S.dry.version = Number(this.value) || null; });

  function renderDryVersions() {
    var sel = clear($('dry-version'));
    var list = versionNumbers(), active = activeVersion();
    if (!list.length) { sel.appendChild(el('option', { value: '', text: t('dry.noVersions') })); sel.disabled = true; return; }
    sel.disabled = false;
    list.forEach(function (v) {
      var text = v === active ? t('dry.versionActive', { v: v }) : v === S.lastSaved ? t('dry.versionNew', { v: v }) : t('dry.versionOpt', { v: v });
      sel.appendChild(el('option', { value: String(v), text: text }));
    });
    var want = S.dry.version || S.lastSaved || list[0];
    if (list.indexOf(want) === -1) list.push(want) && sel.appendChild(el('option', { value: String(want), text: t('dry.versionOpt', { v: want }) }));
    sel.value = String(want);
    S.dry.version = want;
  }

  function goDryRun(v, autoRun) {
    S.dry.version = v;
    S.dry.autoRun = !!autoRun;
    go('dryrun');
  }

  dryForm.addEventListener('submit', function (ev) { ev.preventDefault(); runDry(); });

  function runDry() {
    dryErr.hidden = true;
    var v = Number($('dry-version').value);
    var from = fromLocalInput($('dry-from').value), to = fromLocalInput($('dry-to').value);
    var fail = function (msg) { dryErr.textContent = msg; dryErr.hidden = false; };
    if (!v) return fail(t('dry.err.version'));
    if (from == null || to == null || from >= to) return fail(t('dry.err.window'));
    if (to - from > 31 * 86400000) return fail(t('dry.err.long'));
    var body = { from: new Date(from).toISOString().replace(/\.\d{3}Z$/, 'Z'), to: new Date(to).toISOString().replace(/\.\d{3}Z$/, 'Z') };
    S.dry.state = 'loading'; S.dry.window = body; S.dry.version = v;
    markPreset();
    setBusy($('dry-run'), 'dry.running');
    renderDryReport();
    var seq = S.dry.seq = (S.dry.seq || 0) + 1;
    api('POST', '/v1/routing/rules/' + v + '/dry-run', body).then(function (r) {
      if (seq !== S.dry.seq) return;
      if (r.ok && r.data) { S.dry.state = 'ok'; S.dry.report = r.data; }
      else if (missingRoute(r)) S.dry.state = 'unavailable';
      else {
        S.dry.state = S.dry.report ? 'ok' : 'idle';
        var probs = arr(r.data && r.data.problems);
        fail(r.status === 404 ? t('dry.err.unknown', { v: v })
          : t('dry.err.failed', { msg: probs.length ? probs.map(function (p) { return (p.path ? p.path + ': ' : '') + p.message; }).join(' · ') : errMsg(r) }));
      }
    }).catch(function () {
      if (seq !== S.dry.seq) return;
      S.dry.state = S.dry.report ? 'ok' : 'idle';
      fail(t('dry.err.failed', { msg: t('common.network') }));
    }).then(function () {
      if (seq !== S.dry.seq) return;
      setBusy($('dry-run'), null);
      renderDryReport();
    });
  }

  onEnter.dryrun = function (args, changed) {
    if (!$('dry-from').value || !$('dry-to').value) setWindowHours(24);
    else if (S.dry.autoRun) setWindowHours(24);
    if (S.versionsState === 'idle') loadVersions();
    renderDryVersions();
    markPreset();
    renderDryReport();
    if (S.dry.autoRun) { S.dry.autoRun = false; runDry(); }
  };

  /* --------------------------------------------------------------- report */
  function agentName(id) {
    var a = arr(S.live.data && S.live.data.agents).find(function (x) { return x && x.agent_id === id; });
    return (a && a.name) || String(id || '?');
  }
  function deltaNode(kind, cand, base, better) {
    if (!isNum(cand) || !isNum(base)) return null;
    var diff = cand - base;
    var eps = kind === 'pct' ? 0.0005 : kind === 'secs' ? 0.05 : 0;
    if (Math.abs(diff) <= eps) return el('span', { class: 'delta', text: t('dry.same') });
    var good = better === 'higher' ? diff > 0 : diff < 0;
    var sign = diff > 0 ? '+' : '−', a = Math.abs(diff);
    var text = kind === 'pct' ? sign + t('dry.pp', { n: (a * 100).toFixed(1) }) : kind === 'secs' ? sign + fmtSecs(a) : sign + fmtInt(a);
    return el('span', { class: 'delta ' + (good ? 'is-good' : 'is-bad'), 'data-testid': 'delta', text: (diff > 0 ? '▲ ' : '▼ ') + text });
  }
  function fmtKind(kind, v) { return kind === 'pct' ? fmtPct(v, 1) : kind === 'secs' ? fmtSecs(v) : fmtInt(v); }
  function kpiTile(id, label, kind, cand, base, better) {
    var c = obj(cand), b = obj(base);
    var cv = num(c[id]), bv = num(b[id]);
    var d = deltaNode(kind, cv, bv, better);
    var cls = d && /is-good/.test(d.className) ? ' is-good' : d && /is-bad/.test(d.className) ? ' is-bad' : '';
    return el('div', { class: 'kpi' + cls, 'data-testid': 'kpi', 'data-kpi': id }, [
      el('span', { class: 'kpi-label', text: label }),
      el('span', { class: 'kpi-value', text: fmtKind(kind, cv) }),
      el('div', { class: 'kpi-foot' }, [d, el('span', { text: t('dry.was', { v: fmtKind(kind, bv) }) })])
    ]);
  }
  function cmpCell(kind, cv, bv, better) {
    var cell = el('td', { class: 'num cmp' }, [fmtKind(kind, cv)]);
    var d = isNum(cv) && isNum(bv) && cv !== bv ? ((better === 'higher' ? cv > bv : cv < bv) ? ' is-good' : ' is-bad') : '';
    cell.appendChild(el('span', { class: 'base delta-inline' + d, text: fmtKind(kind, bv) }));
    return cell;
  }

  function outcome(o) {
    o = Object.assign({}, obj(o));
    if (!isNum(o.abandonment) && isNum(o.abandonment_rate)) o.abandonment = o.abandonment_rate;
    if (!isNum(o.service_level) && isNum(o.answered) && o.answered > 0 && isNum(o.answered_within_sl)) o.service_level = o.answered_within_sl / o.answered;
    return o;
  }
  function renderDryReport() {
    var box = clear($('dry-report'));
    var st = S.dry.state;
    if (st === 'unavailable') { box.appendChild(el('div', { class: 'card' }, [emptyState('unavailable', t('dry.unavailable'), t('dry.unavailableText'))])); return; }
    if (st === 'loading') {
      var w = S.dry.window;
      box.appendChild(el('div', { class: 'card' }, [loadingRow(t('dry.loading', { from: fmtDateTime(w.from), to: fmtDateTime(w.to) }))]));
      var sk = el('div', { class: 'kpis' });
      for (var i = 0; i < 6; i++) sk.appendChild(el('div', { class: 'kpi skeleton', style: { height: '92px' } }));
      box.appendChild(sk);
      box.appendChild(el('div', { class: 'card skeleton', style: { height: '300px' } }));
      return;
    }
    var rep = S.dry.report;
    if (!rep) { box.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('dry.emptyTitle'), t('dry.emptyText'))])); return; }

    var v = rep.version, base = rep.baseline_version, active = activeVersion();
    var cand = outcome(rep.candidate), bl = outcome(rep.baseline);
    var report = el('div', { class: 'report', 'data-testid': 'dryrun-report', 'data-version': String(v) });

    // ---- head
    var actions = el('div', { class: 'report-actions' });
    if (v === active) actions.appendChild(el('span', { class: 'badge badge-ok', 'data-testid': 'dry-active', text: t('dry.isActive', { v: v }) }));
    else if (S.confirm && S.confirm.scope === 'dry' && S.confirm.v === v) {
      actions.appendChild(el('span', { class: 'muted', style: { fontSize: '13px', alignSelf: 'center' }, text: t(active && v < active ? 'rules.confirmRollback' : 'rules.confirmActivate', { v: v }) }));
      actions.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.cancel'), onclick: function () { S.confirm = null; renderDryReport(); } }));
      actions.appendChild(el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'dry-activate-confirm', text: t('common.confirm'),
        onclick: function (ev) { S.confirm = null; ev.currentTarget.disabled = true; activateVersion(v).then(function (res) { if (!res.ok) toast(res.message, 'error'); renderDryReport(); }); } }));
    } else {
      actions.appendChild(el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'dry-activate', text: t('dry.activate', { v: v }),
        onclick: function () { S.confirm = { scope: 'dry', v: v }; renderDryReport(); } }));
    }
    report.appendChild(el('div', { class: 'report-head' }, [
      el('div', { class: 'report-title' }, [
        el('span', { class: 'ver ver-cand', text: 'v' + v }),
        el('span', { class: 'vs', text: t('dry.vs') }),
        el('span', { class: 'ver ver-base', text: base ? 'v' + base : t('dry.baselineBuiltin') })
      ]),
      el('div', { class: 'report-meta' }, [
        el('span', {}, [el('b', { text: fmtDateTime(rep.from) }), ' → ', el('b', { text: fmtDateTime(rep.to) })]),
        el('span', { 'data-testid': 'dry-tasks', text: t('dry.tasks', { n: fmtInt(num(rep.tasks) || 0) }) }),
        isNum(rep.agents) ? el('span', { text: t('dry.agents', { n: rep.agents }) }) : null
      ]),
      actions
    ]));

    var un = num(cand.unserved), ub = num(bl.unserved);
    if ((un || ub) && num(rep.tasks)) {
      report.appendChild(el('div', { class: 'notice notice-warn', 'data-testid': 'dry-unserved', text: un === ub ? t('dry.unserved', { n: un }) : t('dry.unservedCmp', { n: fmtInt(un || 0), b: fmtInt(ub || 0) }) }));
    }
    if (!num(rep.tasks)) {
      report.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('dry.noTasks'), t('dry.noTasksText', { from: fmtDateTime(rep.from), to: fmtDateTime(rep.to) }))]));
    }

    // ---- KPIs
    report.appendChild(el('div', { class: 'kpis', 'data-testid': 'dry-kpis' }, [
      kpiTile('service_level', t('dry.kpi.sl'), 'pct', cand, bl, 'higher'),
      kpiTile('wait_p50_secs', t('dry.kpi.p50'), 'secs', cand, bl, 'lower'),
      kpiTile('wait_p90_secs', t('dry.kpi.p90'), 'secs', cand, bl, 'lower'),
      kpiTile('abandonment', t('dry.kpi.abandonment'), 'pct', cand, bl, 'lower'),
      kpiTile('answered', t('dry.kpi.answered'), 'int', cand, bl, 'higher'),
      kpiTile('fallbacks', t('dry.kpi.fallbacks'), 'int', cand, bl, 'lower')
    ]));

    // ---- chart
    var chartBox = el('div', { class: 'chart', 'data-testid': 'dryrun-chart' });
    report.appendChild(el('div', { class: 'card chart-card' }, [
      el('div', { class: 'card-head' }, [
        el('h2', { text: t('dry.chart') }),
        el('span', { class: 'card-hint', style: { marginLeft: '0' }, text: t('dry.chartHint') }),
        el('div', { class: 'chart-legend' }, [
          el('span', { class: 'legend-key' }, [el('i', { class: 'is-cand' }), t('dry.candidate', { v: v })]),
          el('span', { class: 'legend-key' }, [el('i', { class: 'is-base' }), t('dry.baselineKey') + (base ? ' v' + base : '')])
        ])
      ]),
      chartBox
    ]));

    // ---- per queue + per agent
    report.appendChild(el('div', { class: 'report-grid' }, [dryQueues(cand, bl), dryAgents(cand, bl)]));
    report.appendChild(dryChanged(rep));
    box.appendChild(report);
    drawChart(chartBox, arr(rep.timeline), rep);
  }

  function dryQueues(cand, bl) {
    var names = {}, cq = {}, bq = {};
    arr(cand.queues).forEach(function (q) { if (q) { names[q.queue] = 1; cq[q.queue] = q; } });
    arr(bl.queues).forEach(function (q) { if (q) { names[q.queue] = 1; bq[q.queue] = q; } });
    var card = el('div', { class: 'card' }, [el('div', { class: 'card-head' }, [el('h2', { text: t('dry.queues') }), el('span', { class: 'card-hint', text: t('dry.queuesHint') })])]);
    var keys = Object.keys(names).sort(function (a, b) { return (num(obj(cq[b]).tasks) || 0) - (num(obj(cq[a]).tasks) || 0) || a.localeCompare(b); });
    if (!keys.length) { card.appendChild(emptyState('empty', t('live.noQueues'))); return card; }
    var body = el('tbody');
    keys.forEach(function (k) {
      var c = obj(cq[k]), b = obj(bq[k]);
      body.appendChild(el('tr', { 'data-testid': 'dry-queue-row', 'data-queue': k }, [
        el('td', {}, [el('span', { class: 'q-name' }, [el('span', { class: 'q-swatch', style: { background: queueColor(k) } }), k])]),
        cmpCell('int', num(c.tasks), num(b.tasks), 'none'),
        cmpCell('int', num(c.answered), num(b.answered), 'higher'),
        cmpCell('secs', num(c.wait_p50_secs), num(b.wait_p50_secs), 'lower'),
        cmpCell('secs', num(c.wait_p90_secs), num(b.wait_p90_secs), 'lower'),
        cmpCell('pct', num(c.service_level), num(b.service_level), 'higher'),
        cmpCell('int', num(c.abandoned), num(b.abandoned), 'lower'),
        cmpCell('int', num(c.fallbacks), num(b.fallbacks), 'lower')
      ]));
    });
    var head = el('tr', {}, ['col.queue', 'col.tasks', 'col.answered', 'col.p50', 'col.p90', 'col.sl', 'col.abandoned', 'col.fallbacks'].map(function (k, i) {
      return el('th', { class: i ? 'num' : '', text: t(k) });
    }));
    card.appendChild(el('div', { class: 'table-wrap' }, [el('table', { class: 'table', 'data-testid': 'dry-queues' }, [el('thead', {}, [head]), body])]));
    return card;
  }

  function dryAgents(cand, bl) {
    var card = el('div', { class: 'card' }, [el('div', { class: 'card-head' }, [el('h2', { text: t('dry.agentsTitle') }),
      el('div', { class: 'chart-legend' }, [el('span', { class: 'legend-key' }, [el('i', { class: 'is-cand' }), 'v' + (S.dry.report && S.dry.report.version)]),
        el('span', { class: 'legend-key' }, [el('i', { style: { background: '#adb5bd' } }), t('dry.baselineKey')])])])]);
    var ids = {}, ca = {}, ba = {};
    arr(cand.agents).forEach(function (a) { if (a) { ids[a.agent_id] = 1; ca[a.agent_id] = a; } });
    arr(bl.agents).forEach(function (a) { if (a) { ids[a.agent_id] = 1; ba[a.agent_id] = a; } });
    var keys = Object.keys(ids).sort(function (x, y) { return (num(obj(ca[y]).occupancy) || 0) - (num(obj(ca[x]).occupancy) || 0); });
    if (!keys.length) { card.appendChild(emptyState('empty', t('live.noAgents'))); return card; }
    var list = el('ul', { class: 'occ-list', 'data-testid': 'dry-agents' });
    keys.forEach(function (id) {
      var c = obj(ca[id]), b = obj(ba[id]), name = agentName(id);
      var bar = function (cls, v) {
        return el('div', { class: 'occ-bar' }, [el('div', { class: 'occ-track ' + cls }, [el('span', { style: { width: clamp((num(v) || 0) * 100, 0, 100) + '%' } })]), el('span', { class: 'pct', text: fmtPct(num(v), 0) })]);
      };
      var handled = isNum(b.handled) && b.handled !== c.handled ? t('dry.handledWas', { n: fmtInt(num(c.handled) || 0), b: fmtInt(b.handled) }) : t('dry.handled', { n: fmtInt(num(c.handled) || 0) });
      list.appendChild(el('li', { class: 'occ-row', 'data-testid': 'dry-agent', 'data-agent-id': id }, [
        avatarNode(name),
        el('div', {}, [el('div', { class: 'occ-name' }, [el('span', { text: name }), el('span', { text: handled })]),
          el('div', { class: 'occ-bars' }, [bar('is-cand', c.occupancy), bar('is-base', b.occupancy)])])
      ]));
    });
    card.appendChild(list);
    return card;
  }

  function dryChanged(rep) {
    var n = num(rep.changed_queue_count) || 0, sample = arr(rep.changed_queue);
    var card = el('div', { class: 'card', 'data-testid': 'dry-changed' }, [el('div', { class: 'card-head' }, [
      el('h2', { text: t('dry.changed') }),
      el('span', { class: 'badge ' + (n ? 'badge-warn' : 'badge-ok'), 'data-testid': 'changed-count', text: fmtInt(n) }),
      el('span', { class: 'card-hint', text: n ? t('dry.changedCount', { n: fmtInt(n), total: fmtInt(num(rep.tasks) || 0) }) : '' })
    ])]);
    if (!n && !sample.length) { card.appendChild(el('p', { class: 'muted', style: { fontSize: '13.5px' }, text: t('dry.changedNone') })); return card; }
    var flows = {};
    sample.forEach(function (c) { var k = (c.from || '—') + '\u0000' + (c.to || '—'); flows[k] = (flows[k] || 0) + 1; });
    var fbox = el('div', { class: 'flows' });
    Object.keys(flows).sort(function (a, b) { return flows[b] - flows[a]; }).forEach(function (k) {
      var p = k.split('\u0000');
      fbox.appendChild(el('span', { class: 'flow' }, [queueTag(p[0]), el('span', { class: 'arrow', text: '→' }), queueTag(p[1]), el('b', { text: '×' + flows[k] })]));
    });
    card.appendChild(fbox);
    if (sample.length) {
      var body = el('tbody');
      sample.forEach(function (c) {
        body.appendChild(el('tr', { 'data-testid': 'changed-row' }, [el('td', {}, [el('span', { class: 'task-id', text: c.task_id || '—' })]), el('td', {}, [queueTag(c.from)]), el('td', {}, [queueTag(c.to)])]));
      });
      card.appendChild(el('p', { class: 'card-hint', style: { margin: '0 0 6px' }, text: t('dry.changedSample', { n: sample.length }) }));
      card.appendChild(el('div', { class: 'table-wrap sample-list' }, [el('table', { class: 'table' }, [
        el('thead', {}, [el('tr', {}, [el('th', { text: t('col.task') }), el('th', { text: t('col.from') }), el('th', { text: t('col.to') })])]), body])]));
    }
    return card;
  }

  /* ---------------------------------------------------------------- chart */
  function niceMax(v) {
    if (!(v > 0)) return 4;
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    var step = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
    var max = step * p;
    if (max < 4 && Math.round(v) === v) max = Math.max(4, Math.ceil(v));
    return max;
  }
  function drawChart(box, points, rep) {
    clear(box);
    points = points.filter(function (p) { return p && isNum(p.at_secs); });
    if (!points.length) { box.appendChild(emptyState('empty', t('dry.chartEmpty'))); return; }
    var W = Math.max(320, box.clientWidth || 800), H = 280, L = 40, R = 14, T = 14, B = 30;
    var fromMs = rep.from ? U.toDate(rep.from).getTime() : 0;
    var span = Math.max(points[points.length - 1].at_secs, rep.from && rep.to ? (U.toDate(rep.to).getTime() - fromMs) / 1000 : 0, 1);
    var maxY = niceMax(Math.max.apply(null, points.map(function (p) { return Math.max(num(p.candidate_waiting) || 0, num(p.baseline_waiting) || 0); })));
    var x = function (s) { return L + (s / span) * (W - L - R); };
    var y = function (v) { return T + (1 - (v || 0) / maxY) * (H - T - B); };
    var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'data-testid': 'dryrun-chart-svg', 'aria-label': t('dry.chart') });
    svg.style.height = H + 'px';
    var defs = svgEl('defs');
    var grad = svgEl('linearGradient', { id: 'cand-fill', x1: '0', y1: '0', x2: '0', y2: '1' });
    grad.appendChild(svgEl('stop', { offset: '0%', 'stop-color': '#3b5bdb', 'stop-opacity': '0.22' }));
    grad.appendChild(svgEl('stop', { offset: '100%', 'stop-color': '#3b5bdb', 'stop-opacity': '0.02' }));
    defs.appendChild(grad); svg.appendChild(defs);

    // grid + y axis
    var grid = svgEl('g', { class: 'grid' }), axis = svgEl('g', { class: 'axis' });
    var ySteps = 4;
    for (var i = 0; i <= ySteps; i++) {
      var val = maxY * i / ySteps, yy = y(val);
      grid.appendChild(svgEl('line', { x1: L, x2: W - R, y1: yy, y2: yy }));
      var tx = svgEl('text', { x: L - 8, y: yy + 4, 'text-anchor': 'end' });
      tx.textContent = Math.round(val * 10) / 10;
      axis.appendChild(tx);
    }
    // x axis: ticks on round local times
    var steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
    var step = steps.find(function (s) { return span / s <= 7; }) || 604800;
    var startMs = new Date(fromMs); startMs.setHours(0, 0, 0, 0);
    var first = startMs.getTime() + Math.ceil((fromMs - startMs.getTime()) / (step * 1000)) * step * 1000;
    var longWindow = span > 36 * 3600;
    for (var tm = first; tm <= fromMs + span * 1000 + 1; tm += step * 1000) {
      var xx = x((tm - fromMs) / 1000);
      grid.appendChild(svgEl('line', { x1: xx, x2: xx, y1: T, y2: H - B, 'stroke-dasharray': '2 4' }));
      var lab = svgEl('text', { x: xx, y: H - B + 18, 'text-anchor': 'middle' });
      var d = new Date(tm);
      lab.textContent = longWindow && d.getHours() === 0 && d.getMinutes() === 0
        ? new Intl.DateTimeFormat(i18n.lang, { month: 'short', day: 'numeric' }).format(d)
        : ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
      axis.appendChild(lab);
    }
    axis.appendChild(svgEl('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: '#cfd4e0' }));
    svg.appendChild(grid); svg.appendChild(axis);

    // series (steps: the count holds until the next sample)
    var path = function (key) {
      var dd = '';
      points.forEach(function (p, k) {
        var px = x(p.at_secs), py = y(num(p[key]));
        if (!k) dd += 'M' + px.toFixed(1) + ' ' + py.toFixed(1);
        else dd += 'H' + px.toFixed(1) + 'V' + py.toFixed(1);
      });
      return dd + 'H' + x(span).toFixed(1);
    };
    var candPath = path('candidate_waiting');
    svg.appendChild(svgEl('path', { class: 'area-cand', d: candPath + 'V' + y(0).toFixed(1) + 'H' + x(points[0].at_secs).toFixed(1) + 'Z' }));
    // the dashed baseline goes on top so it stays visible where both agree
    svg.appendChild(svgEl('path', { class: 'line-cand', 'data-testid': 'chart-candidate', d: candPath }));
    svg.appendChild(svgEl('path', { class: 'line-base', 'data-testid': 'chart-baseline', d: path('baseline_waiting') }));

    // hover
    var hover = svgEl('g', { visibility: 'hidden' });
    var hl = svgEl('line', { class: 'hover-line', y1: T, y2: H - B });
    var hc = svgEl('circle', { class: 'hover-dot', r: 4.5, fill: '#3b5bdb' });
    var hb = svgEl('circle', { class: 'hover-dot', r: 4, fill: '#868e96' });
    hover.appendChild(hl); hover.appendChild(hb); hover.appendChild(hc);
    svg.appendChild(hover);
    var tip = el('div', { class: 'chart-tip', hidden: true });
    var overlay = svgEl('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: 'transparent' });
    svg.appendChild(overlay);
    var move = function (ev) {
      var rect = svg.getBoundingClientRect();
      var sx = (ev.clientX - rect.left) * (W / rect.width);
      var at = clamp((sx - L) / (W - L - R), 0, 1) * span;
      var best = points[0];
      points.forEach(function (p) { if (p.at_secs <= at) best = p; });
      var px = x(best.at_secs);
      hl.setAttribute('x1', px); hl.setAttribute('x2', px);
      hc.setAttribute('cx', px); hc.setAttribute('cy', y(num(best.candidate_waiting)));
      hb.setAttribute('cx', px); hb.setAttribute('cy', y(num(best.baseline_waiting)));
      hover.setAttribute('visibility', 'visible');
      clear(tip);
      tip.appendChild(el('div', { class: 'tip-time', text: fmtDateTime(fromMs + best.at_secs * 1000) }));
      tip.appendChild(el('div', { class: 'tip-row' }, [el('span', {}, [el('i', { style: { background: '#3b5bdb' } }), t('dry.candidate', { v: rep.version })]), el('b', { text: fmtInt(num(best.candidate_waiting) || 0) })]));
      tip.appendChild(el('div', { class: 'tip-row' }, [el('span', {}, [el('i', { style: { background: '#868e96' } }), t('dry.baselineKey')]), el('b', { text: fmtInt(num(best.baseline_waiting) || 0) })]));
      tip.hidden = false;
      tip.style.left = (px * rect.width / W) + 'px';
      tip.style.top = (Math.min(y(num(best.candidate_waiting)), y(num(best.baseline_waiting))) * rect.height / H - 10) + 'px';
    };
    overlay.addEventListener('mousemove', move);
    overlay.addEventListener('mouseleave', function () { hover.setAttribute('visibility', 'hidden'); tip.hidden = true; });
    box.classList.toggle('is-dense', points.length > 60);
    box.appendChild(svg);
    box.appendChild(tip);
  }
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { if (S.section === 'dryrun' && S.dry.state === 'ok') renderDryReport(); }, 150);
  });

  /* ============================================================== history */
  S.histOpen = {};
  function loadVersions() {
    if (S.versionsState === 'loading') return;
    var first = S.versionsState === 'idle' || S.versionsState === 'error';
    S.versionsState = first ? 'loading' : S.versionsState;
    if (first && S.section === 'history') renderVersions();
    api('GET', '/v1/routing/rules/versions').then(function (r) {
      if (r.ok && r.data) {
        S.versions = r.data; S.versionsState = 'ok';
        arr(r.data.versions).forEach(function (v) { if (v) noteVersion(v.version); });
      } else if (missingRoute(r)) S.versionsState = 'unavailable';
      else if (first) { S.versionsState = 'error'; S.versionsError = errMsg(r); }
    }).catch(function () { if (first) { S.versionsState = 'error'; S.versionsError = t('common.network'); } })
      .then(function () {
        if (S.versionsState === 'loading') S.versionsState = 'error';
        renderVersions(); renderLoadSelect();
        if (S.section === 'dryrun') renderDryVersions();
      });
  }
  function loadAudit() {
    var first = S.auditState !== 'ok';
    if (first) { S.auditState = 'loading'; renderAudit(); }
    api('GET', '/v1/routing/history?limit=50').then(function (r) {
      if (r.ok && r.data) { S.audit = arr(r.data.entries); S.auditState = 'ok'; }
      else if (missingRoute(r)) S.auditState = 'unavailable';
      else if (first) { S.auditState = 'error'; S.auditError = errMsg(r); }
    }).catch(function () { if (first) { S.auditState = 'error'; S.auditError = t('common.network'); } })
      .then(renderAudit);
  }
  $('hist-refresh').addEventListener('click', function () { loadVersions(); loadAudit(); loadActive(true); });
  onEnter.history = function () { loadVersions(); loadAudit(); renderVersions(); renderAudit(); };

  function jsonText(v) {
    if (v === undefined) return '—';
    var s = JSON.stringify(v);
    if (s && s.length > 60) s = JSON.stringify(v, null, 2);
    return s == null ? 'null' : s;
  }
  function skillsText(list) {
    var a = arr(list);
    return a.length ? a.map(function (x) { x = obj(x); return (x.name || '?') + (isNum(x.min_level) ? ' ≥' + x.min_level : ''); }).join(', ') : t('card.anyAgent');
  }
  /** A field value as a person reads it: skills, overflow steps, hours … else compact JSON. */
  function humanValue(field, v) {
    if (v === undefined || v === null) return t('hist.none');
    if (field === 'skills' && Array.isArray(v)) return skillsText(v);
    if (field === 'overflow' && Array.isArray(v)) {
      if (!v.length) return '—';
      return v.map(function (o) {
        o = obj(o);
        return t('card.after', { s: fmtSecs(num(o.after_secs)) }) + (o.queue ? ' → ' + o.queue : '') + ' · ' + t('card.relax') + ': ' + skillsText(o.skills);
      }).join('\n');
    }
    if (field === 'strategy' && typeof v === 'string') return lbl('strategy.', v) + ' (' + v + ')';
    if (field === 'fallback' && typeof v === 'string') return lbl('fallback.', v);
    if (field === 'hours' && Array.isArray(v)) return v.length ? v.map(function (h) { h = obj(h); return fmtDays(h.days) + ' ' + (h.from || '?') + '–' + (h.to || '?'); }).join('\n') : t('card.alwaysOpen');
    if ((field === 'max_wait_secs' || field === 'sticky_secs' || field === 'after_secs') && isNum(v)) return fmtSecs(v);
    if (typeof v === 'string') return v;
    if (typeof v !== 'object') return String(v);
    return jsonText(v);
  }
  var FIELD_ORDER = ['name', 'when', 'queue', 'skills', 'priority', 'aging_per_minute', 'strategy', 'sticky_secs', 'overflow',
    'hours', 'utc_offset_minutes', 'holidays', 'max_wait_secs', 'fallback'];
  function orderedKeys(o) {
    return Object.keys(o).sort(function (a, b) {
      var ia = FIELD_ORDER.indexOf(a), ib = FIELD_ORDER.indexOf(b);
      return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib) || a.localeCompare(b);
    });
  }
  function describePath(path) {
    var m = /^(rules|queues)\.(.+)$/.exec(String(path || ''));
    return m ? [el('span', { class: 'muted', text: (m[1] === 'rules' ? t('ovr.rule') : t('card.queue')) + ' ' }), m[2]] : [String(path || '')];
  }
  function renderChange(c) {
    c = obj(c);
    var op = String(c.op || 'changed');
    var fields = arr(c.fields);
    var node = el('div', { class: 'change', 'data-testid': 'diff-change', 'data-op': op }, [
      el('div', { class: 'change-head' }, [
        el('span', { class: 'op op-' + op, text: lbl('op.', op) }),
        el('span', { class: 'change-path' }, describePath(c.path)),
        fields.length ? el('span', { class: 'change-fields', text: fields.join(', ') }) : null
      ])
    ]);
    var before = c.before, after = c.after;
    if ((op === 'added' || op === 'removed') && (op === 'added' ? after : before) && typeof (op === 'added' ? after : before) === 'object') {
      var whole = obj(op === 'added' ? after : before);
      var kv = el('div', { class: 'change-kv ' + (op === 'added' ? 'after' : 'before') });
      orderedKeys(whole).forEach(function (k) {
        if (k === 'name' || whole[k] === null || (Array.isArray(whole[k]) && !whole[k].length && k !== 'skills')) return;
        if ((k === 'priority' || k === 'aging_per_minute' || k === 'utc_offset_minutes') && whole[k] === 0) return;
        kv.appendChild(el('div', { class: 'fname', text: k }));
        kv.appendChild(el('pre', { text: humanValue(k, whole[k]) }));
      });
      node.appendChild(kv);
    } else if (op === 'added' || op === 'removed') {
      node.appendChild(el('div', { class: 'change-one ' + (op === 'added' ? 'after' : 'before') }, [el('pre', { text: jsonText(op === 'added' ? after : before) })]));
    } else if (op === 'moved' && (isNum(before) || isNum(after))) {
      node.appendChild(el('div', { class: 'change-one', text: t('hist.moved', { from: isNum(before) ? before + 1 : '?', to: isNum(after) ? after + 1 : '?' }) }));
    } else {
      var grid = el('div', { class: 'change-body' }, [el('div', { class: 'fh', text: t('hist.field') }), el('div', { class: 'fh', text: t('hist.before') }), el('div', { class: 'fh', text: t('hist.after') })]);
      var b = obj(before), a = obj(after);
      var keys = fields.length ? fields : orderedKeys(Object.assign({}, b, a)).filter(function (k) { return sig(b[k]) !== sig(a[k]); });
      if (!keys.length || (typeof before !== 'object' && typeof after !== 'object')) {
        grid.appendChild(el('div', { class: 'fname', text: '·' }));
        grid.appendChild(el('div', { class: 'before' }, [el('pre', { text: humanValue('', before) })]));
        grid.appendChild(el('div', { class: 'after' }, [el('pre', { text: humanValue('', after) })]));
      } else keys.forEach(function (k) {
        grid.appendChild(el('div', { class: 'fname', text: k }));
        grid.appendChild(el('div', { class: 'before' }, [el('pre', { text: humanValue(k, b[k]) })]));
        grid.appendChild(el('div', { class: 'after' }, [el('pre', { text: humanValue(k, a[k]) })]));
      });
      node.appendChild(grid);
    }
    return node;
  }

  function versionActions(v, active) {
    var box = el('div', { class: 'version-actions' });
    if (v !== active) {
      if (S.confirm && S.confirm.scope === 'hist' && S.confirm.v === v) {
        box.appendChild(el('span', { class: 'muted', style: { fontSize: '13px', alignSelf: 'center' }, text: t(active && v < active ? 'rules.confirmRollback' : 'rules.confirmActivate', { v: v }) }));
        box.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('hist.cancel'), onclick: function () { S.confirm = null; renderVersions(); } }));
        box.appendChild(el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'version-confirm', text: t('hist.confirm'),
          onclick: function (ev) {
            ev.currentTarget.disabled = true;
            S.confirm = null;
            activateVersion(v).then(function (res) { if (!res.ok) toast(res.message, 'error'); renderVersions(); });
          } }));
        return box;
      }
      box.appendChild(el('button', { type: 'button', class: 'btn btn-sm ' + (active && v < active ? 'btn-ghost' : 'btn-primary'), 'data-testid': 'version-activate',
        text: active && v < active ? t('hist.rollback', { v: v }) : t('hist.activate'), onclick: function () { S.confirm = { scope: 'hist', v: v }; renderVersions(); } }));
    }
    box.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'version-dryrun', text: t('hist.dryrun'), onclick: function () { goDryRun(v, true); } }));
    box.appendChild(el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'version-open', text: t('hist.open'), onclick: function () {
      if (isDirty()) { go('rules'); showRulesConfirm(t('rules.discard'), null, t('common.confirm'), 'btn-danger', function () { openVersion(v); }); }
      else openVersion(v);
    } }));
    return box;
  }

  function renderVersions() {
    var box = clear($('versions'));
    var active = activeVersion();
    if (S.versionsState === 'loading' || S.versionsState === 'idle') { box.appendChild(loadingRow()); return; }
    if (S.versionsState === 'error') { box.appendChild(el('div', { class: 'card' }, [emptyState('error', t('hist.loadFailed', { msg: S.versionsError || '' }))])); return; }
    if (S.versionsState === 'unavailable') {
      box.appendChild(el('div', { class: 'card' }, [emptyState('unavailable', t('hist.versionsUnavailable'), t('hist.unavailableText'))]));
      var a = S.active && S.active.version > 0 ? S.active : null;
      if (a) {
        box.appendChild(el('div', { class: 'version is-active', style: { marginTop: '12px' }, 'data-testid': 'version-item', 'data-version': String(a.version), 'data-active': 'true' }, [
          el('div', { class: 'version-top' }, [
            el('span', { class: 'version-num', text: 'v' + a.version }),
            el('span', { class: 'badge badge-active', 'data-testid': 'version-active', text: t('hist.active') }),
            el('span', { class: 'version-meta', text: a.activated_by ? t('nav.footActivated', { when: fmtWhen(a.activated_at), who: who(a.activated_by) }) : '' })
          ]),
          el('div', { class: 'chips' }, arr(a.rules).map(function (r) { return el('span', { class: 'skill-chip', text: r && r.name || '?' }); }))
        ]));
      }
      return;
    }
    var versions = arr(S.versions && S.versions.versions).filter(Boolean);
    if (!versions.length) { box.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('hist.noVersions'), t('hist.noVersionsText'))])); return; }
    var list = el('div', { class: 'version-list' });
    versions.forEach(function (v, idx) {
      var isActive = v.version === active || (active == null && v.active);
      var open = has(S.histOpen, v.version) ? S.histOpen[v.version] : idx === 0;
      var names = arr(v.rule_names);
      var diff = v.diff;
      var toggle = null, diffBox = null;
      if (Array.isArray(diff)) {
        toggle = el('button', { type: 'button', class: 'diff-toggle', 'aria-expanded': String(open), 'data-testid': 'diff-toggle',
          text: t('hist.showDiff', { v: v.version - 1 }) + ' (' + diff.length + ')',
          onclick: function () { S.histOpen[v.version] = !open; renderVersions(); } });
        if (open) {
          diffBox = el('div', { class: 'diff', 'data-testid': 'version-diff' }, diff.length ? diff.map(renderChange) : [el('p', { class: 'muted', style: { fontSize: '13px' }, text: t('hist.noDiff') })]);
        }
      }
      list.appendChild(el('div', { class: 'version' + (isActive ? ' is-active' : ''), 'data-testid': 'version-item', 'data-version': String(v.version), 'data-active': String(!!isActive) }, [
        el('div', { class: 'version-top' }, [
          el('span', { class: 'version-num', text: 'v' + v.version }),
          isActive ? el('span', { class: 'badge badge-active', 'data-testid': 'version-active', text: t('hist.active') }) : null,
          el('span', { class: 'version-meta' }, [t('hist.created', { when: fmtWhen(v.created_at), who: who(v.created_by) })]),
          versionActions(v.version, active)
        ]),
        names.length ? el('div', { class: 'chips' }, [el('span', { class: 'muted', style: { fontSize: '12.5px', marginRight: '4px' }, text: t('hist.rules', { n: names.length }) })].concat(names.map(function (n) { return el('span', { class: 'skill-chip', text: n }); }))) : null,
        diff === null || diff === undefined ? el('span', { class: 'muted', style: { fontSize: '12.5px' }, text: v.version === 1 || idx === versions.length - 1 ? t('hist.firstVersion') : '' }) : toggle,
        diffBox
      ]));
    });
    box.appendChild(list);
  }

  function auditText(e) {
    var d = obj(e.detail), actor = e.actor ? who(e.actor) : t('audit.system');
    var vm = /(\d+)\s*$/.exec(String(e.subject == null ? '' : e.subject));
    var v = isNum(d.version) ? d.version : vm ? Number(vm[1]) : (e.subject || '?');
    var rule = d.rule || e.subject || '?';
    switch (e.action) {
      case 'routing.rules.created': return t('audit.routing.rules.created', { who: actor, v: v });
      case 'routing.rules.activated': return isNum(d.previous) ? t('audit.routing.rules.activatedWas', { who: actor, v: v, prev: d.previous }) : t('audit.routing.rules.activated', { who: actor, v: v });
      case 'routing.override.created': return t('audit.routing.override.created', { who: actor, rule: rule });
      case 'routing.override.ended': return t('audit.routing.override.ended', { who: actor, rule: rule });
      default: return t('audit.other', { who: actor, action: e.action || '', subject: e.subject || '' });
    }
  }
  var AUDIT_ICONS = {
    created: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><path d="M12 5v14M5 12h14"/></svg>',
    activated: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"><path d="M20 6 9 17l-5-5"/></svg>',
    override: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"><path d="M4 12h12M12 6l6 6-6 6"/></svg>',
    other: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><circle cx="12" cy="12" r="2"/></svg>'
  };
  function renderAudit() {
    var box = clear($('audit'));
    if (S.auditState === 'loading' || S.auditState === 'idle') { box.appendChild(loadingRow()); return; }
    if (S.auditState === 'unavailable') { box.appendChild(el('div', { class: 'card' }, [emptyState('unavailable', t('hist.auditUnavailable'), t('hist.unavailableText'))])); return; }
    if (S.auditState === 'error') { box.appendChild(el('div', { class: 'card' }, [emptyState('error', t('hist.loadFailed', { msg: S.auditError || '' }))])); return; }
    var entries = arr(S.audit).filter(Boolean);
    if (!entries.length) { box.appendChild(el('div', { class: 'card' }, [emptyState('empty', t('hist.noAudit'), t('hist.noAuditText'))])); return; }
    var list = el('ol', { class: 'audit-list card', style: { padding: '10px 16px' } });
    entries.forEach(function (e) {
      var a = String(e.action || '');
      var kind = /activated/.test(a) ? 'activated' : /created/.test(a) && /rules/.test(a) ? 'created' : /override/.test(a) ? 'override' : 'other';
      var icon = el('span', { class: 'audit-icon is-' + kind, 'aria-hidden': 'true' });
      icon.innerHTML = AUDIT_ICONS[kind];
      var d = obj(e.detail), details = [];
      if (d.target) {
        var tg = obj(d.target);
        var target = [tg.queue].concat(Array.isArray(tg.skills) ? [skillsText(tg.skills)] : []).filter(Boolean).join(' · ') || '—';
        details.push(isNum(d.minutes) ? t('audit.target', { target: target, m: d.minutes })
          : d.expires_at ? t('audit.targetUntil', { target: target, time: fmtWhen(d.expires_at) }) : target);
      }
      if (d.reason) details.push(t('audit.reason', { r: d.reason }));
      var body = el('div', {}, [
        el('div', { class: 'audit-text', text: auditText(e) }),
        el('div', { class: 'audit-time', title: e.at || '', text: fmtWhen(e.at) + ' · ' + fmtAgo(e.at) }),
        details.length ? el('div', { class: 'audit-detail', text: details.join(' · ') }) : null
      ]);
      if (Array.isArray(e.diff) && e.diff.length) {
        var det = el('details', { class: 'audit-detail' }, [el('summary', { style: { cursor: 'pointer', color: 'var(--accent-700)', fontWeight: '650' }, text: t('hist.changes', { n: e.diff.length }) })]);
        var dd = el('div', { class: 'diff', style: { marginTop: '6px' } }, e.diff.map(renderChange));
        det.appendChild(dd);
        body.appendChild(det);
      }
      list.appendChild(el('li', { class: 'audit', 'data-testid': 'audit-entry', 'data-action': a }, [icon, body]));
    });
    box.appendChild(list);
  }

  /* ======================================================= knowledge base */
  // #kb          the entries (search, status and tag filters), the revision and the bot's
  // #kb/<id>     one entry in the editor (PUT /v1/kb/entries/{id}); #kb/new a new one (POST)
  // "Try a question" (POST /v1/kb/match) sits beside both; import / export in the header.
  var KB_STATUSES = ['published', 'draft', 'archived'];
  var KB_CHANNELS = ['sms', 'web', 'app', 'wechat', 'ivr'];
  /** The bot offers "did you mean …?" from this confidence (SUGGESTION_FLOOR in src/bot.rs). */
  var KB_SUGGESTION_FLOOR = 0.3;
  var KB_MAX_IMPORT = 5 * 1024 * 1024;
  var KB = {
    state: 'idle',          // idle | loading | ok | error | unavailable
    error: null,
    data: null,             // GET /v1/kb/entries
    timer: null,            // the next look while the bot retrains
    q: '', status: '', tag: '',
    view: 'list',           // list | edit | new | missing
    editId: null,
    entry: null,            // the entry the editor was filled from
    baseline: null,         // kbCollect() right after filling, as JSON
    channels: [],           // channel answers shown in the editor
    busy: null,             // save | delete
    leaveTo: null,          // the hash a blocked navigation wanted
    loadSeq: 0,
    tryState: { state: 'idle', req: null, res: null, error: null },
    importBusy: false
  };
  var kbForm = $('kb-editor');

  function kbLang() { return i18n.lang === 'zh-CN' ? 'zh' : 'en'; }
  function kbOther(l) { return l === 'zh' ? 'en' : 'zh'; }
  function kbText(texts) { var o = obj(texts), l = kbLang(); return o[l] || o[kbOther(l)] || ''; }
  function kbTitle(e) { return (e && kbText(e.title)) || (e && e.id) || ''; }
  function kbIntent(e) { return (e && e.intent) || (e && e.id) || ''; }
  function kbEntries() { return arr(KB.data && KB.data.entries).filter(function (e) { return e && e.id; }); }
  function kbFind(id) { return kbEntries().find(function (e) { return e.id === id; }) || null; }
  function kbHash(id) { return '#kb/' + encodeURIComponent(id); }
  function kbStatusBadge(status) {
    var s = KB_STATUSES.indexOf(status) !== -1 ? status : 'published';
    return el('span', { class: 'badge kb-badge kb-badge-' + s, 'data-testid': 'kb-status', 'data-status': s, text: t('kb.status.' + s) });
  }
  function kbChannelName(ch) { return lbl('channel.', ch); }

  /* ------------------------------------------------------------- loading */
  function kbLoad() {
    if (!S.session) return;
    var seq = ++KB.loadSeq;
    if (!KB.data) { KB.state = 'loading'; renderKbList(); }
    clearTimeout(KB.timer);
    api('GET', '/v1/kb/entries').then(function (r) {
      if (seq !== KB.loadSeq) return;
      if (r.ok && r.data) {
        KB.state = 'ok'; KB.error = null; KB.data = r.data;
      } else if (missingRoute(r)) {
        KB.state = 'unavailable';
      } else if (!KB.data) {
        KB.state = 'error'; KB.error = errMsg(r);
      }
    }).catch(function () {
      if (seq === KB.loadSeq && !KB.data) { KB.state = 'error'; KB.error = t('common.network'); }
    }).then(function () {
      if (seq !== KB.loadSeq) return;
      renderKbRevision(); renderKbFilters(); renderKbList(); renderKbTry();
      if (KB.view === 'edit' || KB.view === 'new') kbFillDatalists();
      // While the bot retrains on a newer revision, look again shortly.
      if (kbTraining() && S.session && S.section === 'kb') KB.timer = setTimeout(kbLoad, 1200);
    });
  }
  function kbTraining() {
    var d = KB.data;
    return !!(d && isNum(d.revision) && isNum(d.bot_revision) && d.bot_revision < d.revision);
  }
  /** A change was stored at `rev`: show it at once, then follow the bot until it has learnt it. */
  function kbChanged(rev) {
    if (KB.data && isNum(rev) && rev > (KB.data.revision || 0)) KB.data.revision = rev;
    renderKbRevision();
    kbLoad();
  }

  function renderKbRevision() {
    var pill = $('kb-rev'), d = KB.data;
    if (!d || !isNum(d.revision)) { pill.hidden = true; return; }
    var training = kbTraining();
    pill.hidden = false;
    // a live region: rebuild it only when what it says changes, or it is announced again
    var s = sig([d.revision, d.bot_revision, training, i18n.lang]);
    if (s === KB.revSig) return;
    KB.revSig = s;
    pill.className = 'kb-rev ' + (training ? 'is-training' : 'is-ready');
    pill.setAttribute('data-revision', String(d.revision));
    pill.setAttribute('data-bot-revision', String(isNum(d.bot_revision) ? d.bot_revision : ''));
    pill.setAttribute('data-state', training ? 'training' : 'ready');
    pill.title = t('kb.revTitle', { rev: d.revision, bot: isNum(d.bot_revision) ? d.bot_revision : '—' });
    clear(pill);
    pill.appendChild(el('strong', { class: 'tabular', text: t('kb.rev', { rev: d.revision }) }));
    pill.appendChild(el('span', { class: 'kb-rev-sep', 'aria-hidden': 'true' }));
    pill.appendChild(training ? el('span', { class: 'spinner kb-rev-spin', 'aria-hidden': 'true' }) : el('span', { class: 'dot dot-ok', 'aria-hidden': 'true' }));
    pill.appendChild(el('span', { text: training ? t('kb.revTraining') : t('kb.revReady') }));
  }

  /* ---------------------------------------------------------------- list */
  function kbTerms() { return KB.q.toLowerCase().split(/\s+/).filter(Boolean); }
  /** Whether `e` has every term in its id, a title or a question; and a question to show when
   *  a term is found only there. */
  function kbSearch(e, terms) {
    var title = obj(e.title), q = obj(e.questions);
    var heads = [e.id, title.zh, title.en].filter(Boolean).map(function (s) { return String(s).toLowerCase(); });
    var questions = arr(q.zh).concat(arr(q.en)).map(String);
    var hit = null;
    for (var i = 0; i < terms.length; i++) {
      var term = terms[i];
      if (heads.some(function (h) { return h.indexOf(term) !== -1; })) continue;
      var found = questions.find(function (x) { return x.toLowerCase().indexOf(term) !== -1; });
      if (found == null) return null;
      if (!hit) hit = found;
    }
    return { question: hit };
  }
  function kbFiltered() {
    var terms = kbTerms();
    var out = [];
    kbEntries().forEach(function (e) {
      if (KB.status && (e.status || 'published') !== KB.status) return;
      if (KB.tag && arr(e.tags).indexOf(KB.tag) === -1) return;
      var m = terms.length ? kbSearch(e, terms) : { question: null };
      if (m) out.push({ entry: e, question: m.question });
    });
    return out;
  }
  /** `text` with each search term marked. */
  function kbMarked(text, terms) {
    var s = String(text || ''), low = s.toLowerCase(), nodes = [], at = 0;
    while (terms.length) {
      var best = -1, len = 0;
      terms.forEach(function (term) { var i = low.indexOf(term, at); if (i !== -1 && (best === -1 || i < best)) { best = i; len = term.length; } });
      if (best === -1) break;
      if (best > at) nodes.push(s.slice(at, best));
      nodes.push(el('mark', { text: s.slice(best, best + len) }));
      at = best + len;
    }
    if (at < s.length) nodes.push(s.slice(at));
    return nodes;
  }

  function renderKbFilters() {
    var all = kbEntries();
    var s = sig([all.map(function (e) { return [e.status, e.tags]; }), KB.status, KB.tag, i18n.lang]);
    if (s === KB.filtersSig) return;
    KB.filtersSig = s;
    var counts = { '': all.length };
    KB_STATUSES.forEach(function (s) { counts[s] = 0; });
    all.forEach(function (e) { counts[e.status || 'published'] = (counts[e.status || 'published'] || 0) + 1; });
    var box = clear($('kb-status-filter'));
    [''].concat(KB_STATUSES).forEach(function (s) {
      box.appendChild(el('button', {
        type: 'button', class: 'chip-btn kb-chip' + (KB.status === s ? ' is-on' : '') + (s ? ' kb-chip-' + s : ''),
        'aria-pressed': KB.status === s ? 'true' : 'false', 'data-testid': 'kb-filter-status', 'data-status': s || 'all',
        onclick: function () { KB.status = s; renderKbFilters(); renderKbList(); }
      }, [s ? el('span', { class: 'kb-chip-dot', 'aria-hidden': 'true' }) : null, s ? t('kb.status.' + s) : t('kb.all'), el('span', { class: 'kb-chip-n', text: String(counts[s] || 0) })]));
    });
    var tags = {};
    all.forEach(function (e) { arr(e.tags).forEach(function (tg) { tags[tg] = (tags[tg] || 0) + 1; }); });
    var sel = clear($('kb-tag-filter'));
    sel.appendChild(el('option', { value: '', text: t('kb.allTags') }));
    Object.keys(tags).sort().forEach(function (tg) { sel.appendChild(el('option', { value: tg, text: tg + ' (' + tags[tg] + ')' })); });
    if (KB.tag && !tags[KB.tag]) KB.tag = '';
    sel.value = KB.tag;
    sel.classList.toggle('is-on', !!KB.tag);
  }

  function kbRowCell(content, cls) { return el('td', { class: cls || null }, content); }
  function renderKbList() {
    // the same entries, filters and language: nothing to redo (the retrain poll calls this often)
    var s = sig([KB.state, KB.error, KB.data && KB.data.entries, KB.q, KB.status, KB.tag, i18n.lang, S.session && S.session.agent_id, S.session && S.session.name, new Date().toDateString()]);
    if (s === KB.listSig) return;
    KB.listSig = s;
    var body = clear($('kb-rows')), count = $('kb-count');
    var full = function (node) { body.appendChild(el('tr', { class: 'is-empty' }, [el('td', { colspan: '5' }, [node])])); };
    $('kb-list-view').setAttribute('data-state', KB.state);
    if (KB.state === 'idle' || KB.state === 'loading') { count.textContent = ''; full(loadingRow(t('kb.loading'))); return; }
    if (KB.state === 'unavailable') { count.textContent = ''; full(emptyState('unavailable', t('kb.unavailable'), t('kb.unavailableText'))); return; }
    if (KB.state === 'error' && !KB.data) {
      count.textContent = '';
      full(emptyState('error', t('kb.loadFailed'), KB.error, el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('common.retry'), onclick: kbLoad })));
      return;
    }
    var all = kbEntries(), rows = kbFiltered(), terms = kbTerms();
    var filtered = !!(terms.length || KB.status || KB.tag);
    count.textContent = filtered ? t('kb.countFiltered', { n: rows.length, total: all.length })
      : all.length === 1 ? t('kb.count1') : t('kb.count', { n: all.length });
    count.setAttribute('data-shown', String(rows.length));
    count.setAttribute('data-total', String(all.length));
    if (!all.length) {
      full(emptyState('empty', t('kb.empty'), t('kb.emptyText'), el('button', { type: 'button', class: 'btn btn-primary btn-sm', text: t('kb.new'), onclick: function () { location.hash = '#kb/new'; } })));
      return;
    }
    if (!rows.length) {
      full(emptyState('empty', KB.q.trim() ? t('kb.noMatch', { q: KB.q.trim() }) : t('kb.noMatchFiltered'), t('kb.noMatchText'),
        el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'kb-clear-filters', text: t('kb.clearFilters'), onclick: kbClearFilters })));
      return;
    }
    rows.slice().sort(function (a, b) { return a.entry.id < b.entry.id ? -1 : a.entry.id > b.entry.id ? 1 : 0; }).forEach(function (row) { body.appendChild(kbRow(row.entry, row.question, terms)); });
  }
  function kbClearFilters() {
    KB.q = ''; KB.status = ''; KB.tag = '';
    $('kb-search').value = '';
    renderKbFilters(); renderKbList();
    $('kb-search').focus();
  }
  function kbRow(e, question, terms) {
    var title = kbTitle(e), q = obj(e.questions);
    var nzh = arr(q.zh).length, nen = arr(q.en).length;
    var other = obj(e.title)[kbOther(kbLang())];
    var entryCell = el('div', { class: 'kb-entry' }, [
      el('a', { class: 'kb-entry-title', href: kbHash(e.id), 'data-testid': 'kb-row-title' }, kbMarked(title, terms)),
      el('div', { class: 'kb-entry-sub' }, [
        el('span', { class: 'kb-entry-id mono', 'data-testid': 'kb-row-id' }, kbMarked(e.id, terms)),
        other && other !== title ? el('span', { class: 'kb-entry-alt', lang: kbOther(kbLang()) === 'zh' ? 'zh-CN' : 'en' }, kbMarked(other, terms)) : null
      ]),
      question ? el('div', { class: 'kb-entry-hit', 'data-testid': 'kb-row-hit', title: t('kb.hitQuestion') }, [
        el('span', { class: 'sr-only', text: t('kb.hitQuestion') + ': ' }),
        el('span', { class: 'kb-hit-q', 'aria-hidden': 'true', text: 'Q' })
      ].concat(kbMarked(question, terms))) : null
    ]);
    var tags = arr(e.tags);
    var intent = kbIntent(e);
    var tagChips = function (cls) {
      return tags.length ? el('div', { class: 'chips ' + cls }, tags.map(function (tg) { return el('span', { class: 'kb-tag', 'data-testid': 'kb-tag', text: tg }); }))
        : el('span', { class: 'dash ' + cls, text: '—' });
    };
    // narrow screens show the tags under the title instead of in their own column
    entryCell.appendChild(tags.length ? tagChips('kb-entry-tags') : null);
    var tr = el('tr', { class: 'kb-row', 'data-testid': 'kb-row', 'data-entry-id': e.id, 'data-status': e.status || 'published',
      onclick: function (ev) { if (ev.target.closest('a, button')) return; location.hash = kbHash(e.id); } }, [
      kbRowCell([entryCell], 'kb-cell-entry'),
      kbRowCell([kbStatusBadge(e.status), el('div', { class: 'kb-updated', 'data-testid': 'kb-row-updated' }, [
        el('span', { title: e.updated_at || '', text: e.updated_at ? fmtWhen(e.updated_at) : '—' }),
        e.updated_by ? el('span', { class: 'kb-updated-by', text: t('kb.by', { who: who(e.updated_by, e.updated_by_name) }) }) : null
      ])], 'kb-cell-status'),
      kbRowCell([tagChips('')], 'kb-col-tags'),
      kbRowCell([el('div', { class: 'kb-intent' }, [
        el('span', { class: 'mono kb-intent-name' + (e.intent ? '' : ' is-default'), text: intent }),
        e.skill ? el('span', { class: 'skill-chip', text: e.skill }) : el('span', { class: 'muted kb-noskill', text: t('kb.noSkill') })
      ])]),
      kbRowCell([el('span', { class: 'kb-qn', title: t('kb.qCount', { zh: nzh, en: nen }), 'data-testid': 'kb-row-questions', 'data-count': String(nzh + nen) }, [
        el('span', { class: 'kb-qn-total', text: String(nzh + nen) }),
        el('span', { class: 'kb-qn-split', 'aria-hidden': 'true' }, [el('span', { class: 'kb-lang kb-lang-zh', text: '中' }), String(nzh), el('span', { class: 'kb-lang kb-lang-en', text: 'EN' }), String(nen)]),
        el('span', { class: 'sr-only', text: t('kb.qCount', { zh: nzh, en: nen }) })
      ])], 'num')
    ]);
    return tr;
  }

  var kbSearchTimer = null;
  $('kb-search').addEventListener('input', function () {
    var v = this.value;
    clearTimeout(kbSearchTimer);
    kbSearchTimer = setTimeout(function () { KB.q = v; renderKbList(); }, 80);
  });
  $('kb-search').addEventListener('keydown', function (ev) { if (ev.key === 'Escape' && this.value) { ev.preventDefault(); this.value = ''; KB.q = ''; renderKbList(); } });
  $('kb-tag-filter').addEventListener('change', function () { KB.tag = this.value; renderKbFilters(); renderKbList(); });
  $('kb-new').addEventListener('click', function () { location.hash = '#kb/new'; });

  /* -------------------------------------------------------------- editor */
  function kbLines(v) { return String(v || '').split(/\r?\n/).map(function (s) { return s.trim(); }).filter(Boolean); }
  function kbTagList(v) { return String(v || '').split(/[,，、;；\n]/).map(function (s) { return s.trim(); }).filter(Boolean); }
  function kbTexts(zh, en) {
    var o = {};
    if (String(zh || '').trim()) o.zh = String(zh).trim();
    if (String(en || '').trim()) o.en = String(en).trim();
    return o;
  }
  function kbStatusValue() { var r = kbForm.querySelector('input[name=kb-status]:checked'); return r ? r.value : 'published'; }

  /** The entry the form describes, exactly in the API's shape (no unknown fields). */
  function kbCollect() {
    var e = { id: $('kb-f-id').value.trim(), status: kbStatusValue() };
    var title = kbTexts($('kb-f-title-zh').value, $('kb-f-title-en').value);
    if (Object.keys(title).length) e.title = title;
    e.questions = {};
    var qzh = kbLines($('kb-f-q-zh').value), qen = kbLines($('kb-f-q-en').value);
    if (qzh.length) e.questions.zh = qzh;
    if (qen.length) e.questions.en = qen;
    var kzh = kbLines($('kb-f-kw-zh').value), ken = kbLines($('kb-f-kw-en').value);
    if (kzh.length || ken.length) { e.keywords = {}; if (kzh.length) e.keywords.zh = kzh; if (ken.length) e.keywords.en = ken; }
    e.answer = kbTexts($('kb-f-ans-zh').value, $('kb-f-ans-en').value);
    var ch = {};
    KB.channels.forEach(function (c) {
      var zh = $('kb-f-ch-' + c + '-zh'), en = $('kb-f-ch-' + c + '-en');
      if (!zh || !en) return;
      var tx = kbTexts(zh.value, en.value);
      if (Object.keys(tx).length) ch[c] = tx;
    });
    // Channels this editor has no fields for (none today) are kept as they were.
    Object.keys(obj(KB.entry && KB.entry.channel_answers)).forEach(function (c) { if (KB_CHANNELS.indexOf(c) === -1) ch[c] = KB.entry.channel_answers[c]; });
    if (Object.keys(ch).length) e.channel_answers = ch;
    var tags = kbTagList($('kb-f-tags').value);
    if (tags.length) e.tags = tags;
    var skill = $('kb-f-skill').value.trim(), intent = $('kb-f-intent').value.trim();
    if (skill) e.skill = skill;
    if (intent) e.intent = intent;
    return e;
  }
  function kbDirty() {
    return (KB.view === 'edit' || KB.view === 'new') && KB.baseline != null && sig(kbCollect()) !== KB.baseline;
  }

  function kbChannelRow(c) {
    var field = function (lang) {
      var id = 'kb-f-ch-' + c + '-' + lang, key = 'channel_answers.' + c + '.' + lang;
      return el('div', { class: 'field', 'data-field': key }, [
        el('label', { for: id }, [
          el('span', { class: 'kb-lang kb-lang-' + lang, 'aria-hidden': 'true', text: lang === 'zh' ? '中' : 'EN' }),
          el('span', { class: 'sr-only', text: kbChannelName(c) + ' ' }),
          el('span', { 'data-i18n': 'kb.lang.' + lang, text: t('kb.lang.' + lang) }),
          el('span', { class: 'kb-n', 'data-count-for': id, 'data-sms': c === 'sms' ? lang : null, 'data-max': '4000' })
        ]),
        el('textarea', { class: 'textarea', id: id, 'data-testid': 'kb-f-ch-' + c + '-' + lang, lang: lang === 'zh' ? 'zh-CN' : 'en', rows: c === 'sms' ? '2' : '4', maxlength: '4000' }),
        el('p', { class: 'field-error', 'data-kb-error': key, 'data-testid': 'kb-field-error', 'data-field': key, hidden: true })
      ]);
    };
    return el('div', { class: 'kb-channel', 'data-channel': c, 'data-testid': 'kb-channel' }, [
      el('div', { class: 'kb-channel-head' }, [
        el('span', { class: 'chan chan-' + c, text: kbChannelName(c) }),
        c === 'sms' ? null : el('button', { type: 'button', class: 'icon-btn kb-channel-remove', 'aria-label': t('kb.removeChannel', { channel: kbChannelName(c) }), title: t('kb.removeChannel', { channel: kbChannelName(c) }),
          onclick: function () { kbRemoveChannel(c); } }, [kbIcon('x')])
      ]),
      el('div', { class: 'kb-pair' }, [field('zh'), field('en')]),
      el('p', { class: 'field-error', 'data-kb-error': 'channel_answers.' + c, 'data-testid': 'kb-field-error', 'data-field': 'channel_answers.' + c, hidden: true })
    ]);
  }
  function kbIcon(kind) {
    var s = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('fill', 'none'); s.setAttribute('stroke', 'currentColor');
    s.setAttribute('stroke-width', '2.2'); s.setAttribute('stroke-linecap', 'round'); s.setAttribute('aria-hidden', 'true');
    var p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('d', kind === 'x' ? 'M6 6l12 12M18 6 6 18' : 'M9 18l6-6-6-6');
    s.appendChild(p);
    return s;
  }
  /** Rebuilds the channel-answer rows (SMS always, then those in use), keeping typed texts. */
  function renderKbChannels(values) {
    var keep = values || {};
    if (!values) KB.channels.forEach(function (c) { var zh = $('kb-f-ch-' + c + '-zh'), en = $('kb-f-ch-' + c + '-en'); if (zh) keep[c] = { zh: zh.value, en: en.value }; });
    var box = clear($('kb-channels'));
    KB.channels.forEach(function (c) {
      box.appendChild(kbChannelRow(c));
      var v = obj(keep[c]);
      $('kb-f-ch-' + c + '-zh').value = v.zh || '';
      $('kb-f-ch-' + c + '-en').value = v.en || '';
    });
    kbAutosizeAll();
    var sel = clear($('kb-add-channel'));
    var left = KB_CHANNELS.filter(function (c) { return KB.channels.indexOf(c) === -1; });
    sel.appendChild(el('option', { value: '', text: t('kb.addChannelOpt') }));
    left.forEach(function (c) { sel.appendChild(el('option', { value: c, text: kbChannelName(c) })); });
    $('kb-add-channel-row').hidden = !left.length;
    kbCounts();
  }
  function kbRemoveChannel(c) {
    KB.channels = KB.channels.filter(function (x) { return x !== c; });
    renderKbChannels();
    kbEdited();
    $('kb-add-channel').focus();
  }
  $('kb-add-channel').addEventListener('change', function () {
    var c = this.value;
    if (!c) return;
    KB.channels.push(c);
    renderKbChannels();
    var f = $('kb-f-ch-' + c + '-' + kbLang());
    if (f) f.focus();
  });

  function kbFill(e) {
    e = obj(e);
    KB.entry = e;
    $('kb-f-id').value = e.id || '';
    var st = KB_STATUSES.indexOf(e.status) !== -1 ? e.status : 'published';
    kbForm.querySelectorAll('input[name=kb-status]').forEach(function (r) { r.checked = r.value === st; });
    $('kb-f-intent').value = e.intent || '';
    $('kb-f-skill').value = e.skill || '';
    $('kb-f-tags').value = arr(e.tags).join(', ');
    var title = obj(e.title), q = obj(e.questions), kw = obj(e.keywords), ans = obj(e.answer);
    $('kb-f-title-zh').value = title.zh || '';
    $('kb-f-title-en').value = title.en || '';
    $('kb-f-q-zh').value = arr(q.zh).join('\n');
    $('kb-f-q-en').value = arr(q.en).join('\n');
    $('kb-f-kw-zh').value = arr(kw.zh).join('\n');
    $('kb-f-kw-en').value = arr(kw.en).join('\n');
    $('kb-f-ans-zh').value = ans.zh || '';
    $('kb-f-ans-en').value = ans.en || '';
    var ch = obj(e.channel_answers);
    KB.channels = ['sms'].concat(KB_CHANNELS.filter(function (c) { return c !== 'sms' && ch[c]; }));
    renderKbChannels(ch);
    kbClearProblems();
    KB.baseline = sig(kbCollect());
    kbEdited();
    kbAutosizeAll();
  }

  /** After any edit: the dirty mark, the title, the counters and the id's hint. */
  function kbEdited() {
    var dirty = kbDirty();
    $('kb-dirty').hidden = !dirty;
    kbForm.setAttribute('data-dirty', dirty ? 'true' : 'false');
    renderKbEditorHead();
    kbCounts();
    var st = kbStatusValue();
    $('kb-status-hint').textContent = t('kb.statusHint.' + st);
    $('kb-status-hint').className = 'field-hint kb-status-hint is-' + st;
  }
  /** Textareas grow with their text, up to their CSS max-height. */
  function kbAutosize(ta) {
    if (!ta || ta.offsetParent === null) return;
    var max = parseFloat(getComputedStyle(ta).maxHeight) || 420;
    ta.style.height = 'auto';
    ta.style.height = Math.min(ta.scrollHeight + 2, max) + 'px';
  }
  function kbAutosizeAll() { kbForm.querySelectorAll('textarea').forEach(kbAutosize); }
  function kbCounts() {
    [['kb-f-q-zh', 'kb-n-q-zh', 'kb.nLines'], ['kb-f-q-en', 'kb-n-q-en', 'kb.nLines'], ['kb-f-kw-zh', 'kb-n-kw-zh', 'kb.nKeywords'], ['kb-f-kw-en', 'kb-n-kw-en', 'kb.nKeywords']].forEach(function (x) {
      var n = kbLines($(x[0]).value).length;
      $(x[1]).textContent = n ? (n === 1 ? t(x[2] + '1') : t(x[2], { n: n })) : '';
    });
    kbForm.querySelectorAll('[data-count-for]').forEach(function (span) {
      var f = $(span.getAttribute('data-count-for'));
      if (!f) return;
      var n = Array.from(f.value.trim()).length, sms = span.getAttribute('data-sms');
      span.classList.remove('is-warn');
      if (!n) { span.textContent = ''; return; }
      if (sms) {
        // One SMS holds 70 characters of Chinese (UCS-2) or 160 of Latin text; longer ones are
        // split into parts of 67 / 153.
        var wide = /[^\x00-\x7f]/.test(f.value), one = wide ? 70 : 160, part = wide ? 67 : 153;
        var parts = n <= one ? 1 : Math.ceil(n / part);
        span.textContent = parts === 1 ? t('kb.smsFits', { n: n }) : t('kb.smsParts', { n: n, parts: parts });
        span.classList.toggle('is-warn', parts > 1);
      } else {
        span.textContent = t('kb.chars', { n: fmtInt(n), max: fmtInt(4000) });
        span.classList.toggle('is-warn', n > 3600);
      }
    });
  }
  function renderKbEditorHead() {
    var isNew = KB.view === 'new';
    var e = KB.entry;
    var live = kbTexts($('kb-f-title-zh').value, $('kb-f-title-en').value);
    var title = kbText(live) || (isNew ? ($('kb-f-id').value.trim() || t('kb.newTitle')) : (e && e.id) || '—');
    $('kb-ed-title').textContent = title;
    var meta = clear($('kb-ed-meta'));
    if (isNew) meta.appendChild(document.createTextNode(t('kb.metaNew')));
    else if (e) {
      meta.appendChild(el('span', { class: 'mono kb-ed-id', 'data-testid': 'kb-editor-id', text: e.id }));
      if (e.updated_at) meta.appendChild(el('span', { text: t('kb.meta', { when: fmtWhen(e.updated_at), who: who(e.updated_by, e.updated_by_name) }) }));
    }
    var save = $('kb-save').querySelector('span');
    if (!KB.busy) { save.setAttribute('data-i18n', isNew ? 'kb.create' : 'kb.save'); save.textContent = t(isNew ? 'kb.create' : 'kb.save'); }
    $('kb-delete').hidden = isNew;
    var idIn = $('kb-f-id');
    idIn.readOnly = !isNew;
    idIn.setAttribute('aria-readonly', isNew ? 'false' : 'true');
    $('kb-f-id-hint').textContent = t(isNew ? 'kb.f.idHint' : 'kb.f.idFixed');
    kbForm.setAttribute('data-mode', KB.view);
  }
  function kbFillDatalists() {
    var intents = {}, skills = {};
    kbEntries().forEach(function (e) { intents[kbIntent(e)] = 1; if (e.skill) skills[e.skill] = 1; });
    var a = clear($('kb-intents')), b = clear($('kb-skills'));
    Object.keys(intents).sort().forEach(function (x) { a.appendChild(el('option', { value: x })); });
    Object.keys(skills).sort().forEach(function (x) { b.appendChild(el('option', { value: x })); });
  }

  function kbShowView(view) {
    KB.view = view;
    $('kb-list-view').hidden = view !== 'list';
    kbForm.hidden = view !== 'edit' && view !== 'new';
    $('kb-missing').hidden = view !== 'missing';
    $('section-kb').setAttribute('data-view', view);
    if (view === 'list' || view === 'missing') { KB.baseline = null; KB.entry = null; kbHideConfirm(); }
  }
  function kbOpenList() {
    kbShowView('list');
    KB.editId = null;
    renderKbList();
  }
  function kbOpenNew() {
    KB.editId = null;
    kbShowView('new');
    kbFillDatalists();
    kbFill({ id: '', status: 'published' });
    KB.entry = null;
    renderKbEditorHead();
    setTimeout(function () { $('kb-f-id').focus(); }, 0);
  }
  function kbOpenEdit(id) {
    KB.editId = id;
    var known = kbFind(id);
    kbShowView('edit');
    kbFillDatalists();
    kbForm.setAttribute('aria-busy', 'true');
    if (known) kbFill(known); else { kbFill({ id: id }); $('kb-ed-title').textContent = t('kb.loadingEntry'); }
    var focusHead = function () { if (document.activeElement === document.body || !kbForm.contains(document.activeElement)) $('kb-ed-title').focus({ preventScroll: true }); };
    setTimeout(focusHead, 0);
    api('GET', '/v1/kb/entries/' + encodeURIComponent(id)).then(function (r) {
      if (KB.editId !== id || KB.view !== 'edit') return;
      if (r.ok && r.data) { if (!kbDirty()) kbFill(r.data); else KB.entry = r.data; renderKbEditorHead(); }
      else if (r.status === 404 && !missingRoute(r)) kbShowMissing(id);
      else if (!known) toast(errMsg(r), 'error');
    }).catch(function () { if (!known) toast(t('common.network'), 'error'); })
      .then(function () { kbForm.removeAttribute('aria-busy'); });
  }
  function kbShowMissing(id) {
    kbShowView('missing');
    var box = clear($('kb-missing'));
    box.appendChild(emptyState('empty', t('kb.missing', { id: id }), t('kb.missingText'),
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('kb.back'), onclick: function () { location.hash = '#kb'; } })));
  }

  /* ------------------------------------------------------------ problems */
  function kbClearProblems() {
    kbForm.querySelectorAll('[data-kb-error]').forEach(function (p) { p.hidden = true; p.textContent = ''; });
    kbForm.querySelectorAll('.has-error').forEach(function (n) { n.classList.remove('has-error'); });
    kbForm.querySelectorAll('[aria-invalid]').forEach(function (n) { n.removeAttribute('aria-invalid'); });
    $('kb-problems').hidden = true;
  }
  /** Where a problem goes in the form, and its message there (`questions.en[3]` → line 4). */
  function kbProblemTarget(p) {
    var path = String(p.path || '').replace(/^entries\[\d+\]\./, ''), msg = String(p.message || '');
    var m = /^(questions|keywords)\.(zh|en)\[(\d+)\]$/.exec(path);
    if (m) return { key: m[1] + '.' + m[2], message: t('kb.err.line', { n: Number(m[3]) + 1, msg: msg }) };
    m = /^tags\[(\d+)\]$/.exec(path);
    if (m) return { key: 'tags', message: t('kb.err.tag', { n: Number(m[1]) + 1, msg: msg }) };
    return { key: path, message: msg };
  }
  function kbShowProblems(problems) {
    kbClearProblems();
    var list = clear($('kb-problems-list'));
    var firstField = null;
    problems.forEach(function (p) {
      var tg = kbProblemTarget(p);
      var box = kbForm.querySelector('[data-kb-error="' + cssEscape(tg.key) + '"]');
      var field = null;
      if (box) {
        box.textContent = box.textContent ? box.textContent + ' · ' + tg.message : tg.message;
        box.hidden = false;
        var f = box.closest('.field, .kb-channel, .kb-sec');
        if (f) f.classList.add('has-error');
        field = f && f.querySelector('input:not([type=radio]), textarea') || (f && f.querySelector('input'));
        if (field) { field.setAttribute('aria-invalid', 'true'); if (!firstField) firstField = field; }
      }
      var item = el('li', { class: 'problem', tabindex: '0', role: 'button', 'data-testid': 'kb-problem', 'data-path': String(p.path || ''), 'data-placed': box ? 'true' : 'false',
        onclick: function () { if (field) { field.focus(); field.scrollIntoView({ block: 'center', behavior: 'smooth' }); } },
        onkeydown: function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); this.click(); } } }, [
        el('span', { class: 'problem-path', text: String(p.path || '—') }),
        el('span', { class: 'problem-msg', text: String(p.message || '') })
      ]);
      list.appendChild(item);
    });
    $('kb-problems-title').textContent = problems.length === 1 ? t('kb.problems1') : t('kb.problems', { n: problems.length });
    $('kb-problems').hidden = false;
    $('kb-problems').scrollIntoView({ block: 'nearest' });
    if (firstField) firstField.focus({ preventScroll: true });
  }

  /* ------------------------------------------------------------- actions */
  function kbSave() {
    if (KB.busy || (KB.view !== 'edit' && KB.view !== 'new')) return;
    var isNew = KB.view === 'new';
    if (!isNew && !kbDirty()) { toast(t('kb.noChanges')); return; }
    var body = kbCollect();
    kbHideConfirm();
    KB.busy = 'save';
    setBusy($('kb-save'), 'kb.saving');
    kbForm.setAttribute('aria-busy', 'true');
    var url = isNew ? '/v1/kb/entries' : '/v1/kb/entries/' + encodeURIComponent(KB.editId);
    // the version this form was loaded from: a save over someone else's newer one is refused (412)
    var version = !isNew && KB.entry && KB.entry.etag;
    api(isNew ? 'POST' : 'PUT', url, body, version ? { 'If-Match': version } : undefined).then(function (r) {
      if (r.ok) {
        var rev = r.data && r.data.revision, id = (r.data && r.data.id) || body.id;
        var saved = Object.assign({}, body, { updated_at: new Date().toISOString(), updated_by: S.session && (S.session.agent_id || S.session.username), etag: r.data && r.data.etag });
        toast(t(isNew ? 'kb.created' : 'kb.saved', { title: kbText(body.title) || id, rev: rev }));
        kbClearProblems();
        // the list knows it at once; GET /v1/kb/entries follows
        if (KB.data) {
          KB.data.entries = kbEntries().filter(function (x) { return x.id !== id; }).concat([saved]);
        }
        KB.editId = id;
        KB.view = 'edit';
        kbFill(saved);
        if (isNew) history.replaceState(null, '', kbHash(id));
        kbChanged(rev);
        kbFillDatalists();
        api('GET', '/v1/kb/entries/' + encodeURIComponent(id)).then(function (g) {
          if (g.ok && g.data && KB.editId === id && KB.view === 'edit' && !kbDirty()) kbFill(g.data);
        }).catch(function () { /* the form already shows what was saved */ });
        return;
      }
      if (r.status === 412) { kbChangedElsewhere(r); return; }
      var problems = arr(r.data && r.data.problems);
      if (r.status === 422 && problems.length) kbShowProblems(problems);
      else if (r.status === 409) kbShowProblems([{ path: 'id', message: t('kb.err.exists', { id: body.id }) }]);
      else toast(t('kb.saveFailed', { msg: errMsg(r) }), 'error');
    }).catch(function () { toast(t('kb.saveFailed', { msg: t('common.network') }), 'error'); })
      .then(function () {
        KB.busy = null;
        setBusy($('kb-save'), null);
        kbForm.removeAttribute('aria-busy');
        renderKbEditorHead();
      });
  }
  /**
   * A save or delete was refused because someone else saved the entry after this form loaded it
   * (412): the edits stay in the form, and the bar offers to load the other version instead.
   */
  function kbChangedElsewhere(r) {
    var id = KB.editId;
    var gone = !(r && r.data && r.data.etag);
    kbConfirm(gone ? t('kb.err.gone') : t('kb.err.changed'), gone ? t('kb.err.goneSub') : t('kb.err.changedSub'), gone ? t('kb.err.toList') : t('kb.err.loadLatest'), 'kb-load-latest', function () {
      api('GET', '/v1/kb/entries/' + encodeURIComponent(id)).then(function (g) {
        if (g.ok && g.data && KB.editId === id) { kbFill(g.data); kbClearProblems(); toast(t('kb.loadedLatest')); }
        else if (g.status === 404) { KB.baseline = null; location.hash = '#kb'; }
      });
    });
  }
  kbForm.addEventListener('submit', function (ev) { ev.preventDefault(); kbSave(); });
  kbForm.addEventListener('input', function (ev) {
    // a field (and its group) loses its error as soon as it changes
    [ev.target.closest('.field'), ev.target.closest('.kb-channel'), ev.target.closest('.kb-sec')].forEach(function (f) {
      if (!f || !f.classList.contains('has-error')) return;
      f.classList.remove('has-error');
      Array.prototype.forEach.call(f.children, function (p) { if (p.hasAttribute('data-kb-error')) { p.hidden = true; p.textContent = ''; } });
      if (f.classList.contains('field')) f.querySelectorAll('[data-kb-error]').forEach(function (p) { p.hidden = true; p.textContent = ''; });
    });
    ev.target.removeAttribute('aria-invalid');
    if (ev.target.tagName === 'TEXTAREA') kbAutosize(ev.target);
    kbEdited();
  });
  kbForm.addEventListener('change', kbEdited);
  document.addEventListener('keydown', function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && (ev.key === 's' || ev.key === 'S') && S.section === 'kb' && !kbForm.hidden) {
      ev.preventDefault();
      kbSave();
    }
  });
  $('kb-back').addEventListener('click', function () { location.hash = '#kb'; });

  function kbConfirm(text, sub, okLabel, okTestId, onOk, box) {
    box = box || $('kb-confirm');
    clear(box);
    var tid = box.id + '-title', did = box.id + '-desc';
    box.setAttribute('role', 'alertdialog');
    box.setAttribute('aria-labelledby', tid);
    if (sub) box.setAttribute('aria-describedby', did); else box.removeAttribute('aria-describedby');
    box.appendChild(el('div', {}, [el('strong', { id: tid, 'data-testid': 'kb-confirm-text', text: text }), sub ? el('div', { id: did, class: 'confirm-sub', text: sub }) : null]));
    var ok = el('button', { type: 'button', class: 'btn btn-danger btn-sm', 'data-testid': okTestId, text: okLabel, onclick: function () { box.hidden = true; onOk(); } });
    var cancel = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'kb-confirm-cancel', text: box.id === 'kb-confirm' && okTestId === 'kb-leave-ok' ? t('kb.keepEditing') : t('common.cancel'),
      onclick: function () { box.hidden = true; KB.leaveTo = null; } });
    box.appendChild(el('div', { class: 'confirm-actions' }, [cancel, ok]));
    box.hidden = false;
    box.scrollIntoView({ block: 'nearest' });
    cancel.focus();
  }
  function kbHideConfirm() { $('kb-confirm').hidden = true; KB.leaveTo = null; }

  $('kb-delete').addEventListener('click', function () {
    var e = KB.entry || { id: KB.editId };
    kbConfirm(t('kb.confirmDelete', { title: kbTitle(e), id: e.id }), t('kb.confirmDeleteSub'), t('kb.confirmDeleteOk'), 'kb-delete-confirm', kbDelete);
  });
  function kbDelete() {
    var id = KB.editId;
    if (!id || KB.busy) return;
    KB.busy = 'delete';
    setBusy($('kb-delete'), 'kb.deleting');
    var version = KB.entry && KB.entry.etag;
    api('DELETE', '/v1/kb/entries/' + encodeURIComponent(id), undefined, version ? { 'If-Match': version } : undefined).then(function (r) {
      if (r.status === 412 && r.data && r.data.etag) { kbChangedElsewhere(r); return; }
      if (r.ok || r.status === 404 || r.status === 412) {
        if (r.ok) toast(t('kb.deleted', { id: id, rev: r.data && r.data.revision }));
        if (KB.data) KB.data.entries = kbEntries().filter(function (x) { return x.id !== id; });
        KB.baseline = null;   // nothing left to lose: the list opens without asking
        location.hash = '#kb';
        kbChanged(r.data && r.data.revision);
      } else toast(t('kb.deleteFailed', { msg: errMsg(r) }), 'error');
    }).catch(function () { toast(t('kb.deleteFailed', { msg: t('common.network') }), 'error'); })
      .then(function () { KB.busy = null; setBusy($('kb-delete'), null); });
  }

  /**
   * route() asks before it leaves an editor with unsaved changes: the address goes back to the
   * editor and a bar offers to discard them. True when the navigation may go on.
   */
  function kbMayLeave(name, args) {
    if (S.section !== 'kb' || (KB.view !== 'edit' && KB.view !== 'new') || !kbDirty()) return true;
    var a = args[0] ? decodeURIComponent(args[0]) : '';
    if (name === 'kb' && ((KB.view === 'new' && a === 'new') || (KB.view === 'edit' && a === KB.editId))) return true;
    var target = location.hash || '#live';
    // back to the editor's address as a new history entry: replacing the current one would
    // overwrite where Back came from
    history.pushState(null, '', KB.view === 'new' ? '#kb/new' : kbHash(KB.editId));
    KB.leaveTo = target;
    kbConfirm(t('kb.leave'), t('kb.leaveSub'), t('kb.leaveOk'), 'kb-leave-ok', function () {
      var to = KB.leaveTo;
      KB.leaveTo = null;
      KB.baseline = null;   // the edits are given up: route() lets the navigation through
      location.hash = to;
    });
    return false;
  }
  window.addEventListener('beforeunload', function (ev) {
    if (S.session && S.section === 'kb' && kbDirty()) { ev.preventDefault(); ev.returnValue = ''; }
  });

  /* ------------------------------------------------------ try a question */
  /** What `e` sends on `channel` in `lang` (KbEntry::render in src/kb/entry.rs). */
  function kbRender(e, lang, channel) {
    var own = obj(obj(e.channel_answers)[channel]), ans = obj(e.answer);
    var pick = function (l) { return own[l] != null ? { text: own[l], general: false } : ans[l] != null ? { text: ans[l], general: true } : null; };
    var p = pick(lang) || pick(kbOther(lang));
    if (!p) return '';
    return p.general && channel === 'sms' ? String(p.text).split(/\s+/).filter(Boolean).join(' ') : String(p.text);
  }
  /**
   * The entry that answered. The match response names the intent, not the entry (several entries
   * may share an intent), so: the entries with that intent whose answer is the reply's text, then
   * the candidate with the reply's confidence, then the best candidate with that intent.
   */
  function kbAnswerEntry(res, req) {
    if (res && res.entry_id) return kbFind(res.entry_id) || { id: res.entry_id, title: {} };
    if (res && res.outcome) return null; // a server that names the entry named none
    if (!res || !res.intent) return null;
    var pool = kbEntries().filter(function (e) { return kbIntent(e) === res.intent && (e.status || 'published') === 'published'; });
    var langs = req.language ? [req.language] : ['zh', 'en'];
    var exact = pool.filter(function (e) { return langs.some(function (l) { return kbRender(e, l, req.channel || 'web') === res.answer; }); });
    if (res.flow && !exact.length) return null;
    if (exact.length) pool = exact;
    var cands = arr(res.candidates);
    var byConf = cands.find(function (c) { return isNum(res.confidence) && Math.abs(c.confidence - res.confidence) < 1e-6 && pool.some(function (e) { return e.id === c.id; }); });
    var byRank = cands.find(function (c) { return pool.some(function (e) { return e.id === c.id; }); });
    var id = (byConf || byRank || {}).id || (pool.length === 1 ? pool[0].id : null);
    return id ? (kbFind(id) || { id: id, title: {} }) : (pool[0] || null);
  }
  /** The server's outcome (POST /v1/kb/match `outcome`) in this panel's terms. */
  var KB_OUTCOMES = { answered: 'answered', did_you_mean: 'unsure', dont_know: 'unknown', small_talk: 'smalltalk', handoff: 'handoff', flow: 'flow' };
  function kbOutcome(res, matched) {
    if (res.outcome && KB_OUTCOMES[res.outcome]) return KB_OUTCOMES[res.outcome];
    if (res.handoff) return 'handoff';
    if (res.flow) return 'flow';
    if (res.intent && matched) return 'answered';
    if (res.intent) return 'answered';
    return arr(res.candidates).some(function (c) { return c.confidence >= KB_SUGGESTION_FLOOR; }) ? 'unsure' : 'unknown';
  }
  var KB_OUTCOME_ICONS = {
    answered: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"><path d="M20 6 9 17l-5-5"/></svg>',
    unsure: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.8" stroke-linecap="round" stroke-linejoin="round"><path d="M9 9a3 3 0 1 1 4.2 2.8c-.8.3-1.2 1-1.2 1.8v.4M12 18h.01"/></svg>',
    unknown: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.8" stroke-linecap="round"><path d="M7 12h10"/></svg>',
    smalltalk: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12Z"/></svg>',
    handoff: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="8" r="3.5"/><path d="M5 20a7 7 0 0 1 14 0"/></svg>',
    flow: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"><path d="M5 12h12M13 6l6 6-6 6"/></svg>'
  };
  function kbConfBar(v, testid) {
    var pct = isNum(v) ? clamp(v, 0, 1) : 0;
    var cls = pct >= 0.45 ? 'is-high' : pct >= KB_SUGGESTION_FLOOR ? 'is-mid' : 'is-low';
    return el('span', { class: 'kb-conf ' + cls, 'data-testid': testid || 'kb-confidence', 'data-value': isNum(v) ? String(v) : '', title: t('kb.try.confidenceOf', { pct: fmtPct(pct, 0) }) }, [
      el('span', { class: 'kb-conf-bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct * 100)), 'aria-label': t('kb.try.confidence') }, [el('span', { style: { width: (pct * 100).toFixed(1) + '%' } })]),
      el('span', { class: 'kb-conf-val', text: fmtPct(pct, 0) })
    ]);
  }

  $('kb-try-form').addEventListener('submit', function (ev) { ev.preventDefault(); kbAsk(); });
  $('kb-try-text').addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); kbAsk(); }
  });
  $('kb-try-text').addEventListener('input', function () { $('kb-try-error').hidden = true; this.removeAttribute('aria-invalid'); });
  function kbAsk(again) {
    var text = again && KB.tryState.req ? KB.tryState.req.text : $('kb-try-text').value.trim();
    if (!text) {
      $('kb-try-error').textContent = t('kb.try.empty');
      $('kb-try-error').hidden = false;
      $('kb-try-text').setAttribute('aria-invalid', 'true');
      $('kb-try-text').focus();
      return;
    }
    var req = again && KB.tryState.req ? KB.tryState.req : { text: text, channel: $('kb-try-channel').value || 'web' };
    if (!again && $('kb-try-lang').value) req.language = $('kb-try-lang').value;
    var seq = (KB.trySeq = (KB.trySeq || 0) + 1);
    KB.tryState = { state: 'loading', req: req, res: KB.tryState.res, error: null };
    setBusy($('kb-try-submit'), 'kb.try.asking');
    renderKbTry();
    api('POST', '/v1/kb/match', req).then(function (r) {
      if (seq !== KB.trySeq) return;
      if (r.ok && r.data) KB.tryState = { state: 'ok', req: req, res: r.data, error: null };
      else KB.tryState = { state: 'error', req: req, res: null, error: missingRoute(r) ? t('kb.unavailable') : errMsg(r) };
    }).catch(function () {
      if (seq === KB.trySeq) KB.tryState = { state: 'error', req: req, res: null, error: t('common.network') };
    }).then(function () {
      if (seq !== KB.trySeq) return;
      setBusy($('kb-try-submit'), null);
      renderKbTry();
    });
  }
  function renderKbTry() {
    var st = KB.tryState;
    // the result is a live region: redo it only when something in it changes
    var s = sig([st.state, st.req, st.res, st.error, i18n.lang, KB.data && KB.data.revision, kbEntries().length]);
    if (s === KB.trySig) return;
    KB.trySig = s;
    var box = clear($('kb-try-result'));
    box.classList.toggle('is-loading', st.state === 'loading');
    if (st.state === 'idle') {
      box.setAttribute('data-state', 'idle');
      box.appendChild(el('p', { class: 'kb-try-idle', text: t('kb.try.idle') }));
      return;
    }
    if (st.state === 'error') {
      box.setAttribute('data-state', 'error');
      box.appendChild(el('div', { class: 'notice notice-danger', role: 'alert', 'data-testid': 'kb-try-failed', text: t('kb.try.failed', { msg: st.error }) }));
      return;
    }
    if (!st.res) { box.setAttribute('data-state', 'loading'); box.appendChild(loadingRow(t('kb.try.asking'))); return; }
    var res = st.res, req = st.req;
    var matched = kbAnswerEntry(res, req);
    var outcome = kbOutcome(res, matched);
    box.setAttribute('data-state', st.state === 'loading' ? 'loading' : outcome);
    box.setAttribute('data-entry-id', matched ? matched.id : '');
    var heads = {
      answered: [t('kb.try.answered'), res.intent ? t('kb.try.answeredSub', { intent: res.intent }) : ''],
      unsure: [t('kb.try.unsure'), t('kb.try.unsureSub')],
      unknown: [t('kb.try.unknown'), t('kb.try.unknownSub')],
      smalltalk: [t('kb.try.smalltalk'), t('kb.try.smalltalkSub')],
      handoff: [t('kb.try.handoff'), t('kb.try.handoffSub')],
      flow: [t('kb.try.flow'), t('kb.try.flowSub', { intent: res.intent || '—' })]
    }[outcome];
    var iconNode = el('span', { class: 'kb-outcome-icon', 'aria-hidden': 'true' });
    iconNode.innerHTML = KB_OUTCOME_ICONS[outcome];
    box.appendChild(el('div', { class: 'kb-outcome is-' + outcome, 'data-testid': 'kb-try-outcome', 'data-outcome': outcome }, [
      iconNode,
      el('div', {}, [el('strong', { text: heads[0] }), heads[1] ? el('p', { text: heads[1] }) : null])
    ]));
    if (matched) {
      var mt = kbTitle(matched);
      box.appendChild(el('div', { class: 'kb-try-block' }, [
        el('p', { class: 'kb-try-label', text: t('kb.try.match') }),
        el('a', { class: 'kb-match', href: kbHash(matched.id), 'data-testid': 'kb-try-match', 'data-entry-id': matched.id, 'aria-label': t('kb.try.open', { title: mt }) }, [
          el('span', { class: 'kb-match-text' }, [el('strong', { text: mt }), el('span', { class: 'mono', text: matched.id })]),
          kbIcon('chev')
        ]),
        el('div', { class: 'kb-try-conf' }, [el('span', { class: 'kb-try-conf-label', text: t('kb.try.confidence') }), kbConfBar(res.confidence, 'kb-try-confidence')])
      ]));
    }
    if (res.answer) {
      box.appendChild(el('div', { class: 'kb-try-block' }, [
        el('p', { class: 'kb-try-label' }, [t('kb.try.reply'), el('span', { class: 'kb-try-meta' }, [
          el('span', { class: 'chan chan-' + (req.channel || 'web'), text: kbChannelName(req.channel || 'web') }),
          req.language ? el('span', { class: 'kb-lang kb-lang-' + req.language, text: req.language === 'zh' ? '中' : 'EN' }) : null
        ])]),
        el('div', { class: 'kb-bubble', 'data-testid': 'kb-try-answer' }, [res.answer])
      ]));
    }
    var cands = arr(res.candidates).filter(function (c) { return c && c.id && !(matched && c.id === matched.id); });
    if (cands.length) {
      var dym = outcome === 'unsure';
      var ul = el('ul', { class: 'kb-cands', 'data-testid': 'kb-try-candidates' });
      cands.forEach(function (c, i) {
        var e = kbFind(c.id);
        var suggested = dym && (Array.isArray(res.suggested) ? res.suggested.indexOf(c.id) !== -1 : c.confidence >= KB_SUGGESTION_FLOOR);
        // GET /v1/kb/match lists an entry named by a keyword first, at exactly 100 %
        var keyword = i === 0 && c.confidence === 1 && arr(res.candidates)[0] === c;
        ul.appendChild(el('li', {}, [el('a', { class: 'kb-cand' + (suggested ? ' is-suggested' : ''), href: kbHash(c.id), 'data-testid': 'kb-try-candidate', 'data-entry-id': c.id, 'data-suggested': suggested ? 'true' : 'false' }, [
          el('span', { class: 'kb-cand-text' }, [el('span', { class: 'kb-cand-title', text: e ? kbTitle(e) : (c.title || c.id) }),
            el('span', { class: 'kb-cand-sub' }, [el('span', { class: 'mono', text: c.id }), keyword ? el('span', { class: 'kb-kw', title: t('kb.try.keywordHint'), text: t('kb.try.keyword') }) : null])]),
          kbConfBar(c.confidence)
        ])]));
      });
      box.appendChild(el('div', { class: 'kb-try-block' }, [el('p', { class: 'kb-try-label', text: dym ? t('kb.try.didYouMean') : t('kb.try.closest') }), ul]));
    }
    var foot = el('div', { class: 'kb-try-foot' }, [el('span', { 'data-testid': 'kb-try-revision', 'data-revision': String(res.revision), text: t('kb.try.botRev', { rev: res.revision }) })]);
    if (KB.data && isNum(res.revision) && res.revision < KB.data.revision) {
      foot.classList.add('is-stale');
      foot.appendChild(el('span', { class: 'kb-try-stale', 'data-testid': 'kb-try-stale', text: t('kb.try.stale', { rev: KB.data.revision }) }));
      foot.appendChild(el('button', { type: 'button', class: 'link-btn', 'data-testid': 'kb-try-again', text: t('kb.try.again'), onclick: function () { kbAsk(true); } }));
    }
    box.appendChild(foot);
  }

  /* ----------------------------------------------------- import / export */
  function kbFetchRaw(method, url, body, type) {
    var headers = { Authorization: 'Bearer ' + (S.session && S.session.token) };
    if (type) headers['Content-Type'] = type;
    return fetch(url, { method: method, headers: headers, body: body, cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
      if (res.status === 401 && S.session) { logout(t('login.err.expired')); return new Promise(function () { /* signed out */ }); }
      return res;
    });
  }
  function kbJsonOf(res) {
    return res.text().then(function (txt) { var d = null; try { d = txt ? JSON.parse(txt) : null; } catch (e) { d = { raw: txt }; } return { status: res.status, ok: res.ok, data: d }; });
  }
  function kbExport(format) {
    $('kb-export-menu').open = false;
    kbFetchRaw('GET', '/v1/kb/export?format=' + format).then(function (res) {
      if (!res.ok) return kbJsonOf(res).then(function (r) { toast(t('kb.exportFailed', { msg: errMsg(r) }), 'error'); });
      var cd = res.headers.get('Content-Disposition') || '';
      var m = /filename="?([^";]+)"?/i.exec(cd);
      var base = (m ? m[1] : 'knowledge-base.' + format).replace(/\.(json|csv)$/i, '');
      var rev = KB.data && isNum(KB.data.revision) ? '-r' + KB.data.revision : '';
      var name = base + rev + '.' + format;
      return res.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = el('a', { href: url, download: name });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 30000);
        toast(t('kb.exported', { name: name }));
      });
    }).catch(function () { toast(t('kb.exportFailed', { msg: t('common.network') }), 'error'); });
  }
  $('kb-export-json').addEventListener('click', function () { kbExport('json'); });
  $('kb-export-csv').addEventListener('click', function () { kbExport('csv'); });
  document.addEventListener('click', function (ev) {
    var menu = $('kb-export-menu');
    if (menu.open && !menu.contains(ev.target)) menu.open = false;
  });
  $('kb-export-menu').addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && this.open) { this.open = false; this.querySelector('summary').focus(); }
  });

  function kbToggleImport(open) {
    var panel = $('kb-import');
    panel.hidden = !open;
    $('kb-import-open').setAttribute('aria-expanded', open ? 'true' : 'false');
    $('kb-import-open').classList.toggle('is-on', open);
    if (open) { $('kb-import-file').focus(); panel.scrollIntoView({ block: 'nearest' }); }
    else { $('kb-import-confirm').hidden = true; $('kb-import-open').focus(); }
  }
  $('kb-import-open').addEventListener('click', function () { kbToggleImport($('kb-import').hidden); });
  $('kb-import-close').addEventListener('click', function () { kbToggleImport(false); });
  $('kb-import-file').addEventListener('change', function () {
    $('kb-import-file-error').hidden = true;
    $('kb-import-result').hidden = true;
    $('kb-import-confirm').hidden = true;
  });
  $('kb-import').addEventListener('change', function (ev) { if (ev.target.name === 'kb-import-mode') $('kb-import-confirm').hidden = true; });
  function kbImportError(msg) { var p = $('kb-import-file-error'); p.textContent = msg; p.hidden = false; }
  /** The content type the server wants for `file`: by its name, its type, else its first byte. */
  function kbImportType(file) {
    var name = String(file.name || '').toLowerCase();
    if (/\.json$/.test(name)) return Promise.resolve('application/json');
    if (/\.csv$/.test(name)) return Promise.resolve('text/csv');
    if (/json/.test(file.type)) return Promise.resolve('application/json');
    if (/csv/.test(file.type)) return Promise.resolve('text/csv');
    return file.slice(0, 64).text().then(function (head) {
      var s = head.replace(/^\uFEFF/, '').trim();
      return s.charAt(0) === '{' || s.charAt(0) === '[' ? 'application/json' : /^[\w"]/.test(s) && s.indexOf(',') !== -1 ? 'text/csv' : null;
    });
  }
  $('kb-import-run').addEventListener('click', function () { kbImport(false); });
  function kbImport(confirmed) {
    if (KB.importBusy) return;
    var file = $('kb-import-file').files && $('kb-import-file').files[0];
    $('kb-import-result').hidden = true;
    $('kb-import-file-error').hidden = true;
    if (!file) { kbImportError(t('kb.importNoFile')); $('kb-import-file').focus(); return; }
    if (file.size > KB_MAX_IMPORT) { kbImportError(t('kb.importTooBig')); return; }
    var modeIn = $('kb-import').querySelector('input[name=kb-import-mode]:checked');
    var mode = modeIn ? modeIn.value : 'merge';
    if (mode === 'replace' && !confirmed) {
      kbConfirm(t('kb.importConfirm', { file: file.name }), t('kb.importConfirmSub'), t('kb.importConfirmOk'), 'kb-import-confirm-ok', function () { kbImport(true); }, $('kb-import-confirm'));
      return;
    }
    kbImportType(file).then(function (type) {
      if (!type) { kbImportError(t('kb.importType')); return; }
      KB.importBusy = true;
      setBusy($('kb-import-run'), 'kb.importing');
      return kbFetchRaw('POST', '/v1/kb/import?mode=' + mode, file, type).then(kbJsonOf).then(function (r) {
        var box = clear($('kb-import-result'));
        box.hidden = false;
        if (r.ok && r.data) {
          var n = r.data.imported, m = t('kb.mode.' + (r.data.mode || mode));
          var text = n === 1 ? t('kb.imported1', { file: file.name, mode: m, rev: r.data.revision }) : t('kb.imported', { n: fmtInt(n), file: file.name, mode: m, rev: r.data.revision });
          box.className = 'kb-import-result status-banner is-ok';
          box.setAttribute('data-outcome', 'ok');
          box.setAttribute('data-imported', String(n));
          box.appendChild(el('span', { class: 'ico', 'aria-hidden': 'true' }, [el('span', { text: '✓' })]));
          box.appendChild(el('span', { 'data-testid': 'kb-import-text', text: text }));
          toast(text);
          kbChanged(r.data.revision);
          return;
        }
        var problems = arr(r.data && r.data.problems);
        box.className = 'kb-import-result problems';
        box.setAttribute('data-outcome', 'problems');
        box.removeAttribute('data-imported');
        if (r.status === 422 && problems.length) {
          box.appendChild(el('div', { class: 'problems-head' }, [el('span', { class: 'problems-icon', 'aria-hidden': 'true', text: '!' }),
            el('strong', { 'data-testid': 'kb-import-text', text: problems.length === 1 ? t('kb.importProblems1', { file: file.name }) : t('kb.importProblems', { n: problems.length, file: file.name }) })]));
          var ol = el('ol', { class: 'problems-list', 'data-testid': 'kb-import-problems' });
          problems.slice(0, 200).forEach(function (p) {
            ol.appendChild(el('li', { class: 'problem is-static', 'data-testid': 'kb-import-problem', 'data-path': String(p.path || '') }, [
              el('span', { class: 'problem-path', text: String(p.path || '—') }), el('span', { class: 'problem-msg', text: String(p.message || '') })]));
          });
          box.appendChild(ol);
        } else {
          var msg = r.status === 413 ? t('kb.importTooBig') : r.status === 415 ? t('kb.importType') : errMsg(r);
          box.appendChild(el('div', { class: 'problems-head' }, [el('span', { class: 'problems-icon', 'aria-hidden': 'true', text: '!' }),
            el('strong', { 'data-testid': 'kb-import-text', text: t('kb.importFailed', { msg: msg }) })]));
        }
      });
    }).catch(function () {
      kbImportError(t('kb.importFailed', { msg: t('common.network') }));
    }).then(function () {
      KB.importBusy = false;
      setBusy($('kb-import-run'), null);
    });
  }

  /* --------------------------------------------------------------- enter */
  onEnter.kb = function (args, changed) {
    if (changed || KB.state === 'idle' || KB.state === 'error') kbLoad();
    var a = args[0] ? decodeURIComponent(args[0]) : '';
    if (a === 'new') { if (changed || KB.view !== 'new') kbOpenNew(); }
    else if (a) { if (changed || !(KB.view === 'edit' && KB.editId === a)) kbOpenEdit(a); }
    else if (KB.view !== 'list' || changed) kbOpenList();
    renderKbTry();
  };
  function kbReset() {
    clearTimeout(KB.timer);
    KB.state = 'idle'; KB.data = null; KB.error = null; KB.view = 'list'; KB.editId = null; KB.entry = null;
    KB.baseline = null; KB.busy = null; KB.leaveTo = null; KB.tryState = { state: 'idle', req: null, res: null, error: null };
    // a call cut short by a logout (an expired session) never settles: nothing may stay busy
    KB.importBusy = false; KB.revSig = null; KB.trySeq = (KB.trySeq || 0) + 1;
    ['kb-save', 'kb-delete', 'kb-import-run', 'kb-try-submit'].forEach(function (id) { if ($(id)) setBusy($(id), null); });
    kbShowView('list');
  }
  function renderKbAll() {
    renderKbRevision(); renderKbFilters(); renderKbList(); renderKbTry();
    if (KB.view === 'edit' || KB.view === 'new') { renderKbChannels(); kbEdited(); }
  }

  /* ============================================================= language */
  i18n.onChange(function () {
    updateTitle();
    renderCheatSheet();
    if (consoleView.hidden) return;
    setLivePill($('live-pill').getAttribute('data-state'));
    S.live.sigs = {};
    renderMe(); renderActiveInfo(); renderLive();
    renderRulesBase(); renderLoadSelect(); renderPreview(); renderProblems();
    if (!$('rules-status').hidden) hideRulesStatus();
    renderOverrideLists();
    renderDryVersions(); renderDryReport();
    renderVersions(); renderAudit();
    renderKbAll();
    if (WHY.id) renderWhy();
  });
  i18n.bindSwitches();
  i18n.apply();
  renderCheatSheet();

  /* ================================================================= boot */
  S.session = login.saved();
  if (S.session) enterConsole(); else showLogin();

  window.SwitchboardConsole = {
    get state() {
      return { section: S.section, activeVersion: activeVersion(), lastSaved: S.lastSaved, problems: E.problems.slice(),
        jsonError: E.jsonError, live: S.live.data, versions: S.versionsState, audit: S.auditState, dry: S.dry.state,
        kb: { state: KB.state, view: KB.view, id: KB.editId, dirty: kbDirty(), revision: KB.data && KB.data.revision,
          botRevision: KB.data && KB.data.bot_revision } };
    }
  };
})();
