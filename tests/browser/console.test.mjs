// End-to-end browser test of the supervisor console against the real binary.
//
//   cd tests/browser && npm install && node --test
//
// Env:
//   SWITCHBOARD_BIN   path of the server binary (default <repo>/target/debug/switchboard)
//   CHROMIUM_PATH     browser executable (default /usr/bin/chromium)
//
// Screenshots land in <repo>/target/screenshots/ (console-*.png). Server, browser and step
// runner: harness.mjs.
//
// Steps run in order; a step that depends on an earlier one is skipped when that one failed,
// the others still run (so one missing endpoint doesn't hide the state of the rest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SHOTS, assertText, setupSuite, sleep, waitUntil } from './harness.mjs';

const suite = setupSuite({
  tmpPrefix: 'switchboard-console-',
  failurePrefix: 'failure-console-',
  serverEnv: { SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS: '60000' },
});

async function postJson(pathname, body, token) {
  const res = await fetch(suite.baseUrl + pathname, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, data: await res.json().catch(() => null) };
}

async function getJson(pathname, token) {
  const res = await fetch(suite.baseUrl + pathname, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, data: await res.json().catch(() => null) };
}

const reEscape = (s) => String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What the console should say (in English) for one exclusion of GET /v1/tasks/{id}/routing. */
function expectedReason(x, nameOf) {
  const left = '(\\d+(\\.\\d)? s|\\d+ min( \\d+ s)?)';
  switch (x.reason) {
    case 'skill': return new RegExp(`^Skill ${reEscape(x.name)}: needs ≥${x.required}, has ${x.has ? x.has : 'none'}$`);
    case 'language': return new RegExp(`^Doesn't speak ${{ en: 'English', zh: 'Chinese' }[x.language]}$`);
    case 'not_available': return new RegExp(`^Not available \\(${{ away: 'Away', offline: 'Offline' }[x.status]}\\)$`);
    case 'wrapping_up': return new RegExp(`^Wrapping up \\(${left} left\\)$`);
    case 'at_capacity': return new RegExp(`^(At capacity \\(${x.media} ${x.load[x.media]}/${x.capacity[x.media]}\\)|On a call — no chats meanwhile|Busy with chats — no calls meanwhile)$`);
    case 'declined_recently': return /^Declined or missed this task a moment ago$/;
    case 'reserved_for_previous_agent': return new RegExp(`^Reserved for ${reEscape(nameOf(x.agent_id))} \\(${left} left\\)$`);
    default: return new RegExp(`^${reEscape(x.reason)}$`);
  }
}

/**
 * Some live traffic: the three demo agents connect (through a helper page's WebSockets) and go
 * Available, accepting a few offers; a handful of web visitors ask for a human.
 */
async function seedTraffic(helper) {
  await helper.goto(suite.baseUrl + '/healthz');
  await helper.evaluate(async (plan) => {
    window.__agents = {};
    for (const [user, p] of Object.entries(plan)) {
      const r = await fetch('/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: 'demo' }) });
      const { token } = await r.json();
      const ws = new WebSocket(`ws://${location.host}/v1/ws/agent?token=${encodeURIComponent(token)}`);
      let taken = 0;
      let wrapped = 0;
      ws.onmessage = (ev) => {
        const m = JSON.parse(ev.data);
        if (m.type === 'hello') ws.send(JSON.stringify({ type: 'status', status: 'available' }));
        if (m.type === 'offer' && taken < p.accept) { taken++; ws.send(JSON.stringify({ type: 'accept', task_id: m.task_id })); }
        if (m.type === 'assigned' && wrapped < p.wrap) {
          wrapped++;
          setTimeout(() => ws.send(JSON.stringify({ type: 'wrap_up', conversation_id: m.conversation_id, resolution: 'resolved' })), 1500);
        }
      };
      window.__agents[user] = ws;
    }
  }, { alice: { accept: 3, wrap: 1 }, bob: { accept: 1, wrap: 0 }, carol: { accept: 2, wrap: 1 } });
  await sleep(800);
  const asks = ['where is my invoice', 'how do I get a refund', 'my parcel is late', 'I need help with my account'];
  for (let i = 0; i < 8; i++) {
    const v = await postJson('/v1/visitors', { name: `Console Test ${i + 1}` });
    assert.equal(v.status, 201, `visitor creation: ${JSON.stringify(v.data)}`);
    await postJson('/v1/messages', { text: asks[i % asks.length], client_id: `ct${i}a` }, v.data.visitor_token);
    await sleep(150);
    await postJson('/v1/messages', { text: 'human', client_id: `ct${i}b` }, v.data.visitor_token);
    await sleep(150);
  }
}

// A rule set with two mistakes: an unknown attribute and a skill no agent has.
const BAD_RULES = {
  rules: [
    { name: 'vip', when: "colour == 'red'", queue: 'vip', skills: [{ name: 'vip', min_level: 1 }], priority: 100 },
    { name: 'billing', when: "intent == 'invoice' || intent == 'refund'", queue: 'billing', skills: [{ name: 'juggling', min_level: 2 }] },
    { name: 'everyone', when: 'true', queue: 'general' },
  ],
};
const GOOD_RULES = {
  rules: [
    { name: 'vip', when: "tier == 'vip' || 'vip' in tags", queue: 'vip', skills: [{ name: 'vip', min_level: 1 }], priority: 100 },
    {
      name: 'billing', when: "intent == 'invoice' || intent == 'refund'", queue: 'billing',
      skills: [{ name: 'billing', min_level: 3 }], aging_per_minute: 2, strategy: 'best_skill',
      overflow: [{ after_secs: 30, skills: [{ name: 'billing', min_level: 1 }] }, { after_secs: 300, queue: 'general', skills: [] }],
    },
    { name: 'everyone', when: 'true', queue: 'general' },
  ],
};

test('supervisor console, end to end', { timeout: 300_000 }, async (t) => {
  let con, helper, savedVersion = null;
  // `needs` names earlier steps that must have passed, else the step is skipped;
  // a failing step saves target/screenshots/failure-console-<step number>-console.png.
  const step = suite.stepper(t, () => ({ console: con }), { numberShots: true, logTail: 2000 });
  // The console scrolls inside its content pane: grow the viewport to the content for a full shot.
  const shot = async (name) => {
    const h = await con.evaluate(() => {
      document.querySelectorAll('[data-testid=toast]').forEach((n) => n.remove());
      const c = document.getElementById('content');
      return c ? c.scrollHeight + 60 : document.body.scrollHeight;
    });
    await con.setViewportSize({ width: 1440, height: Math.max(900, Math.min(h, 2600)) });
    await sleep(250);
    await con.screenshot({ path: path.join(SHOTS, name), animations: 'disabled' });
    await con.setViewportSize({ width: 1440, height: 900 });
  };
  const nav = async (section) => {
    await con.getByTestId(`nav-${section}`).click();
    await con.getByTestId(`section-${section}`).waitFor({ state: 'visible' });
  };
  const setRules = async (doc) => {
    const editor = con.getByTestId('rules-json');
    await waitUntil(async () => (await editor.inputValue()).includes('"rules"'), 'the editor to be pre-filled');
    await editor.fill(typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  };

  await step('sam logs in to the console', async () => {
    con = await suite.newPage('console');
    await con.goto(suite.baseUrl + '/console');
    await con.getByTestId('login-form').waitFor();
    await assertText(con.getByTestId('login-view'), /sam/);
    await con.getByTestId('login-username').fill('sam');
    await con.getByTestId('login-password').fill('demo');
    await con.getByTestId('login-submit').click();
    await con.getByTestId('console-view').waitFor({ state: 'visible' });
    await assertText(con.getByTestId('me-name'), /Sam/i);
  });

  await step('the waiting tasks card says no one is waiting before any traffic', { needs: ['sam logs in to the console'] }, async () => {
    const sam = (await postJson('/v1/auth/login', { username: 'sam', password: 'demo' })).data.token;
    const live = await getJson('/v1/queues', sam);
    assert.equal(live.status, 200);
    assert.ok(Array.isArray(live.data.tasks), `GET /v1/queues lists tasks: ${JSON.stringify(live.data).slice(0, 300)}`);
    assert.equal(live.data.tasks.length, 0, 'nothing waits yet');
    const card = con.getByTestId('tasks-card');
    await assertText(card.getByTestId('empty-state'), /No one is waiting/);
    assert.equal(await card.getByTestId('task-row').count(), 0);
  });

  await step('the live view shows queues and agents, updating by itself', { needs: ['sam logs in to the console'] }, async () => {
    await con.getByTestId('section-live').waitFor({ state: 'visible' });
    await con.locator('[data-testid=live-indicator][data-state=live]').waitFor();
    helper = await suite.newPage('agents');
    await seedTraffic(helper);
    // no reload: the 2 s poll brings the agents and the queue in
    await waitUntil(async () => (await con.getByTestId('agent-row').count()) >= 3, 'three agents in the live view');
    await con.getByTestId('queue-row').first().waitFor();
    await waitUntil(async () => Number((await con.getByTestId('stat-waiting').innerText()).trim()) >= 0, 'the waiting figure');
    await assertText(con.getByTestId('agents-list'), /Alice[\s\S]*/);
    await assertText(con.getByTestId('agents-list'), /billing/);
    await sleep(1500);
    await shot('console-live.png');
  });

  await step('Why? explains a waiting task from GET /v1/tasks/{id}/routing', { needs: ['the live view shows queues and agents, updating by itself'] }, async () => {
    await nav('live');
    const sam = (await postJson('/v1/auth/login', { username: 'sam', password: 'demo' })).data.token;
    // A waiting task whose offer is held (the agents accept only a few; offers last 60 s here)
    // and whose explanation is recorded with at least one excluded agent.
    let pick = null;
    let extra = 0;
    const started = Date.now();
    await waitUntil(async () => {
      const live = (await getJson('/v1/queues', sam)).data;
      for (const tk of live.tasks || []) {
        if (!tk.offered_to) continue;
        const routing = (await getJson(`/v1/tasks/${tk.task_id}/routing`, sam)).data;
        const lo = routing && routing.last_offer;
        if (lo && lo.offered_to === tk.offered_to && lo.candidates.some((c) => c.excluded.length)) {
          pick = { task: tk, agents: live.agents };
          return true;
        }
      }
      if (Date.now() - started > 6000 * (extra + 1) && extra < 3) {
        // no held offer yet: one more customer for the agents
        extra++;
        const v = await postJson('/v1/visitors', { name: `Console Why ${extra}` });
        await postJson('/v1/messages', { text: 'I need help with my account', client_id: `cw${extra}a` }, v.data.visitor_token);
        await sleep(150);
        await postJson('/v1/messages', { text: 'human', client_id: `cw${extra}b` }, v.data.visitor_token);
      }
      return false;
    }, 'a waiting task with a held offer and a recorded explanation', 30_000);
    const { task } = pick;
    const nameOf = (id) => (pick.agents.find((a) => a.agent_id === id) || {}).name || id;

    // the table lists it, with where it goes and who holds the offer
    const row = con.locator(`[data-testid=task-row][data-task-id="${task.task_id}"]`);
    await row.waitFor();
    await assertText(row.getByTestId('task-customer'), new RegExp(reEscape(task.customer_name)));
    await assertText(row.getByTestId('task-state'), new RegExp(`Offered to ${reEscape(nameOf(task.offered_to))}`));
    if (task.rule) await assertText(row.getByTestId('task-rule'), new RegExp(reEscape(task.rule)));
    assert.match(await row.innerText(), new RegExp(reEscape(task.queue)));

    // Why? shows what the API answers for this task
    const answer = con.waitForResponse((r) => new URL(r.url()).pathname === `/v1/tasks/${task.task_id}/routing`);
    await row.getByTestId('task-why').click();
    const resp = await answer;
    assert.equal(resp.status(), 200);
    const shown = await resp.json();
    const lo = shown.last_offer;
    assert.ok(lo, `the task has a recorded offer: ${JSON.stringify(shown)}`);
    const drawer = con.locator(`[data-testid=why-drawer][data-state=ok][data-task-id="${task.task_id}"]`);
    await drawer.waitFor();
    await assertText(drawer.getByTestId('why-title'), new RegExp(reEscape(task.customer_name)));
    if (lo.rule) {
      await assertText(drawer.getByTestId('why-rule-name'), new RegExp(reEscape(lo.rule.name)));
      if (lo.rule.overflow_step != null) await assertText(drawer.getByTestId('why-overflow'), new RegExp(`Step ${lo.rule.overflow_step + 1}`));
    } else {
      await assertText(drawer.getByTestId('why-rule-name'), /Built-in routing/);
    }
    await assertText(drawer.getByTestId('why-queue'), new RegExp(reEscape(lo.queue)));
    for (const need of lo.target.skills) {
      await assertText(drawer.getByTestId('why-skills'), new RegExp(`${reEscape(need.name)}\\s*≥${need.min_level}`));
    }
    await assertText(drawer.getByTestId('why-strategy'), { least_occupied: /Least occupied/, longest_idle: /Longest idle/, best_skill: /Best skill/ }[lo.target.strategy]);

    // the chosen agent is highlighted, and the eligible ones keep the API's ranking
    const chosenName = nameOf(lo.offered_to);
    await assertText(drawer.getByTestId('why-offered-to'), new RegExp(`Offered to ${reEscape(chosenName)}`));
    const chosen = drawer.locator('[data-testid=why-candidate][data-chosen=true]');
    assert.equal(await chosen.count(), 1, 'one chosen agent');
    assert.equal(await chosen.getAttribute('data-agent-id'), lo.offered_to);
    await assertText(chosen, new RegExp(`${reEscape(chosenName)}[\\s\\S]*Got the offer`));
    const eligible = lo.candidates.filter((c) => c.excluded.length === 0);
    assert.equal(eligible[0].agent_id, lo.offered_to, 'the API ranks the chosen agent first');
    const shownRanking = await drawer.getByTestId('why-candidate').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-agent-id')));
    assert.deepEqual(shownRanking, eligible.map((c) => c.agent_id));

    // every excluded agent, with each reason in words
    const excluded = lo.candidates.filter((c) => c.excluded.length > 0);
    assert.ok(excluded.length > 0);
    assert.equal(await drawer.getByTestId('why-excluded').count(), excluded.length);
    for (const c of excluded) {
      const item = drawer.locator(`[data-testid=why-excluded][data-agent-id="${c.agent_id}"]`);
      await assertText(item, new RegExp(reEscape(nameOf(c.agent_id))));
      const texts = await item.getByTestId('why-reason').allInnerTexts();
      assert.equal(texts.length, c.excluded.length, `reasons of ${nameOf(c.agent_id)}: ${JSON.stringify(texts)}`);
      c.excluded.forEach((x, i) => assert.match(texts[i].trim(), expectedReason(x, nameOf), `reason ${JSON.stringify(x)}`));
    }

    // screenshot with the drawer open, tall enough for all of it
    await con.evaluate(() => document.querySelectorAll('[data-testid=toast]').forEach((n) => n.remove()));
    const h = await con.evaluate(() => {
      const d = document.querySelector('[data-testid=why-drawer]');
      const b = document.querySelector('[data-testid=why-body]');
      return d.querySelector('.why-head').offsetHeight + b.scrollHeight + 4;
    });
    await con.setViewportSize({ width: 1440, height: Math.max(900, Math.min(h, 2000)) });
    await sleep(300);
    await con.screenshot({ path: path.join(SHOTS, 'console-why.png'), animations: 'disabled' });
    await con.setViewportSize({ width: 1440, height: 900 });

    // Esc closes it and gives the focus back to the row's button
    await con.keyboard.press('Escape');
    await con.getByTestId('why-drawer').waitFor({ state: 'hidden' });
    assert.equal(await con.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-testid')), 'task-why');
    // … and the close button too
    await row.getByTestId('task-why').click();
    await drawer.waitFor();
    await con.getByTestId('why-close').click();
    await con.getByTestId('why-drawer').waitFor({ state: 'hidden' });
  });

  await step('malformed JSON is reported locally, before anything is sent', { needs: ['sam logs in to the console'] }, async () => {
    await nav('rules');
    const sent = [];
    const onReq = (req) => { if (req.method() === 'POST' && /\/v1\/routing\/rules/.test(req.url())) sent.push(req.url()); };
    con.on('request', onReq);
    await setRules('{\n  "rules": [\n    {"name": "vip", "when": "true", "queue": "vip",}\n  ]\n}');
    await con.getByTestId('rules-validate').click();
    await assertText(con.getByTestId('rules-status'), /malformed[\s\S]*Line 3/i);
    await assertText(con.getByTestId('json-error'), /Line 3, column \d+/);
    await sleep(300);
    con.off('request', onReq);
    assert.deepEqual(sent, [], 'no request for malformed JSON');
  });

  await step('Save with mistakes shows the 422 problems in place', { needs: ['sam logs in to the console'] }, async () => {
    await nav('rules');
    await setRules(BAD_RULES);
    const resp = con.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/routing/rules');
    await con.getByTestId('rules-save').click();
    assert.equal((await resp).status(), 422);
    await assertText(con.getByTestId('problems-list'), /rules\[0\]\.when/);
    await assertText(con.getByTestId('problems-list'), /colour/);
    await assertText(con.getByTestId('problems-list'), /juggling/);
    const card0 = con.locator('[data-testid=rule-card][data-index="0"]');
    assert.match(await card0.getAttribute('class'), /has-problems/);
    await assertText(card0.getByTestId('rule-card-problems'), /rules\[0\]\.when[\s\S]*colour/);
    await assertText(con.locator('[data-testid=rule-card][data-index="1"]').getByTestId('rule-card-problems'), /juggling/);
    assert.doesNotMatch(await con.locator('[data-testid=rule-card][data-index="2"]').getAttribute('class'), /has-problems/);
  });

  await step('Validate shows the problems in place (nothing stored)', { needs: ['sam logs in to the console'] }, async () => {
    await nav('rules');
    await setRules(BAD_RULES);
    const resp = con.waitForResponse((r) => new URL(r.url()).pathname === '/v1/routing/rules/validate');
    await con.getByTestId('rules-validate').click();
    const status = (await resp).status();
    assert.equal(status, 422, `POST /v1/routing/rules/validate answered ${status}`);
    await assertText(con.getByTestId('problems-title'), /2 problems found/);
    const list = con.getByTestId('problems-list');
    await assertText(list, /rules\[0\]\.when/);
    await assertText(list, /unknown attribute 'colour'/);
    await assertText(list, /rules\[1\]\.skills\[0\]\.name/);
    await assertText(list, /juggling/);
    await assertText(con.locator('[data-testid=rule-card][data-index="0"]'), /rules\[0\]\.when/);
    await shot('console-rules-errors.png');
  });

  await step('fixing the rules and saving shows the new version', { needs: ['sam logs in to the console'] }, async () => {
    await nav('rules');
    await setRules(GOOD_RULES);
    const resp = con.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/routing/rules');
    await con.getByTestId('rules-save').click();
    const r = await resp;
    assert.equal(r.status(), 201, `save answered ${r.status()}`);
    savedVersion = (await r.json()).version;
    assert.ok(Number.isInteger(savedVersion) && savedVersion > 0, `version ${savedVersion}`);
    await con.locator(`[data-testid=saved-version][data-version="${savedVersion}"]`).waitFor();
    await assertText(con.getByTestId('saved-version'), new RegExp(`v${savedVersion}\\b`));
    await assertText(con.getByTestId('rules-status'), new RegExp(`version ${savedVersion}`));
    assert.equal(await con.getByTestId('problems').isVisible(), false, 'problems cleared');
  });

  await step('a dry-run over the last 24 h renders the report and its chart', { needs: ['fixing the rules and saving shows the new version'] }, async () => {
    await nav('rules');
    await con.getByTestId('saved-dryrun').click();
    await con.getByTestId('section-dryrun').waitFor({ state: 'visible' });
    assert.equal(await con.getByTestId('dryrun-version').inputValue(), String(savedVersion));
    const report = con.locator(`[data-testid=dryrun-report][data-version="${savedVersion}"]`);
    await report.waitFor({ timeout: 30_000 }).catch(async (e) => {
      const note = await con.getByTestId('dryrun-report-area').innerText().catch(() => '');
      const err = await con.getByTestId('dryrun-error').innerText().catch(() => '');
      e.message += ` (report area: ${JSON.stringify(note.slice(0, 200))}, error: ${JSON.stringify(err)})`;
      throw e;
    });
    assert.equal(await report.getByTestId('kpi').count(), 6);
    const svg = report.getByTestId('dryrun-chart-svg');
    await svg.waitFor();
    assert.ok(await svg.locator('[data-testid=chart-candidate]').count() === 1, 'candidate line drawn');
    assert.ok(await svg.locator('[data-testid=chart-baseline]').count() === 1, 'baseline line drawn');
    await report.getByTestId('dry-queues').waitFor();
    await report.getByTestId('dry-changed').waitFor();
    // a narrower window around the seeded traffic makes the chart readable
    await con.evaluate(() => {
      const p = (n) => String(n).padStart(2, '0');
      const local = (ms) => { const d = new Date(ms); return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`; };
      const now = Date.now();
      document.querySelector('[data-testid=dryrun-from]').value = local(now - 5 * 60_000);
      document.querySelector('[data-testid=dryrun-to]').value = local(now + 2 * 60_000);
    });
    const again = con.waitForResponse((r) => /\/dry-run$/.test(new URL(r.url()).pathname));
    await con.getByTestId('dryrun-run').click();
    assert.equal((await again).status(), 200);
    await con.locator(`[data-testid=dryrun-report][data-version="${savedVersion}"] [data-testid=dryrun-chart-svg]`).waitFor();
    await shot('console-dry-run.png');
  });

  await step('activating the new version shows it active in live and history', { needs: ['fixing the rules and saving shows the new version'] }, async () => {
    await nav('rules');
    await con.getByTestId('rules-activate').click();
    await con.getByTestId('rules-confirm-ok').click();
    await assertText(con.getByTestId('rules-status'), new RegExp(`Version ${savedVersion} is now active`));
    await con.locator(`[data-testid=active-version][data-version="${savedVersion}"]`).waitFor();
    await nav('live');
    await assertText(con.getByTestId('nav-foot-text'), new RegExp(`Version ${savedVersion}`));
    await nav('history');
    await con.locator(`[data-testid=version-item][data-version="${savedVersion}"][data-active=true]`).waitFor();
  });

  await step('history lists the versions with their diff', { needs: ['activating the new version shows it active in live and history'] }, async () => {
    await nav('history');
    const item = con.locator(`[data-testid=versions-list] [data-testid=version-item][data-version="${savedVersion}"]`);
    await item.getByTestId('version-active').waitFor();
    assert.equal(await con.getByTestId('versions-list').getByTestId('unavailable').count(), 0, 'GET /v1/routing/rules/versions is available');
    await shot('console-history.png');
  });

  await step('the audit trail records the save and the activation', { needs: ['activating the new version shows it active in live and history'] }, async () => {
    await nav('history');
    await con.locator('[data-testid=audit-entry][data-action="routing.rules.activated"]').first().waitFor();
    await con.locator('[data-testid=audit-entry][data-action="routing.rules.created"]').first().waitFor();
    // the actor is named as GET /v1/me names the signed-in supervisor, not by id
    const sam = (await postJson('/v1/auth/login', { username: 'sam', password: 'demo' })).data.token;
    const { name } = (await getJson('/v1/me', sam)).data;
    await assertText(con.getByTestId('audit-list'), new RegExp(`${name} activated version ${savedVersion}`));
    await shot('console-history.png');
  });

  await step('an override can be started and ended', { needs: ['activating the new version shows it active in live and history'] }, async () => {
    await nav('overrides');
    await con.getByTestId('override-rule').selectOption('billing');
    await con.getByTestId('override-queue').fill('general');
    await con.getByTestId('override-minutes').fill('30');
    await con.getByTestId('override-reason').fill('Billing team in training');
    await con.getByTestId('override-submit').click();
    const item = con.getByTestId('overrides-list').getByTestId('override-item').first();
    await assertText(item, /billing[\s\S]*general/);
    await nav('live');
    await con.getByTestId('live-overrides').getByTestId('override-item').first().waitFor();
    await con.getByTestId('live-overrides').getByTestId('override-end').first().click();
    await con.getByTestId('live-overrides').getByTestId('override-end-confirm').click();
    await waitUntil(async () => (await con.getByTestId('live-overrides').getByTestId('override-item').count()) === 0, 'the override to end');
  });

  await step('switching to Chinese translates the console', { needs: ['sam logs in to the console'] }, async () => {
    await nav('live');
    await con.getByTestId('lang-switch').click();
    await waitUntil(async () => (await con.evaluate(() => document.documentElement.lang)) === 'zh-CN', 'html lang zh-CN');
    await assertText(con.getByTestId('nav-live'), /实时/);
    await assertText(con.getByTestId('nav-rules'), /路由规则/);
    await assertText(con.getByTestId('section-live'), /实时运营/);
    await assertText(con.getByTestId('live-indicator'), /实时|连接中|正在重连/);
    await shot('console-live-zh.png');
    await con.getByTestId('lang-switch').click();
    await waitUntil(async () => (await con.evaluate(() => document.documentElement.lang)) === 'en', 'back to English');
  });

  await step('no uncaught page errors', async () => {
    assert.deepEqual(suite.pageErrors, []);
  });
});
