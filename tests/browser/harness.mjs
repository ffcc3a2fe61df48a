// Shared harness for the headless-browser tests (*.test.mjs): starts the real server binary in
// demo mode on a free port with a throw-away SQLite file, launches Chromium, and offers pages and
// an ordered step runner that saves failure screenshots. Not a test itself (`node --test` only
// picks up *.test.mjs here).
//
// Env:
//   SWITCHBOARD_BIN   path of the server binary (default <repo>/target/debug/switchboard)
//   CHROMIUM_PATH     browser executable (default /usr/bin/chromium)
//
// Screenshots land in <repo>/target/screenshots/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const BIN = process.env.SWITCHBOARD_BIN || path.join(REPO, 'target', 'debug', 'switchboard');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SHOTS = path.join(REPO, 'target', 'screenshots');
export const STEP_TIMEOUT = 15_000;
const HEALTH_TIMEOUT = 60_000;

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function tail(s, n = 4000) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

export function freePort() {
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

/** Polls `fn` until it returns something truthy (which is returned), or throws after `timeout`. */
export async function waitUntil(fn, what, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(150);
  }
}

/** Waits until the first element of `locator` shows text matching `re`. */
export async function assertText(locator, re) {
  await locator.first().waitFor();
  await waitUntil(async () => re.test((await locator.first().innerText()) || ''),
    `text ${re} in ${locator}`).catch(async (e) => {
    e.message += ` (got: ${JSON.stringify(await locator.first().innerText().catch(() => '?'))})`;
    throw e;
  });
}

/**
 * Registers before/after hooks (and SIGINT/SIGTERM handlers) that run the server and Chromium for
 * the calling test file. Call once, at the top level of a *.test.mjs. Returns the suite state;
 * `baseUrl` and `browser` are filled in once `before` has run.
 *
 * Options:
 *   tmpPrefix       prefix of the temporary directory holding the SQLite file
 *   failurePrefix   failure screenshots are named `<failurePrefix>…png`; stale ones are deleted up front
 *   serverEnv       extra environment for the server process
 *   viewport, locale  for every page made by `newPage`
 */
export function setupSuite({
  tmpPrefix = 'switchboard-e2e-',
  failurePrefix = 'failure-',
  serverEnv = {},
  viewport = { width: 1440, height: 900 },
  locale = 'en-US',
} = {}) {
  let server = null;
  let tmpDir = null;

  const suite = {
    baseUrl: null,
    browser: null,
    serverLog: '',
    pageErrors: [],

    /** A page in a fresh browser context; uncaught page errors are collected in `pageErrors`. */
    async newPage(name) {
      const context = await suite.browser.newContext({ viewport, locale });
      const page = await context.newPage();
      page.setDefaultTimeout(STEP_TIMEOUT);
      page.on('pageerror', (e) => suite.pageErrors.push(`[${name}] ${e.message}`));
      return page;
    },

    /**
     * Runs the scenario as ordered subtests of `t`: `step(name, [{ needs: [...] }], fn)`.
     * A step is skipped when a step it `needs` has not passed, or — with `stopOnFailure` — once
     * any step has failed. A failing step saves a full-page screenshot of every open page
     * (`pages()` returns { label: page }) as `<failurePrefix>[<step number>-]<label>.png` and
     * appends the tail of the server log to the error.
     *
     *   stopOnFailure   skip every step after the first failure
     *   numberShots     put the step number in the screenshot name
     *   logTail         how many characters of the server log to append
     */
    stepper(t, pages, { stopOnFailure = false, numberShots = false, logTail = 3000 } = {}) {
      const passed = new Set();
      let broken = false;
      let n = 0;
      return async (name, opts, fn) => {
        if (typeof opts === 'function') { fn = opts; opts = {}; }
        const missing = (opts.needs || []).filter((s) => !passed.has(s));
        const idx = ++n;
        const skip = stopOnFailure && broken ? 'an earlier step failed'
          : missing.length ? `needs: ${missing.join(', ')}` : false;
        await t.test(name, { skip }, async () => {
          try {
            await fn();
            passed.add(name);
          } catch (e) {
            broken = true;
            for (const [label, page] of Object.entries(pages())) {
              const file = `${failurePrefix}${numberShots ? `${idx}-` : ''}${label}.png`;
              if (page) await page.screenshot({ path: path.join(SHOTS, file), fullPage: true }).catch(() => {});
            }
            e.message += `\n--- server log (tail) ---\n${tail(suite.serverLog, logTail)}`;
            throw e;
          }
        });
      };
    },
  };

  async function waitForHealth(url, proc) {
    const deadline = Date.now() + HEALTH_TIMEOUT;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`server exited early (code ${proc.exitCode}, signal ${proc.signalCode})\n${tail(suite.serverLog)}`);
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
    throw new Error(`server not healthy after ${HEALTH_TIMEOUT / 1000}s (${last})\n${tail(suite.serverLog)}`);
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
    for (const f of readdirSync(SHOTS)) if (f.startsWith(failurePrefix)) rmSync(path.join(SHOTS, f), { force: true });
    tmpDir = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    const port = await freePort();
    suite.baseUrl = `http://127.0.0.1:${port}`;
    server = spawn(BIN, ['demo', '--port', String(port), '--database-url', `sqlite://${tmpDir}/demo.db`], {
      cwd: REPO,
      env: { ...process.env, ...serverEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk) => { suite.serverLog = tail(suite.serverLog + chunk.toString(), 200_000); };
    server.stdout.on('data', keep);
    server.stderr.on('data', keep);
    server.on('error', (e) => { suite.serverLog += `\n[spawn error] ${e.message}`; });
    await waitForHealth(suite.baseUrl, server);

    suite.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    try { if (suite.browser) await suite.browser.close(); } catch { /* ignore */ }
    await stopServer();
    if (tmpDir) { try { rmSync(tmpDir, { recursive: true, force: true }); } catch { /* ignore */ } }
  });

  // Also stop the server if the runner is interrupted.
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => { if (server) server.kill('SIGKILL'); process.exit(130); });
  }

  return suite;
}
