// End-to-end browser test: one customer across channels ("one ID") on the agent desk.
//
//   cd tests/browser && node --test desk_channels.test.mjs
//
// A WeChat follower writes, continues in the app (whose login carries their WeChat openid, so
// both are one customer) and asks for a human; alice accepts. The desk shows channel badges,
// a divider where the customer switched channel, and the customer's linked identities. Then
// alice links a second WeChat customer through the "Link another customer" dialog and undoes it.
//
// Screenshots land in <repo>/target/screenshots/ (desk-channels*.png, desk-link-*.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { SHOTS, STEP_TIMEOUT, assertText, setupSuite, sleep, waitUntil } from './harness.mjs';

const suite = setupSuite({
  tmpPrefix: 'switchboard-channels-',
  failurePrefix: 'failure-channels-',
  serverEnv: { SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS: '60000' },
});

// Demo secrets (config/demo): the WeChat Token and the app's JWT secret.
const WECHAT_TOKEN = 'switchboard-demo';
const APP_JWT_SECRET = 'switchboard-demo-app-jwt-secret-2026';

// WeChat followers are named after the end of their openid; masked ids show its start.
const tag = () => randomBytes(3).toString('hex');
const OPENID = `oMain${tag()}`;        // the customer we talk to
const OPENID_LINK = `oLink${tag()}`;   // a follower with no conversation: can be linked
const OPENID_BUSY = `oBusy${tag()}`;   // a follower chatting with the bot: linking is refused (409)
const APP_USER = `u-${tag()}`;

let msgSeq = 7_000_000_000 + Math.floor(Math.random() * 1_000_000);

/** POSTs a signed plain-mode WeChat callback whose XML carries `inner` after CreateTime. */
async function wechat(openid, inner) {
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(6).toString('hex');
  const signature = createHash('sha1').update([WECHAT_TOKEN, ts, nonce].sort().join('')).digest('hex');
  const xml = `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName>`
    + `<CreateTime>${ts}</CreateTime>${inner}</xml>`;
  const res = await fetch(`${suite.baseUrl}/v1/channels/wechat?signature=${signature}&timestamp=${ts}&nonce=${nonce}`, {
    method: 'POST', headers: { 'Content-Type': 'text/xml' }, body: xml,
  });
  assert.equal(res.status, 200, `WeChat callback: HTTP ${res.status} ${await res.text()}`);
}
const wechatText = (openid, text) => wechat(openid,
  `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${++msgSeq}</MsgId>`);
const wechatSubscribe = (openid) => wechat(openid, '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>');

/** An HS256 app token; `wechat_openid` links the app user to that WeChat customer. */
function appToken(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', APP_JWT_SECRET).update(head).digest('base64url')}`;
}
const APP_JWT = appToken({ sub: APP_USER, exp: Math.floor(Date.now() / 1000) + 3600, wechat_openid: OPENID });

async function appMessage(text) {
  const res = await fetch(`${suite.baseUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${APP_JWT}` },
    body: JSON.stringify({ text, client_id: `c-${randomBytes(4).toString('hex')}` }),
  });
  const body = await res.json();
  assert.equal(res.status, 202, `app message: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

test('agent desk: one customer across WeChat and the app, identities and linking', { timeout: 300_000 }, async (t) => {
  let desk, conversationId;
  const step = suite.stepper(t, () => ({ desk }), { stopOnFailure: true, numberShots: true, logTail: 3000 });
  // Taller than the suite's viewport so the whole mixed-channel transcript is in the picture.
  const shot = async (name) => {
    await desk.setViewportSize({ width: 1440, height: 1300 });
    await sleep(250);
    await desk.screenshot({ path: path.join(SHOTS, name), fullPage: true });
  };

  const transcript = () => desk.getByTestId('transcript');
  const customerMsg = (text) => transcript().locator('[data-testid=transcript-message][data-from=customer]', { hasText: text });
  const chips = () => desk.locator('[data-testid=customer-identities] [data-testid=identity-chip]');
  const dialog = () => desk.getByTestId('link-dialog');

  await step('a WeChat follower continues in the app and asks for a human', async () => {
    await wechatText(OPENID, '我的退款还没到账');
    const first = await appMessage('我在App上继续，订单号 4821');
    const handoff = await appMessage('转人工');
    assert.equal(handoff.conversation_id, first.conversation_id, 'the app continues the WeChat conversation');
    conversationId = handoff.conversation_id;
    // Two more followers: one without a conversation, one chatting with the bot.
    await wechatSubscribe(OPENID_LINK);
    await wechatText(OPENID_BUSY, '你好');
  });

  await step('alice logs in, goes Available and accepts the offer', async () => {
    desk = await suite.newPage('desk');
    await desk.goto(suite.baseUrl + '/desk');
    await desk.getByTestId('login-username').fill('alice');
    await desk.getByTestId('login-password').fill('demo');
    await desk.getByTestId('login-submit').click();
    await desk.getByTestId('desk-view').waitFor({ state: 'visible' });
    await desk.locator('[data-testid=connection][data-state=online]').waitFor();
    await desk.getByTestId('status-available').click();
    await desk.locator('[data-testid=status-available][aria-checked=true]').waitFor();
    // Demo data may hold other waiting work: reject offers that are not ours.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const ours = desk.locator(`[data-testid=offer-card][data-conversation-id="${conversationId}"]`);
      const any = desk.getByTestId('offer-card').first();
      await any.waitFor({ timeout: STEP_TIMEOUT });
      if (await ours.count()) { await ours.getByTestId('offer-accept').click(); break; }
      assert.ok(Date.now() < deadline, 'no offer for the test conversation arrived');
      await any.getByTestId('offer-reject').click();
      await sleep(300);
    }
    await desk.locator(`[data-testid=conversation-item][data-conversation-id="${conversationId}"][aria-current=true]`).waitFor();
  });

  await step('the transcript badges each customer message with its channel', async () => {
    const wx = customerMsg('我的退款还没到账').getByTestId('channel-badge');
    const app = customerMsg('我在App上继续').getByTestId('channel-badge');
    await assertText(wx, /^WeChat$/);
    await assertText(app, /^App$/);
    assert.equal(await wx.getAttribute('data-channel'), 'wechat');
    assert.equal(await app.getAttribute('data-channel'), 'app');
    assert.match(await wx.getAttribute('aria-label'), /WeChat/);
    // Subtle: bot replies carry no badge.
    assert.equal(await transcript().locator('[data-from=bot] [data-testid=channel-badge]').count(), 0);
    await assertText(desk.getByTestId('conversation-channel'), /App/);
  });

  await step('a divider marks where the customer switched from WeChat to the app', async () => {
    const dividers = transcript().getByTestId('channel-switch');
    await waitUntil(async () => (await dividers.count()) === 1, 'exactly one channel-switch divider');
    await assertText(dividers.first(), /continued on App.*WeChat/i);
    // It sits right before the first app message.
    const next = await dividers.first().evaluate((n) => n.nextElementSibling && n.nextElementSibling.textContent);
    assert.match(next, /我在App上继续/);
  });

  await step('the customer panel lists the WeChat and app identities, masked', async () => {
    await waitUntil(async () => (await chips().count()) === 2, 'two identity chips');
    const wx = chips().and(desk.locator('[data-channel=wechat]'));
    const app = chips().and(desk.locator('[data-channel=app]'));
    await assertText(wx, new RegExp(`WeChat\\s*${OPENID.slice(0, 6)}…`));
    assert.ok(!(await wx.innerText()).includes(OPENID), 'the full openid is not shown');
    await assertText(app, new RegExp(`App\\s*${APP_USER}`));
  });

  await step('the customer writes on WeChat again and the desk shows it live', async () => {
    await wechatText(OPENID, '我把截图发在微信上了');
    await customerMsg('我把截图发在微信上了').waitFor();
    await assertText(customerMsg('我把截图发在微信上了').getByTestId('channel-badge'), /^WeChat$/);
    await waitUntil(async () => (await transcript().getByTestId('channel-switch').count()) === 2, 'a second divider');
    await assertText(transcript().getByTestId('channel-switch').nth(1), /continued on WeChat.*App/i);
    await desk.getByTestId('reply-input').fill('收到，我来帮您查一下退款进度。');
    await desk.getByTestId('reply-input').press('Enter');
    await transcript().locator('[data-testid=transcript-message][data-from=agent][data-state=sent]').first().waitFor();
    await shot('desk-channels.png');
  });

  await step('in Chinese the badges, divider and chips are localized', async () => {
    await desk.getByTestId('lang-switch').click();
    await assertText(customerMsg('我的退款还没到账').getByTestId('channel-badge'), /^微信$/);
    await assertText(customerMsg('我在App上继续').getByTestId('channel-badge'), /^App$/);
    await assertText(transcript().getByTestId('channel-switch').first(), /客户从微信转到 App 继续/);
    await assertText(transcript().getByTestId('channel-switch').nth(1), /客户从 App 转到微信继续/);
    await assertText(chips().and(desk.locator('[data-channel=wechat]')), /微信/);
    await shot('desk-channels-zh.png');
  });

  await step('linking a customer who is chatting elsewhere is refused inline (409)', async () => {
    await desk.getByTestId('link-customer').click();
    await dialog().waitFor({ state: 'visible' });
    await desk.getByTestId('link-channel').selectOption('wechat');
    await desk.getByTestId('link-external-id').fill(OPENID_BUSY);
    await desk.getByTestId('link-find').click();
    await desk.getByTestId('link-candidate-name').waitFor();
    await desk.getByTestId('link-confirm').click();
    await assertText(desk.getByTestId('link-error'), /无法关联：\S/);
    assert.equal(await desk.getByTestId('link-success').isVisible(), false);
    await shot('desk-link-error.png');
    assert.equal(await chips().count(), 2, 'nothing was linked');
  });

  await step('an unknown id is reported inline', async () => {
    await desk.getByTestId('link-external-id').fill('oNobody' + tag());
    await desk.getByTestId('link-external-id').press('Enter');
    await assertText(desk.getByTestId('link-error'), /没有客户使用这个微信 ID/);
    assert.equal(await desk.getByTestId('link-confirm').isDisabled(), true);
  });

  await step('alice finds the second WeChat customer and links them', async () => {
    await desk.getByTestId('link-external-id').fill(OPENID_LINK);
    await desk.getByTestId('link-find').click();
    await assertText(desk.getByTestId('link-candidate-name'), /微信用户/);
    assert.equal(await desk.getByTestId('link-error').isVisible(), false);
    await assertText(desk.getByTestId('link-confirm'), /关联到/);
    await shot('desk-link-dialog.png');
    await desk.getByTestId('link-confirm').click();
    await assertText(desk.getByTestId('link-success-text'), /已并入/);
    await waitUntil(async () => (await chips().count()) === 3, 'three identity chips after the link');
    await assertText(chips().and(desk.locator('.is-fresh')), new RegExp(`${OPENID_LINK.slice(0, 6)}…`));
    await assertText(desk.getByTestId('link-success'), /已移动 1 个身份/);
    assert.equal(await desk.getByTestId('merge-note').isVisible(), true, 'the panel offers an undo too');
    await shot('desk-link-success.png');
  });

  await step('Undo unlinks them again', async () => {
    await desk.getByTestId('link-undo').click();
    await assertText(desk.getByTestId('link-success-text'), /已撤销关联/);
    await waitUntil(async () => (await chips().count()) === 2, 'two identity chips after the undo');
    const texts = await chips().allInnerTexts();
    assert.ok(!texts.some((s) => s.includes(OPENID_LINK.slice(0, 6))), `linked identity still shown: ${texts}`);
    await desk.getByTestId('link-cancel').click();
    await dialog().waitFor({ state: 'hidden' });
    assert.equal(await desk.getByTestId('merge-note').isVisible(), false);
  });

  await step('no uncaught page errors', async () => {
    assert.deepEqual(suite.pageErrors, []);
  });
});
