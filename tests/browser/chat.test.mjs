// End-to-end browser test: customer widget ↔ agent desk against the real binary.
//
//   cd tests/browser && npm install && node --test
//
// Env:
//   SWITCHBOARD_BIN   path of the server binary (default <repo>/target/debug/switchboard)
//   CHROMIUM_PATH     browser executable (default /usr/bin/chromium)
//
// Screenshots land in <repo>/target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const BIN = process.env.SWITCHBOARD_BIN || path.join(REPO, 'target', 'debug', 'switchboard');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = path.join(REPO, 'target', 'screenshots');
const STEP_TIMEOUT = 15_000;
const HEALTH_TIMEOUT = 60_000;

let server = null;
let serverLog = '';
let tmpDir = null;
let baseUrl = null;
let browser = null;
const pageErrors = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForHealth(url, proc) {
  const deadline = Date.now() + HEALTH_TIMEOUT;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`server exited early (code ${proc.exitCode}, signal ${proc.signalCode})\n${tail(serverLog)}`);
    }
    try {
      const res = await fetch(url + '/healthz', { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(250);
  }
  throw new Error(`server not healthy after ${HEALTH_TIMEOUT / 1000}s (${last})\n${tail(serverLog)}`);
}

function tail(s, n = 4000) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

async function stopServer() {
  if (!server) return;
  const proc = server;
  server = null;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) {
    proc.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
}

before(async () => {
  assert.ok(existsSync(BIN), `server binary not found at ${BIN} — build it first (cargo build) or set SWITCHBOARD_BIN`);
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} — apt-get install -y chromium, or set CHROMIUM_PATH`);
  mkdirSync(SHOTS, { recursive: true });
  for (const f of readdirSync(SHOTS)) if (f.startsWith('failure-')) rmSync(path.join(SHOTS, f), { force: true });
  tmpDir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['demo', '--port', String(port), '--database-url', `sqlite://${tmpDir}/demo.db`], {
    cwd: REPO,
    env: { ...process.env, SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS: '60000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk) => { serverLog = tail(serverLog + chunk.toString(), 200_000); };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  server.on('error', (e) => { serverLog += `\n[spawn error] ${e.message}`; });
  await waitForHealth(baseUrl, server);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  try { if (browser) await browser.close(); } catch { /* ignore */ }
  await stopServer();
  if (tmpDir) { try { rmSync(tmpDir, { recursive: true, force: true }); } catch { /* ignore */ } }
});

// Also stop the server if the runner is interrupted.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { if (server) server.kill('SIGKILL'); process.exit(130); });
}

async function newPage(name) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('pageerror', (e) => pageErrors.push(`[${name}] ${e.message}`));
  return page;
}

/**
 * Run the scenario as ordered steps; once one fails, the rest are skipped and
 * screenshots of every open page are saved as target/screenshots/failure-*.png.
 */
function stepper(t, pages) {
  let broken = false;
  return async (name, fn) => {
    await t.test(name, { skip: broken && 'an earlier step failed' }, async () => {
      try { await fn(); } catch (e) {
        broken = true;
        for (const [label, page] of Object.entries(pages())) {
          if (page) await page.screenshot({ path: path.join(SHOTS, `failure-${label}.png`), fullPage: true }).catch(() => {});
        }
        e.message += `\n--- server log (tail) ---\n${tail(serverLog, 3000)}`;
        throw e;
      }
    });
  };
}

test('customer widget ↔ agent desk, end to end', { timeout: 300_000 }, async (t) => {
  let widget, desk, conversationId;
  const step = stepper(t, () => ({ widget, desk }));

  const customerMsgs = () => widget.locator('[data-testid=message]');
  const botOrSystem = () => widget.locator('[data-testid=message][data-from=bot], [data-testid=message][data-from=system]');
  const transcript = () => desk.locator('[data-testid=transcript]');

  await step('widget loads with greeting and bot status', async () => {
    widget = await newPage('widget');
    await widget.goto(baseUrl + '/');
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
    desk = await newPage('desk');
    await desk.goto(baseUrl + '/desk');
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
    assert.deepEqual(pageErrors, []);
  });
});

async function assertText(locator, re) {
  await locator.first().waitFor();
  await waitUntil(async () => re.test((await locator.first().innerText()) || ''),
    `text ${re} in ${locator}`).catch(async (e) => {
    e.message += ` (got: ${JSON.stringify(await locator.first().innerText().catch(() => '?'))})`;
    throw e;
  });
}

async function waitUntil(fn, what, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(150);
  }
}
