// End-to-end browser test: the bot hands a flow over to an agent, with its context, the agent
// answers with an assist suggestion and gives the conversation back to the bot.
//
//   cd tests/browser && SWITCHBOARD_BIN=$PWD/../../target/debug/switchboard node --test desk_assist.test.mjs
//
// A web visitor starts the "change address" flow for an order that has already shipped; the demo
// order system answers 409 and the bot hands over to skill `orders` (bob). bob's offer card and
// context card show why (reason "flow"), the collected slots and the bot transcript. The customer
// asks about an invoice: the assist panel offers the knowledge-base answer, bob inserts and sends
// it (the frame carries `suggestion_id`), then gives the conversation back to the bot, which
// answers the customer's next question itself.
//
// Screenshots land in <repo>/target/screenshots/ (desk-assist-*.png), at a 1366×800 laptop size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { SHOTS, STEP_TIMEOUT, assertText, setupSuite, sleep, waitUntil } from './harness.mjs';

const suite = setupSuite({
  tmpPrefix: 'switchboard-assist-',
  failurePrefix: 'failure-assist-',
  serverEnv: { SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS: '60000' },
  viewport: { width: 1366, height: 800 },
  locale: 'zh-CN',
});

const ORDER_NO = 'SB20261125005';          // last digit 5: shipped → changing the address is refused (409)
const ADDRESS = '上海市浦东新区世纪大道100号';
const PHONE = '13800138000';
const BOT_WAIT = 20_000;

test('agent desk: hand-off context, assist suggestions and giving back to the bot', { timeout: 300_000 }, async (t) => {
  let desk, conversationId, visitorToken;
  const sentFrames = [];
  const step = suite.stepper(t, () => ({ desk }), { stopOnFailure: true, numberShots: true, logTail: 3000 });
  const shot = async (name) => {
    await sleep(300); // let entry animations settle
    await desk.screenshot({ path: path.join(SHOTS, name) });
  };

  /* ----------------------------------------------------------- customer (HTTP) */
  async function api(method, url, body) {
    const res = await fetch(suite.baseUrl + url, {
      method,
      headers: { 'Content-Type': 'application/json', ...(visitorToken ? { Authorization: `Bearer ${visitorToken}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, data: text ? JSON.parse(text) : null };
  }
  const current = async () => {
    const r = await api('GET', '/v1/conversations/current');
    assert.equal(r.status, 200, `GET /v1/conversations/current: HTTP ${r.status} ${JSON.stringify(r.data)}`);
    return r.data;
  };
  /** The customer writes `text`; resolves with the bot's replies to it once one matches `re`. */
  async function say(text, re = /\S/, who = ['bot']) {
    const r = await api('POST', '/v1/messages', { text, client_id: `c-${randomBytes(5).toString('hex')}` });
    assert.equal(r.status, 202, `POST /v1/messages: HTTP ${r.status} ${JSON.stringify(r.data)}`);
    conversationId = conversationId || r.data.conversation_id;
    if (!re) return r.data;
    let last = [];
    return waitUntil(async () => {
      const conv = await current();
      const i = conv.messages.findIndex((m) => m.id === r.data.message_id);
      last = i === -1 ? [] : conv.messages.slice(i + 1).filter((m) => who.includes(m.from));
      return last.some((m) => re.test(m.text)) ? last : null;
    }, `a ${who.join('/')} reply to “${text}” matching ${re}`, BOT_WAIT).catch((e) => {
      e.message += ` (got: ${JSON.stringify(last.map((m) => m.text))})`;
      throw e;
    });
  }

  /* ----------------------------------------------------------------- desk */
  const offer = () => desk.locator(`[data-testid=offer-card][data-conversation-id="${conversationId}"]`);
  const card = () => desk.getByTestId('context-card');
  const convItem = () => desk.locator(`[data-testid=conversation-item][data-conversation-id="${conversationId}"]`);

  await step('a web customer goes through the change-address flow and is handed over', async () => {
    const v = await api('POST', '/v1/visitors');
    assert.equal(v.status, 201, `POST /v1/visitors: HTTP ${v.status}`);
    visitorToken = v.data.visitor_token;
    await say('我的收货地址写错了，要改地址', /订单号/);
    // The bot picks its language per message, so a bare order number or phone may get an English
    // prompt (reported to the server owner); either language counts as the right prompt here.
    await say(ORDER_NO, /地址|address/i);
    await say(ADDRESS, /手机|mobile/i);
    await say(PHONE, /确认|\(yes\/no\)/i);
    const replies = await say('是', /已发货|already shipped/, ['bot', 'system']);
    assert.ok(replies.some((m) => m.text.includes(ORDER_NO)), `the bot names the order: ${JSON.stringify(replies)}`);
  });

  await step('bob logs in and goes Available', async () => {
    desk = await suite.newPage('desk');
    // Every frame the desk sends, to check what "send" really put on the wire.
    desk.on('websocket', (ws) => {
      if (ws.url().includes('/v1/ws/agent')) ws.on('framesent', (f) => { if (typeof f.payload === 'string') sentFrames.push(f.payload); });
    });
    await desk.goto(suite.baseUrl + '/desk');
    await desk.getByTestId('login-username').fill('bob');
    await desk.getByTestId('login-password').fill('demo');
    await desk.getByTestId('login-submit').click();
    await desk.getByTestId('desk-view').waitFor({ state: 'visible' });
    await desk.locator('[data-testid=connection][data-state=online]').waitFor();
    await desk.getByTestId('status-available').click();
    await desk.locator('[data-testid=status-available][aria-checked=true]').waitFor();
  });

  await step('the offer card shows the hand-off context', async () => {
    // Demo data may hold other waiting work: reject offers that are not ours.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const any = desk.getByTestId('offer-card').first();
      await any.waitFor({ timeout: STEP_TIMEOUT });
      if (await offer().count()) break;
      assert.ok(Date.now() < deadline, 'no offer for the test conversation arrived');
      await any.getByTestId('offer-reject').click();
      await sleep(300);
    }
    const reason = offer().getByTestId('offer-context-reason');
    assert.equal(await reason.getAttribute('data-reason'), 'flow');
    await assertText(reason, /流程转人工/);
    await assertText(offer().getByTestId('offer-context-flow'), /修改收货地址/);
    await assertText(offer().locator('[data-testid=offer-context-slot][data-slot=order_no]'), new RegExp(`订单号\\s*${ORDER_NO}`));
    await shot('desk-assist-offer.png');
  });

  await step('bob accepts; the context card shows reason, slots and the bot transcript', async () => {
    await offer().getByTestId('offer-accept').click();
    await convItem().and(desk.locator('[aria-current=true]')).waitFor();
    await card().waitFor({ state: 'visible' });
    assert.equal(await card().getByTestId('context-reason').getAttribute('data-reason'), 'flow');
    await assertText(card().getByTestId('context-reason'), /流程转人工/);
    await assertText(card().locator('[data-testid=context-slot][data-slot=order_no]'), new RegExp(ORDER_NO));
    await assertText(card().locator('[data-testid=context-slot][data-slot=phone]'), /138\D*0013\D*8000/);
    // The bot's summary in the desk's language: the flow's Chinese title and the answers.
    await assertText(card().getByTestId('context-summary'), new RegExp(`^流程 change_address（修改收货地址）：.*${ORDER_NO}`));
    // The bot transcript is collapsed until asked for.
    const lines = card().getByTestId('context-line');
    assert.equal(await lines.first().isVisible(), false, 'the transcript starts collapsed');
    await assertText(card().getByTestId('context-transcript-toggle'), /查看机器人对话/);
    await card().getByTestId('context-transcript-toggle').click();
    const addressLine = lines.filter({ hasText: ADDRESS });
    await addressLine.first().waitFor({ state: 'visible' });
    assert.equal(await addressLine.first().getAttribute('data-from'), 'customer');
    await assertText(addressLine.first().getByTestId('context-line-channel'), /网页/);
    await assertText(card().getByTestId('context-transcript-toggle'), /收起机器人对话/);
    // Before any new customer message the assist panel explains itself.
    await desk.getByTestId('assist-empty').waitFor({ state: 'visible' });
    await shot('desk-assist-context.png');
    // Collapse it again for the rest of the test.
    await card().getByTestId('context-transcript-toggle').click();
    await lines.first().waitFor({ state: 'hidden' });
  });

  await step('in English the context card is localized', async () => {
    await desk.getByTestId('lang-switch').click();
    await assertText(card().getByTestId('context-reason'), /Flow hand-off/);
    await assertText(card().locator('[data-testid=context-slot][data-slot=order_no]'), /Order no\./);
    await assertText(card().getByTestId('context-transcript-toggle'), /Show bot conversation/);
    await assertText(card().getByTestId('context-summary'), new RegExp(`^Flow change_address \\(.*${ORDER_NO}`));
    await assertText(desk.getByTestId('give-back'), /Give back to bot/);
    await assertText(desk.getByTestId('assist-empty'), /knowledge base/);
    await shot('desk-assist-context-en.png');
    await desk.getByTestId('lang-switch').click();
    await assertText(card().getByTestId('context-reason'), /流程转人工/);
  });

  let suggestion;
  await step('the customer asks about an invoice; the assist panel suggests the knowledge-base answer', async () => {
    await say('发票抬头开错了怎么改？', null);
    const kb = desk.getByTestId('assist-group-kb').getByTestId('assist-suggestion');
    await kb.first().waitFor({ state: 'visible', timeout: BOT_WAIT });
    const titles = await kb.getByTestId('assist-title').allInnerTexts();
    const i = titles.findIndex((s) => s.includes('发票'));
    assert.ok(i !== -1, `a knowledge-base suggestion about 发票: ${JSON.stringify(titles)}`);
    const node = kb.nth(i);
    suggestion = {
      id: await node.getAttribute('data-suggestion-id'),
      text: await node.getByTestId('assist-text').getAttribute('title'),
      node,
    };
    assert.ok(suggestion.id && suggestion.text, 'the suggestion has an id and a text');
    await assertText(node.getByTestId('assist-score'), /^\d{1,3}%$/);
    await assertText(desk.getByTestId('assist-for'), /发票抬头开错了/);
    await shot('desk-assist-panel.png');
  });

  await step('Insert puts the text into the reply box; send delivers it with its suggestion id', async () => {
    await suggestion.node.getByTestId('assist-insert').click();
    const input = desk.getByTestId('reply-input');
    assert.equal(await input.inputValue(), suggestion.text);
    assert.equal(await input.evaluate((n) => n === document.activeElement), true, 'the reply box has focus');
    await desk.getByTestId('reply-suggestion').waitFor({ state: 'visible' });
    await shot('desk-assist-inserted.png');
    await desk.getByTestId('reply-send').click();
    const sent = desk.locator('[data-testid=transcript-message][data-from=agent][data-state=sent]', { hasText: suggestion.text.slice(0, 20) });
    await sent.first().waitFor();
    assert.equal(await input.inputValue(), '', 'the reply box is empty after sending');
    assert.equal(await desk.getByTestId('reply-suggestion').isVisible(), false, 'the suggestion is cleared after sending');
    const frames = sentFrames.map((f) => JSON.parse(f)).filter((f) => f.type === 'message');
    const frame = frames.find((f) => f.text === suggestion.text);
    assert.ok(frame, `a message frame with the suggestion's text: ${JSON.stringify(frames)}`);
    assert.equal(frame.conversation_id, conversationId);
    assert.equal(frame.suggestion_id, suggestion.id);
    // The customer sees it.
    await waitUntil(async () => (await current()).messages.some((m) => m.from === 'agent' && m.text === suggestion.text),
      'the agent reply in the customer conversation');
  });

  await step('a reply typed by hand carries no suggestion id', async () => {
    const input = desk.getByTestId('reply-input');
    await input.fill('还有其他问题吗？');
    await input.press('Enter');
    await desk.locator('[data-testid=transcript-message][data-from=agent][data-state=sent]', { hasText: '还有其他问题吗' }).first().waitFor();
    const frame = sentFrames.map((f) => JSON.parse(f)).find((f) => f.type === 'message' && f.text === '还有其他问题吗？');
    assert.ok(frame, 'the typed message frame');
    assert.equal(frame.suggestion_id, undefined);
  });

  await step('bob gives the conversation back to the bot; it leaves his desk', async () => {
    await desk.getByTestId('give-back').click();
    const dialog = desk.getByTestId('give-back-dialog');
    await dialog.waitFor({ state: 'visible' });
    await assertText(dialog, /转回机器人/);
    await shot('desk-assist-giveback.png');
    await desk.getByTestId('give-back-confirm').click();
    await dialog.waitFor({ state: 'hidden' });
    await waitUntil(async () => (await convItem().count()) === 0, 'the conversation to leave the list');
    await desk.getByTestId('center-empty').waitFor({ state: 'visible' });
    assert.equal(await card().isVisible(), false);
    assert.equal(await desk.getByTestId('assist-panel').isVisible(), false);
    const frame = sentFrames.map((f) => JSON.parse(f)).find((f) => f.type === 'give_back');
    assert.deepEqual(frame, { type: 'give_back', conversation_id: conversationId });
  });

  await step('the bot answers the customer again', async () => {
    const replies = await say('怎么退款', /退款/);
    assert.ok(replies.length, 'a bot reply');
    const conv = await current();
    assert.equal(conv.id, conversationId, 'the same conversation stays open for the customer');
    // Nothing about it reaches bob's desk any more.
    await sleep(500);
    assert.equal(await convItem().count(), 0);
  });

  await step('a draft stays with its conversation: a new assignment or a switch never carries it to another customer', async () => {
    const input = desk.getByTestId('reply-input');
    const itemFor = (id) => desk.locator(`[data-testid=conversation-item][data-conversation-id="${id}"]`);
    const offerFor = (id) => desk.locator(`[data-testid=offer-card][data-conversation-id="${id}"]`);
    /** A new web customer whose first message asks for a person; bob accepts the offer. */
    const newCustomerForBob = async (tag) => {
      const post = async (url, token, body) => {
        const res = await fetch(suite.baseUrl + url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body || {}),
        });
        return { status: res.status, data: await res.json() };
      };
      const v = await post('/v1/visitors');
      assert.equal(v.status, 201);
      const m = await post('/v1/messages', v.data.visitor_token, { text: '转人工', client_id: `c-${tag}` });
      assert.equal(m.status, 202, JSON.stringify(m.data));
      const id = m.data.conversation_id;
      await offerFor(id).waitFor({ timeout: 30_000 });
      await offerFor(id).getByTestId('offer-accept').click();
      await itemFor(id).waitFor();
      return id;
    };
    const a = await newCustomerForBob('draft-a');
    await itemFor(a).and(desk.locator('[aria-current=true]')).waitFor();
    const draftA = 'A 的草稿：已为您加急处理';
    await input.fill(draftA);
    // B is assigned while bob is writing to A: A stays selected, with its draft.
    const b = await newCustomerForBob('draft-b');
    await sleep(300);
    assert.equal(await itemFor(a).getAttribute('aria-current'), 'true', 'the half-written conversation keeps the focus');
    assert.equal(await input.inputValue(), draftA);
    await itemFor(b).getByTestId('unread-count').waitFor();
    // Switching: each conversation has its own reply box.
    await itemFor(b).click();
    await itemFor(b).and(desk.locator('[aria-current=true]')).waitFor();
    assert.equal(await input.inputValue(), '', 'B starts empty');
    await input.fill('B 的草稿');
    await itemFor(a).click();
    await itemFor(a).and(desk.locator('[aria-current=true]')).waitFor();
    assert.equal(await input.inputValue(), draftA, 'A gets its draft back');
    await itemFor(b).click();
    await itemFor(b).and(desk.locator('[aria-current=true]')).waitFor();
    assert.equal(await input.inputValue(), 'B 的草稿');
    const frames = sentFrames.map((f) => JSON.parse(f)).filter((f) => f.type === 'message');
    assert.ok(!frames.some((f) => f.text.includes('草稿')), `no draft was sent: ${JSON.stringify(frames)}`);
  });

  await step('no uncaught page errors', async () => {
    assert.deepEqual(suite.pageErrors, []);
  });
});
