// End-to-end browser test: customer widget ↔ agent desk against the real binary.
//
//   cd tests/browser && npm install && node --test
//
// Env:
//   SWITCHBOARD_BIN   path of the server binary (default <repo>/target/debug/switchboard)
//   CHROMIUM_PATH     browser executable (default /usr/bin/chromium)
//
// Screenshots land in <repo>/target/screenshots/. Server, browser and step runner: harness.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SHOTS, STEP_TIMEOUT, assertText, setupSuite, sleep, waitUntil } from './harness.mjs';

const suite = setupSuite({
  tmpPrefix: 'switchboard-e2e-',
  failurePrefix: 'failure-',
  serverEnv: { SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS: '60000' },
});

test('customer widget ↔ agent desk, end to end', { timeout: 300_000 }, async (t) => {
  let widget, desk, conversationId;
  // Once a step fails the rest are skipped; failure shots: target/screenshots/failure-<page>.png.
  const step = suite.stepper(t, () => ({ widget, desk }), { stopOnFailure: true, logTail: 3000 });

  const customerMsgs = () => widget.locator('[data-testid=message]');
  const botOrSystem = () => widget.locator('[data-testid=message][data-from=bot], [data-testid=message][data-from=system]');
  const transcript = () => desk.locator('[data-testid=transcript]');

  await step('widget loads with greeting and bot status', async () => {
    widget = await suite.newPage('widget');
    await widget.goto(suite.baseUrl + '/');
    await widget.getByTestId('chat-panel').waitFor({ state: 'visible' });
    await widget.getByTestId('greeting').waitFor({ state: 'visible' });
    await widget.getByText("type 'human' for an agent").waitFor();
    await assertText(widget.getByTestId('chat-status'), /Bot · replies instantly/);
  });

  await step('customer says "hello" and gets a bot reply', async () => {
    await widget.getByTestId('composer-input').fill('hello');
    await widget.getByTestId('composer-input').press('Enter');
    const mine = widget.locator('[data-testid=message][data-from=customer]', { hasText: 'hello' });
    await mine.waitFor();
    // pending → acknowledged (✓)
    await widget.locator('[data-testid=message][data-from=customer][data-state=sent]', { hasText: 'hello' }).waitFor();
    await widget.locator('[data-testid=message][data-from=bot]').first().waitFor();
    assert.equal(await widget.getByTestId('greeting').isVisible(), false, 'greeting hides once the conversation starts');
  });

  await step('customer asks for a human and is told an agent is being found', async () => {
    const before = await botOrSystem().count();
    await widget.getByTestId('composer-input').fill('human');
    await widget.getByTestId('composer-input').press('Enter');
    await widget.locator('[data-testid=message][data-from=customer][data-state=sent]', { hasText: 'human' }).waitFor();
    await waitUntil(async () => (await botOrSystem().count()) > before, 'a bot/system reply to "human"');
    const notice = botOrSystem().nth(before);
    await assertText(notice, /agent|human|colleague|someone|queue/i);
    conversationId = await waitUntil(
      () => widget.evaluate(() => window.SwitchboardWidget.state.conversation && window.SwitchboardWidget.state.conversation.id),
      'the widget to know its conversation id');
  });

  await step('desk login rejects a wrong password', async () => {
    desk = await suite.newPage('desk');
    await desk.goto(suite.baseUrl + '/desk');
    await desk.getByTestId('login-form').waitFor();
    await desk.screenshot({ path: path.join(SHOTS, 'desk-login.png'), fullPage: true });
    await desk.getByTestId('login-username').fill('alice');
    await desk.getByTestId('login-password').fill('not-the-password');
    await desk.getByTestId('login-submit').click();
    await assertText(desk.getByTestId('login-error'), /Incorrect username or password/);
  });

  await step('alice logs in and goes Available', async () => {
    await desk.getByTestId('login-password').fill('demo');
    await desk.getByTestId('login-submit').click();
    await desk.getByTestId('desk-view').waitFor({ state: 'visible' });
    await assertText(desk.getByTestId('agent-name'), /Alice/i);
    await desk.locator('[data-testid=connection][data-state=online]').waitFor();
    await desk.getByTestId('status-available').click();
    await desk.locator('[data-testid=status-available][aria-checked=true]').waitFor();
  });

  await step('an offer for the customer arrives and alice accepts it', async () => {
    // Demo data may hold other waiting work: reject offers that are not ours.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const ours = desk.locator(`[data-testid=offer-card][data-conversation-id="${conversationId}"]`);
      const any = desk.getByTestId('offer-card').first();
      await any.waitFor({ timeout: STEP_TIMEOUT });
      if (await ours.count()) {
        await ours.locator('.offer-bar').waitFor({ state: 'attached' });
        await ours.getByTestId('offer-accept').click();
        break;
      }
      assert.ok(Date.now() < deadline, 'no offer for the test conversation arrived');
      await any.getByTestId('offer-reject').click();
      await sleep(300);
    }
    await assertText(desk.getByTestId('conversation-title'), /\S/);
    await desk.locator(`[data-testid=conversation-item][data-conversation-id="${conversationId}"]`).waitFor();
  });

  await step('the desk shows the earlier customer + bot history', async () => {
    await transcript().locator('[data-testid=transcript-message][data-from=customer]', { hasText: 'hello' }).waitFor();
    await transcript().locator('[data-testid=transcript-message][data-from=customer]', { hasText: 'human' }).waitFor();
    await transcript().locator('[data-testid=transcript-message][data-from=bot]').first().waitFor();
    await desk.getByTestId('customer-card').waitFor({ state: 'visible' });
    await assertText(desk.getByTestId('customer-id'), /\S/);
  });

  await step('alice replies and the customer sees it', async () => {
    await desk.getByTestId('reply-input').fill('Hi, this is Alice');
    await desk.getByTestId('reply-input').press('Enter');
    // rendered for real once the server echoes it back
    await transcript().locator('[data-testid=transcript-message][data-from=agent][data-state=sent]', { hasText: 'Hi, this is Alice' }).waitFor();
    await widget.locator('[data-testid=message][data-from=agent]', { hasText: 'Hi, this is Alice' }).waitFor();
    await assertText(widget.getByTestId('chat-status'), /Alice/);
  });

  await step('the customer answers and the desk shows it', async () => {
    const text = 'Thanks Alice! My order 4821 is late.';
    await widget.getByTestId('composer-input').fill(text);
    await widget.getByTestId('send-button').click();
    await widget.locator('[data-testid=message][data-from=customer][data-state=sent]', { hasText: text }).waitFor();
    await transcript().locator('[data-testid=transcript-message][data-from=customer]', { hasText: text }).waitFor();
    await widget.screenshot({ path: path.join(SHOTS, 'widget.png'), fullPage: true });
    await desk.screenshot({ path: path.join(SHOTS, 'desk.png'), fullPage: true });
  });

  await step('alice wraps the conversation up as resolved', async () => {
    await desk.getByTestId('wrapup-select').selectOption('resolved');
    await desk.getByTestId('wrapup-button').click();
    await assertText(desk.getByTestId('closed-banner'), /Resolved/);
    await desk.locator(`[data-testid=closed-list] [data-conversation-id="${conversationId}"]`).waitFor({ state: 'attached' });
    assert.equal(await desk.getByTestId('reply-input').isDisabled(), true, 'reply box is disabled once closed');
  });

  await step('no uncaught page errors', async () => {
    assert.deepEqual(suite.pageErrors, []);
  });
});
