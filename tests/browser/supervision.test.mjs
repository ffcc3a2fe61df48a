// End-to-end browser test of supervision against the real binary: a customer in the widget,
// Alice and Bob at their desks, Sam in the console.
//
//   cd tests/browser && npm install && node --test supervision.test.mjs
//
// Env:
//   SWITCHBOARD_BIN   path of the server binary (default <repo>/target/debug/switchboard)
//   CHROMIUM_PATH     browser executable (default /usr/bin/chromium)
//
// What it checks: Alice's internal note shows at her desk and never reaches the customer (page
// nor wire); the console's live board lists the conversation; Sam monitors it live, whispers to
// Alice (her desk only), Alice transfers it to Bob with a note (Bob's offer shows it, he
// accepts, it leaves Alice's desk, the customer is told), Sam barges in and the customer reads
// him; Alice goes away for lunch (top bar). Screenshots of the new screens in English and
// Chinese land in <repo>/target/screenshots/ (supervision-*.png). Server, browser and step
// runner: harness.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SHOTS, STEP_TIMEOUT, assertText, setupSuite, sleep, waitUntil } from './harness.mjs';

const suite = setupSuite({
  tmpPrefix: 'switchboard-supervision-',
  failurePrefix: 'failure-supervision-',
  serverEnv: { SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS: '60000' },
});

const NOTE = 'Double charge confirmed on order 4821 — refund due';
const WHISPER = 'Psst: you can refund her straight away';
const XFER_NOTE = 'Refund approved, she still has to confirm the bank details';
const BARGE = 'Hello, Sam the supervisor here — your refund is on its way';

test('supervision: notes, live board, monitor, whisper, transfer, barge, away reasons', { timeout: 420_000 }, async (t) => {
  let widget, alice, bob, con, conversationId, visitorToken;
  const step = suite.stepper(t, () => ({ widget, alice, bob, console: con }), { numberShots: true, logTail: 3000 });

  const login = async (page, where, user) => {
    await page.goto(suite.baseUrl + '/' + where);
    await page.getByTestId('login-form').waitFor();
    await page.getByTestId('login-username').fill(user);
    await page.getByTestId('login-password').fill('demo');
    await page.getByTestId('login-submit').click();
  };
  const deskMsg = (page, from, text) => page.locator(`[data-testid=transcript] [data-testid=transcript-message][data-from=${from}]`, { hasText: text });
  const widgetHas = (text) => widget.locator('[data-testid=message]', { hasText: text }).count();
  /** What the customer's own API gives back for the conversation (the wire, not the page). */
  const customerWire = async () => {
    const r = await fetch(suite.baseUrl + '/v1/conversations/current', { headers: { authorization: `Bearer ${visitorToken}` } });
    return JSON.stringify(await r.json().catch(() => ({})));
  };
  /** Accepts the offer for our conversation (rejecting any other), on `page`. */
  const acceptOurs = async (page) => {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const ours = page.locator(`[data-testid=offer-card][data-conversation-id="${conversationId}"]`);
      const any = page.getByTestId('offer-card').first();
      await any.waitFor({ timeout: STEP_TIMEOUT * 2 });
      if (await ours.count()) return ours;
      assert.ok(Date.now() < deadline, 'no offer for the test conversation arrived');
      await any.getByTestId('offer-reject').click();
      await sleep(300);
    }
  };
  const consoleShot = async (name, width = 1440) => {
    await con.evaluate(() => document.querySelectorAll('[data-testid=toast]').forEach((n) => n.remove()));
    await con.setViewportSize({ width, height: 900 });
    await sleep(300);
    await con.screenshot({ path: path.join(SHOTS, name), animations: 'disabled' });
    await con.setViewportSize({ width: 1440, height: 900 });
  };
  const deskShot = async (page, name, width = 1440) => {
    await page.evaluate(() => document.querySelectorAll('[data-testid=toast]').forEach((n) => n.remove()));
    await page.setViewportSize({ width, height: 900 });
    await sleep(300);
    await page.screenshot({ path: path.join(SHOTS, name), animations: 'disabled' });
    await page.setViewportSize({ width: 1440, height: 900 });
  };

  await step('a customer asks for a human in the widget', async () => {
    widget = await suite.newPage('widget');
    await widget.goto(suite.baseUrl + '/');
    await widget.getByTestId('chat-panel').waitFor({ state: 'visible' });
    for (const text of ['I was charged twice for my invoice', 'human']) {
      await widget.getByTestId('composer-input').fill(text);
      await widget.getByTestId('composer-input').press('Enter');
      await widget.locator('[data-testid=message][data-from=customer][data-state=sent]', { hasText: text }).waitFor();
    }
    conversationId = await waitUntil(
      () => widget.evaluate(() => window.SwitchboardWidget.state.conversation && window.SwitchboardWidget.state.conversation.id),
      'the widget to know its conversation id');
    visitorToken = await widget.evaluate(() => localStorage.getItem('switchboard.visitor_token'));
    assert.ok(visitorToken, 'the widget keeps its visitor token');
  });

  await step('alice goes Available and accepts the conversation', async () => {
    alice = await suite.newPage('alice');
    await login(alice, 'desk', 'alice');
    await alice.locator('[data-testid=connection][data-state=online]').waitFor();
    await alice.getByTestId('status-available').click();
    await alice.locator('[data-testid=status-available][aria-checked=true]').waitFor();
    await assertText(alice.getByTestId('topbar-status'), /Available/);
    const ours = await acceptOurs(alice);
    await ours.getByTestId('offer-accept').click();
    await alice.locator(`[data-testid=conversation-item][data-conversation-id="${conversationId}"]`).waitFor();
    await alice.getByTestId('reply-input').fill('Hi, this is Alice — let me check that invoice.');
    await alice.getByTestId('reply-input').press('Enter');
    await widget.locator('[data-testid=message][data-from=agent]', { hasText: 'let me check that invoice' }).waitFor();
  });

  await step('alice writes an internal note: her desk shows it, the customer never sees it', { needs: ['alice goes Available and accepts the conversation'] }, async () => {
    await alice.getByTestId('compose-note').click();
    await alice.locator('[data-testid=reply-form][data-mode=note]').waitFor();
    await alice.getByTestId('reply-input').fill(NOTE);
    await alice.getByTestId('reply-input').press('Enter');
    // drawn as a note, and confirmed by the server's echo
    await deskMsg(alice, 'note', NOTE).and(alice.locator('[data-state=sent]')).waitFor();
    await assertText(deskMsg(alice, 'note', NOTE), /Internal note/);
    // back to replying
    await alice.getByTestId('compose-reply').click();
    await alice.locator('[data-testid=reply-form][data-mode=reply]').waitFor();
    await sleep(1500);
    assert.equal(await widgetHas(NOTE), 0, 'the widget shows no internal note');
    assert.ok(!(await customerWire()).includes(NOTE), 'the customer API carries no internal note');
  });

  await step('bob is Available at his desk', async () => {
    bob = await suite.newPage('bob');
    await login(bob, 'desk', 'bob');
    await bob.locator('[data-testid=connection][data-state=online]').waitFor();
    await bob.getByTestId('status-available').click();
    await bob.locator('[data-testid=status-available][aria-checked=true]').waitFor();
  });

  await step('the console live board lists the conversation', { needs: ['alice goes Available and accepts the conversation'] }, async () => {
    con = await suite.newPage('console');
    await login(con, 'console', 'sam');
    await con.getByTestId('console-view').waitFor({ state: 'visible' });
    await con.getByTestId('nav-conversations').click();
    await con.getByTestId('section-conversations').waitFor({ state: 'visible' });
    const row = con.locator(`[data-testid=board-row][data-conversation-id="${conversationId}"]`);
    await row.waitFor();
    await assertText(row.getByTestId('board-agent'), /Alice/);
    assert.equal(await row.getAttribute('data-status'), 'assigned');
    // a filter that excludes it, then back
    await con.locator('[data-testid=board-filter-status] [data-status=bot]').click();
    await waitUntil(async () => (await con.locator(`[data-testid=board-row][data-conversation-id="${conversationId}"]`).count()) === 0, 'the bot filter to hide the conversation');
    await con.locator('[data-testid=board-filter-status] [data-status=assigned]').click();
    await row.waitFor();
  });

  await step('monitor shows the transcript and new messages live', { needs: ['the console live board lists the conversation'] }, async () => {
    await con.locator(`[data-testid=board-row][data-conversation-id="${conversationId}"] [data-testid=board-monitor]`).click();
    await con.locator('[data-testid=monitor-panel][data-state=live]').waitFor();
    const mon = con.getByTestId('monitor-transcript');
    await mon.locator('[data-testid=monitor-message]', { hasText: 'let me check that invoice' }).waitFor();
    // the supervisor sees notes (they are for staff)
    await mon.locator('[data-testid=monitor-message][data-from=note]', { hasText: NOTE }).waitFor();
    // a new customer message arrives while watching
    const live = 'Is anyone still there?';
    await widget.getByTestId('composer-input').fill(live);
    await widget.getByTestId('composer-input').press('Enter');
    await mon.locator('[data-testid=monitor-message][data-from=customer]', { hasText: live }).waitFor();
    // the supervisor's socket never made Sam routable
    const queues = await (await fetch(suite.baseUrl + '/v1/queues', { headers: { authorization: `Bearer ${await con.evaluate(() => JSON.parse(sessionStorage.getItem('switchboard.console_session')).token)}` } })).json();
    const samLive = (queues.agents || []).find((a) => /sam/i.test(a.name || ''));
    assert.ok(!samLive || samLive.status === 'offline', `sam stays offline for routing (got ${samLive && samLive.status})`);
  });

  await step('a whisper reaches alice\'s desk and not the customer', { needs: ['monitor shows the transcript and new messages live'] }, async () => {
    await con.getByTestId('monitor-mode-whisper').click();
    await con.getByTestId('monitor-input').fill(WHISPER);
    await con.getByTestId('monitor-input').press('Enter');
    await con.locator('[data-testid=monitor-message][data-from=whisper]', { hasText: WHISPER }).waitFor();
    await deskMsg(alice, 'whisper', WHISPER).waitFor();
    await assertText(deskMsg(alice, 'whisper', WHISPER), /Whisper from supervisor/);
    await sleep(1500);
    assert.equal(await widgetHas(WHISPER), 0, 'the widget shows no whisper');
    assert.ok(!(await customerWire()).includes(WHISPER), 'the customer API carries no whisper');
    await deskShot(alice, 'supervision-desk-note-whisper-en.png');
    await consoleShot('supervision-console-monitor-en.png');
  });

  await step('alice transfers to bob with a note; bob accepts; it leaves alice\'s desk', { needs: ['alice goes Available and accepts the conversation', 'bob is Available at his desk'] }, async () => {
    const systemBefore = await widget.locator('[data-testid=message][data-from=system]').count();
    await alice.locator(`[data-testid=conversation-item][data-conversation-id="${conversationId}"]`).click();
    await alice.getByTestId('transfer-button').click();
    const dlg = alice.getByTestId('transfer-dialog');
    await dlg.waitFor({ state: 'visible' });
    await dlg.locator('[data-testid=transfer-agent]', { hasText: 'Bob' }).click();
    await dlg.getByTestId('transfer-note').fill(XFER_NOTE);
    await deskShot(alice, 'supervision-desk-transfer-dialog-en.png');
    await dlg.getByTestId('transfer-submit').click();
    await alice.getByTestId('transfer-pending').waitFor({ state: 'visible' });
    await assertText(alice.getByTestId('transfer-pending'), /Transfer pending/);
    // alice can still write meanwhile
    assert.equal(await alice.getByTestId('reply-input').isDisabled(), false, 'the reply box stays usable while the transfer is pending');
    // bob's offer says who transfers it and why
    const offer = bob.locator(`[data-testid=offer-card][data-conversation-id="${conversationId}"]`);
    await offer.waitFor({ timeout: STEP_TIMEOUT * 2 });
    await assertText(offer.getByTestId('offer-transfer-from'), /Transfer from Alice/);
    await assertText(offer.getByTestId('offer-transfer-note'), new RegExp(XFER_NOTE));
    await deskShot(bob, 'supervision-desk-transfer-offer-en.png');
    await offer.getByTestId('offer-accept').click();
    await bob.locator(`[data-testid=conversation-item][data-conversation-id="${conversationId}"]`).waitFor();
    // it leaves alice's desk
    await waitUntil(async () => (await alice.locator(`[data-conversation-id="${conversationId}"]`).count()) === 0, 'the conversation to leave alice\'s desk');
    await assertText(alice.getByTestId('toast').last(), /transferred to Bob/);
    // the customer is told
    await waitUntil(async () => (await widget.locator('[data-testid=message][data-from=system]').count()) > systemBefore, 'a system message in the widget');
    await assertText(widget.locator('[data-testid=message][data-from=system]').last(), /Bob/);
  });

  await step('bob sees where it came from, and the note in its history', { needs: ['alice transfers to bob with a note; bob accepts; it leaves alice\'s desk'] }, async () => {
    await assertText(bob.getByTestId('transfer-from'), /Alice/);
    await deskMsg(bob, 'note', NOTE).waitFor();
    await deskShot(bob, 'supervision-desk-transferred-en.png');
  });

  await step('sam barges in and the customer reads him', { needs: ['monitor shows the transcript and new messages live'] }, async () => {
    // the board follows the transfer
    await assertText(con.locator(`[data-testid=board-row][data-conversation-id="${conversationId}"] [data-testid=board-agent]`), /Bob|Alice/);
    await con.getByTestId('monitor-barge').click();
    await con.getByTestId('monitor-barge-confirm').click();
    await con.locator('[data-testid=monitor-compose][data-mode=customer]').waitFor();
    await assertText(con.getByTestId('monitor-banner'), /joined/);
    await con.getByTestId('monitor-input').fill(BARGE);
    await con.getByTestId('monitor-input').press('Enter');
    await widget.locator('[data-testid=message]', { hasText: BARGE }).waitFor();
    await con.locator('[data-testid=monitor-message][data-kind=sup]', { hasText: BARGE }).waitFor();
    await consoleShot('supervision-console-barged-en.png');
  });

  await step('alice goes away for lunch; the top bar says so', { needs: ['alice goes Available and accepts the conversation'] }, async () => {
    await alice.getByTestId('status-away').click();
    await alice.getByTestId('status-menu').waitFor({ state: 'visible' });
    await deskShot(alice, 'supervision-desk-away-menu-en.png');
    await alice.getByTestId('status-reason-lunch').click();
    await alice.locator('[data-testid=status-away][aria-checked=true]').waitFor();
    await assertText(alice.getByTestId('topbar-status'), /Away · Lunch/);
    await assertText(alice.getByTestId('status-hint'), /Lunch/);
  });

  await step('the agent activity timeline lists the agent\'s status changes', { needs: ['monitor shows the transcript and new messages live'] }, async () => {
    // alice has no conversation left to monitor: watch bob's, and look at bob's day
    await con.getByTestId('monitor-activity-toggle').click();
    await con.getByTestId('activity-entry').first().waitFor();
    await consoleShot('supervision-console-activity-en.png');
  });

  await step('the console in Chinese, and at a narrow width', { needs: ['monitor shows the transcript and new messages live'] }, async () => {
    await con.getByTestId('lang-switch').click();
    await assertText(con.getByTestId('nav-conversations'), /实时会话/);
    await assertText(con.getByTestId('monitor-state'), /监听/);
    await consoleShot('supervision-console-monitor-zh.png');
    await consoleShot('supervision-console-narrow-zh.png', 800);
    await con.getByTestId('monitor-close').click();
    await con.getByTestId('monitor-panel').waitFor({ state: 'hidden' });
    await consoleShot('supervision-console-board-zh.png');
  });

  await step('the desk in Chinese, and at a narrow width', { needs: ['alice transfers to bob with a note; bob accepts; it leaves alice\'s desk'] }, async () => {
    await bob.getByTestId('lang-switch').click();
    await assertText(bob.getByTestId('compose-note'), /内部备注/);
    await deskShot(bob, 'supervision-desk-zh.png');
    await bob.getByTestId('transfer-button').click();
    await bob.getByTestId('transfer-dialog').waitFor({ state: 'visible' });
    await bob.getByTestId('transfer-mode-skill').click();
    await assertText(bob.getByTestId('transfer-dialog'), /按技能转接/);
    await deskShot(bob, 'supervision-desk-transfer-skill-zh.png');
    await bob.getByTestId('transfer-cancel').click();
    await deskShot(bob, 'supervision-desk-narrow-zh.png', 720);
  });

  await step('no uncaught page errors', async () => {
    assert.deepEqual(suite.pageErrors, []);
  });
});
