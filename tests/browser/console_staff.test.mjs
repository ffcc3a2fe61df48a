// End-to-end browser test of the console's Staff section against the real binary.
//
//   cd tests/browser && npm install && node --test console_staff.test.mjs
//
// Env:
//   SWITCHBOARD_BIN   path of the server binary (default <repo>/target/debug/switchboard)
//   CHROMIUM_PATH     browser executable (default /usr/bin/chromium)
//
// Screenshots land in <repo>/target/screenshots/ (console-staff-*.png). Server, browser and
// step runner: harness.mjs. What the console shows is checked against the API's own answers
// (GET /v1/staff, GET /v1/teams, a dry run of the same file), not against hard-coded demo
// content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SHOTS, assertText, setupSuite, sleep, waitUntil } from './harness.mjs';

const suite = setupSuite({ tmpPrefix: 'switchboard-console-staff-', failurePrefix: 'failure-console-staff-' });

/** A password the policy takes. */
const PASSWORD = 'a long secret phrase';

async function api(method, pathname, token, body, type) {
  const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
  if (body !== undefined) headers['content-type'] = type || 'application/json';
  const res = await fetch(suite.baseUrl + pathname, {
    method,
    headers,
    body: body === undefined ? undefined : type ? body : JSON.stringify(body),
  });
  return { status: res.status, data: await res.json().catch(() => null) };
}
const login = async (username, password = 'demo') => (await api('POST', '/v1/auth/login', null, { username, password })).data.token;
async function staffList(token) {
  const r = await api('GET', '/v1/staff', token);
  assert.equal(r.status, 200, `GET /v1/staff: ${JSON.stringify(r.data)}`);
  return r.data.staff;
}
const byName = (list, username) => list.find((s) => s.username === username);

test('supervisor console: staff, end to end', { timeout: 300_000 }, async (t) => {
  let con, lead, ada;
  const step = suite.stepper(t, () => ({ console: con, lead }), { numberShots: true, logTail: 2000 });
  const shown = () => con.getByTestId('staff-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-username')).sort().join(','));
  // The console scrolls inside its content pane: grow the viewport to the content for a full shot.
  const shot = async (page, name, { width = 1440, full = true } = {}) => {
    await page.evaluate(() => document.querySelectorAll('[data-testid=toast]').forEach((n) => n.remove()));
    await page.setViewportSize({ width, height: 900 });
    await sleep(200);
    const h = full ? await page.evaluate(() => {
      const c = document.getElementById('content');
      return c.scrollHeight + c.getBoundingClientRect().top + 8;
    }) : 900;
    await page.setViewportSize({ width, height: Math.max(900, Math.min(h, 3000)) });
    await sleep(250);
    await page.screenshot({ path: path.join(SHOTS, name), animations: 'disabled' });
    await page.setViewportSize({ width: 1440, height: 900 });
  };
  const open = async (page, hash) => {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.getByTestId('section-staff').waitFor({ state: 'visible' });
  };
  const signIn = async (page, username, password = 'demo') => {
    await page.goto(suite.baseUrl + '/console');
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('console-view').waitFor({ state: 'visible' });
  };
  const row = (username) => con.locator(`[data-testid=staff-row][data-username="${username}"]`);

  await step('ada opens Staff: every active account of GET /v1/staff, with its role, skills and capacity', async () => {
    ada = await login('ada');
    con = await suite.newPage('console');
    await signIn(con, 'ada');
    await assertText(con.getByTestId('nav-staff'), /Staff/);
    await con.getByTestId('nav-staff').click();
    await con.getByTestId('section-staff').waitFor({ state: 'visible' });
    assert.equal(await con.getByTestId('nav-staff').getAttribute('aria-current'), 'page');
    const staff = await staffList(ada);
    const active = staff.filter((s) => s.active).map((s) => s.username).sort().join(',');
    await waitUntil(async () => (await shown()) === active, `the ${active} of the API`);
    const count = con.getByTestId('staff-count');
    assert.equal(await count.getAttribute('data-shown'), String(staff.filter((s) => s.active).length));
    const alice = byName(staff, 'alice');
    const r = row('alice');
    await assertText(r.getByTestId('staff-name'), new RegExp(alice.display_name));
    assert.equal(await r.getByTestId('staff-role').getAttribute('data-role'), 'agent');
    assert.equal(await r.getByTestId('skill-chip').count(), alice.skills.length);
    assert.equal(await r.getByTestId('staff-languages').getAttribute('data-languages'), alice.languages.join(','));
    assert.equal(await r.getByTestId('staff-capacity').getAttribute('data-chat'), String(alice.capacity.chat));
    assert.equal(await row('sam').getByTestId('staff-role').getAttribute('data-role'), 'supervisor');
    await shot(con, 'console-staff-list.png', { full: false });
  });

  await step('the filters narrow the list: search, role, skill, status', { needs: ['ada opens Staff: every active account of GET /v1/staff, with its role, skills and capacity'] }, async () => {
    const staff = await staffList(ada);
    await con.getByTestId('staff-search').fill('car');
    await waitUntil(async () => (await shown()) === 'carol', 'only carol for "car"');
    await con.getByTestId('staff-search').fill('');
    await con.getByTestId('staff-role-filter').selectOption('supervisor');
    await waitUntil(async () => (await shown()) === staff.filter((s) => s.role === 'supervisor' && s.active).map((s) => s.username).sort().join(','), 'the supervisors');
    await con.getByTestId('staff-role-filter').selectOption('');
    const vip = staff.filter((s) => s.active && s.skills.some((k) => k.name === 'vip')).map((s) => s.username).sort().join(',');
    assert.ok(vip.length > 0, 'someone has vip');
    await con.getByTestId('staff-skill-filter').selectOption('vip');
    await waitUntil(async () => (await shown()) === vip, `the vip agents (${vip})`);
    await con.getByTestId('staff-search').fill('nobody-has-this-name');
    await con.getByTestId('staff-people').getByTestId('empty-state').waitFor();
    await con.getByTestId('staff-clear-filters').click();
    await waitUntil(async () => (await shown()).split(',').length === staff.length, 'everyone again');
    await con.locator('[data-testid=staff-filter-status][data-status=active]').click();
  });

  await step('a new account with problems shows every one beside its field; fixed, it is created', { needs: ['ada opens Staff: every active account of GET /v1/staff, with its role, skills and capacity'] }, async () => {
    await con.getByTestId('staff-new').click();
    await con.getByTestId('staff-create').waitFor({ state: 'visible' });
    await con.getByTestId('staff-new-username').fill('dora lin!');
    await con.getByTestId('staff-new-password').fill('short');
    await con.getByTestId('staff-new-submit').click();
    const problems = con.getByTestId('staff-new-problems');
    await problems.waitFor({ state: 'visible' });
    const paths = await problems.getByTestId('problem').evaluateAll((ps) => ps.map((p) => p.getAttribute('data-path')).sort());
    assert.deepEqual(paths, ['display_name', 'password', 'username']);
    for (const f of ['username', 'display_name', 'password']) {
      const field = con.locator(`#staff-create [data-field="${f}"]`);
      assert.ok(await field.evaluate((n) => n.classList.contains('has-error')), `${f} is marked`);
      await assertText(field.locator('.field-error'), /\S/);
    }
    assert.equal(byName(await staffList(ada), 'dora lin!'), undefined, 'nothing stored');
    await shot(con, 'console-staff-new-422.png');
    // fixed: a generated password, a skill at level 4, a phone extension
    await con.getByTestId('staff-new-username').fill('dora');
    await con.getByTestId('staff-new-name').fill('Dora Lin');
    await con.getByTestId('staff-new-generate').click();
    assert.ok((await con.getByTestId('staff-new-password').inputValue()).length >= 10);
    await con.getByTestId('staff-create').getByTestId('skill-add-name').fill('billing');
    await con.getByTestId('staff-create').getByTestId('skill-add-level').selectOption('4');
    await con.getByTestId('staff-create').getByTestId('skill-add').click();
    await con.getByTestId('staff-create').locator('[data-testid=language-toggle][data-language=en]').click();
    await con.getByTestId('staff-new-extension').fill('4021');
    await con.getByTestId('staff-new-submit').click();
    await con.getByTestId('staff-people').waitFor({ state: 'visible' });
    await row('dora').waitFor();
    const dora = byName(await staffList(ada), 'dora');
    assert.ok(dora, 'dora was created');
    assert.deepEqual([dora.display_name, dora.role, dora.extension], ['Dora Lin', 'agent', '4021']);
    assert.deepEqual(dora.skills, [{ name: 'billing', level: 4 }]);
    assert.deepEqual(dora.languages, ['zh', 'en']);
  });

  await step('a skill level changed inline is saved and still there after a reload', { needs: ['ada opens Staff: every active account of GET /v1/staff, with its role, skills and capacity'] }, async () => {
    await con.getByTestId('staff-search').fill('');
    const before = byName(await staffList(ada), 'alice');
    const skill = before.skills[0];
    const target = skill.level > 1 ? skill.level - 1 : 2;
    await row('alice').getByTestId('staff-edit').click();
    const editor = con.getByTestId('staff-editor');
    await editor.waitFor();
    const chip = editor.locator(`[data-testid=skill-edit][data-skill="${skill.name}"]`);
    if (target < skill.level) await chip.getByTestId('skill-down').click();
    else await chip.locator(`[data-testid=skill-dot][data-level="${target}"]`).click();
    assert.equal(await chip.getByTestId('skill-level').innerText(), String(target));
    await editor.getByTestId('capacity-chat').fill('4');
    await assertText(editor.getByTestId('staff-editor-note'), /Unsaved/);
    await shot(con, 'console-staff-editor.png', { full: false });
    await editor.getByTestId('staff-save').click();
    await editor.waitFor({ state: 'detached' });
    const after = byName(await staffList(ada), 'alice');
    assert.equal(after.skills.find((k) => k.name === skill.name).level, target);
    assert.equal(after.capacity.chat, 4);
    await con.reload();
    await con.getByTestId('section-staff').waitFor({ state: 'visible' });
    const dots = row('alice').locator('[data-testid=skill-chip]', { hasText: skill.name }).locator('.skill-level');
    await waitUntil(async () => (await dots.getAttribute('aria-label').catch(() => null)) === `${target}/5`, `${skill.name} at ${target}/5 after the reload`);
    assert.equal(await row('alice').getByTestId('staff-capacity').getAttribute('data-chat'), '4');
  });

  await step('a team is created with a lead and members', { needs: ['a new account with problems shows every one beside its field; fixed, it is created'] }, async () => {
    await con.getByTestId('staff-tab-teams').click();
    await con.getByTestId('staff-teams').waitFor({ state: 'visible' });
    await con.getByTestId('team-new').click();
    const form = con.getByTestId('team-form');
    await form.waitFor();
    // nobody chosen and no name: the problems are listed
    await con.getByTestId('team-create').click();
    await form.getByTestId('team-problems').waitFor({ state: 'visible' });
    assert.deepEqual(await form.getByTestId('problem').evaluateAll((ps) => ps.map((p) => p.getAttribute('data-path'))), ['name']);
    await con.getByTestId('team-new-name').fill('Refunds 2F');
    await form.locator('[data-testid=team-leads-item][data-username=sam] input').check();
    await form.getByTestId('team-members-search').fill('o');
    await form.locator('[data-testid=team-members-item][data-username=dora] input').check();
    await form.getByTestId('team-members-search').fill('');
    await form.locator('[data-testid=team-members-item][data-username=alice] input').check();
    await shot(con, 'console-staff-team-form.png');
    await con.getByTestId('team-create').click();
    const card = con.locator('[data-testid=team-card][data-team-name="Refunds 2F"]');
    await card.waitFor();
    const teams = (await api('GET', '/v1/teams', ada)).data.teams;
    const team = teams.find((x) => x.name === 'Refunds 2F');
    const staff = await staffList(ada);
    assert.deepEqual(team.leads, [byName(staff, 'sam').id]);
    assert.deepEqual(team.members.slice().sort(), [byName(staff, 'alice').id, byName(staff, 'dora').id].sort());
    assert.equal(await card.getByTestId('team-counts').getAttribute('data-members'), '2');
    await assertText(card.getByTestId('team-leads'), /Sam/);
    await shot(con, 'console-staff-teams.png');
  });

  await step('a CSV import shows every problem by row, then imports a valid file', { needs: ['a team is created with a lead and members'] }, async () => {
    await con.getByTestId('staff-tab-import').click();
    await con.getByTestId('staff-import').waitFor({ state: 'visible' });
    const bad = [
      'username,display_name,role,password,skills,languages,teams',
      `li.wei,Li Wei,agent,${PASSWORD},billing:4;refunds:2,zh;en,Refunds 2F`,
      'bad user!,Bad,boss,short,billing:9,fr,Green',
      `Alice,Alice Again,agent,${PASSWORD},,,`,
      `LI.WEI,Li Twin,agent,${PASSWORD},,,`,
    ].join('\n') + '\n';
    const dry = await api('POST', '/v1/staff/import?dry_run=true', ada, bad, 'text/csv');
    assert.equal(dry.status, 200);
    const badRows = [...new Set(dry.data.problems.map((p) => p.row))].sort((a, b) => a - b);
    await con.getByTestId('staff-import-source-paste').check();
    await con.getByTestId('staff-import-paste').fill(bad);
    await con.getByTestId('staff-import-check').click();
    const summary = con.getByTestId('staff-import-summary');
    await summary.waitFor();
    assert.equal(await summary.getAttribute('data-rows'), String(dry.data.rows));
    assert.equal(await summary.getAttribute('data-valid'), String(dry.data.valid));
    assert.equal(await summary.getAttribute('data-problems'), String(dry.data.problems.length));
    const listed = await con.getByTestId('staff-import-problem-row').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-row'))));
    assert.deepEqual(listed, badRows);
    const fields = await con.locator('[data-testid=staff-import-problem-row][data-row="3"] [data-testid=staff-import-problem]').evaluateAll((ps) => ps.map((p) => p.getAttribute('data-field')));
    assert.deepEqual(fields, dry.data.problems.filter((p) => p.row === 3).map((p) => p.field));
    assert.ok(await con.getByTestId('staff-import-run').isDisabled(), 'nothing imports while a row has a problem');
    assert.equal(await con.locator('[data-testid=staff-import-preview-row][data-valid=false]').count(), dry.data.preview.filter((p) => !p.valid).length);
    await shot(con, 'console-staff-import-problems.png');
    // a valid file: checked, then imported
    const good = [
      'username,display_name,role,password,skills,languages,chat_capacity,teams',
      `li.wei,Li Wei,agent,${PASSWORD},billing:4;refunds:2,zh;en,4,Refunds 2F`,
      `mia.chen,Mia Chen,agent,${PASSWORD},tech:3,zh,,Refunds 2F`,
      `noah.wu,Noah Wu,team_lead,${PASSWORD},,en,,`,
    ].join('\n') + '\n';
    await con.getByTestId('staff-import-paste').fill(good);
    await assertText(con.getByTestId('staff-import-verdict'), /changed since it was checked/);
    await con.getByTestId('staff-import-check').click();
    await waitUntil(async () => (await summary.getAttribute('data-problems')) === '0', 'no problems');
    await assertText(con.getByTestId('staff-import-verdict'), /All 3 accounts are ready/);
    await con.getByTestId('staff-import-run').click();
    await assertText(con.getByTestId('staff-import-done-text'), /3 accounts created/);
    const staff = await staffList(ada);
    for (const u of ['li.wei', 'mia.chen', 'noah.wu']) assert.ok(byName(staff, u), `${u} imported`);
    assert.deepEqual(byName(staff, 'li.wei').skills, [{ name: 'billing', level: 4 }, { name: 'refunds', level: 2 }]);
    assert.equal(byName(staff, 'noah.wu').role, 'team_lead');
    await shot(con, 'console-staff-import-done.png', { full: false });
    await con.getByTestId('staff-import-show').click();
    await row('mia.chen').waitFor();
  });

  await step('deactivating asks first, then the account is inactive everywhere', { needs: ['a new account with problems shows every one beside its field; fixed, it is created'] }, async () => {
    await open(con, '#staff');
    await con.getByTestId('staff-search').fill('dora');
    await row('dora').getByTestId('staff-edit').click();
    const editor = con.getByTestId('staff-editor');
    await editor.getByTestId('staff-deactivate').click();
    await assertText(editor.getByTestId('staff-deactivate-text'), /Deactivate Dora Lin/);
    await editor.getByTestId('staff-deactivate-cancel').click();
    assert.equal(byName(await staffList(ada), 'dora').active, true, 'cancelled: still active');
    await editor.getByTestId('staff-deactivate').click();
    await editor.getByTestId('staff-deactivate-ok').click();
    await editor.waitFor({ state: 'detached' });
    assert.equal(byName(await staffList(ada), 'dora').active, false);
    // active only (the default): gone; deactivated: listed as such
    await waitUntil(async () => (await row('dora').count()) === 0, 'dora no longer among the active');
    await con.locator('[data-testid=staff-filter-status][data-status=inactive]').click();
    await assertText(row('dora').getByTestId('staff-status'), /Deactivated/);
    assert.equal(await row('dora').getByTestId('staff-edit').count(), 0, 'a deactivated account is not edited');
    await con.locator('[data-testid=staff-filter-status][data-status=active]').click();
    await con.getByTestId('staff-search').fill('');
  });

  await step('in Chinese: the section, its tabs and roles', { needs: ['ada opens Staff: every active account of GET /v1/staff, with its role, skills and capacity'] }, async () => {
    await open(con, '#staff');
    await con.getByTestId('lang-switch').click();
    await waitUntil(async () => (await con.evaluate(() => document.documentElement.lang)) === 'zh-CN', 'html lang zh-CN');
    await assertText(con.getByTestId('nav-staff'), /人员/);
    await assertText(con.getByTestId('staff-title'), /^人员$/);
    await assertText(con.getByTestId('staff-tab-teams'), /团队/);
    await assertText(row('alice').getByTestId('staff-role'), /客服/);
    await assertText(row('sam').getByTestId('staff-role'), /主管/);
    await row('alice').getByTestId('staff-edit').click();
    await assertText(con.getByTestId('staff-save'), /保存修改/);
    await shot(con, 'console-staff-zh.png', { full: false });
    await con.getByTestId('staff-cancel').click();
    await open(con, '#staff/import');
    await assertText(con.getByTestId('staff-import-check'), /检查文件/);
    await shot(con, 'console-staff-import-zh.png', { full: false });
    await con.getByTestId('lang-switch').click();
    await waitUntil(async () => (await con.evaluate(() => document.documentElement.lang)) === 'en', 'back to English');
  });

  await step('a team lead sees Live and Staff, and only the agents of the team they lead', async () => {
    const made = await api('POST', '/v1/staff', ada, { username: 'lena', display_name: 'Lena Park', password: PASSWORD, role: 'team_lead' });
    assert.equal(made.status, 201, JSON.stringify(made.data));
    const staff = await staffList(ada);
    const team = await api('POST', '/v1/teams', ada, { name: 'Night shift', leads: [made.data.id], members: [byName(staff, 'bob').id] });
    assert.equal(team.status, 201, JSON.stringify(team.data));
    lead = await suite.newPage('lead');
    await signIn(lead, 'lena', PASSWORD);
    await assertText(lead.getByTestId('me-name'), /Lena/);
    assert.ok(await lead.getByTestId('nav-live').isVisible());
    assert.ok(await lead.getByTestId('nav-staff').isVisible());
    for (const hidden of ['rules', 'dryrun', 'history', 'overrides', 'kb']) assert.equal(await lead.getByTestId(`nav-${hidden}`).isVisible(), false, `${hidden} hidden`);
    await lead.getByTestId('nav-staff').click();
    const leadToken = await login('lena', PASSWORD);
    const theirs = (await staffList(leadToken)).map((s) => s.username).sort().join(',');
    assert.equal(theirs, 'bob');
    await waitUntil(async () => (await lead.getByTestId('staff-row').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-username')).sort().join(','))) === theirs, 'bob only');
    assert.equal(await lead.getByTestId('staff-new').isVisible(), false, 'no new account for a team lead');
    assert.equal(await lead.getByTestId('staff-tab-import').isVisible(), false, 'no import for a team lead');
    // the lead changes bob's level: saved
    const bob = byName(staff, 'bob');
    const skill = bob.skills[0];
    await lead.locator('[data-testid=staff-row][data-username=bob]').getByTestId('staff-edit').click();
    const editor = lead.getByTestId('staff-editor');
    assert.equal(await editor.getByTestId('staff-ed-role').count(), 0, 'a team lead changes the routing profile only');
    const chip = editor.locator(`[data-testid=skill-edit][data-skill="${skill.name}"]`);
    const target = skill.level === 5 ? 4 : skill.level + 1;
    await chip.locator(`[data-testid=skill-dot][data-level="${target}"]`).click();
    await editor.getByTestId('staff-save').click();
    await editor.waitFor({ state: 'detached' });
    assert.equal(byName(await staffList(ada), 'bob').skills.find((k) => k.name === skill.name).level, target);
    await shot(lead, 'console-staff-team-lead.png', { full: false });
  });

  await step('at phone width the list reads as cards, without horizontal scrolling', { needs: ['ada opens Staff: every active account of GET /v1/staff, with its role, skills and capacity'] }, async () => {
    await open(con, '#staff');
    await con.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    const over = await con.evaluate(() => {
      const c = document.getElementById('content');
      const wrap = document.querySelector('#staff-people .table-wrap');
      return { content: c.scrollWidth - c.clientWidth, table: wrap.scrollWidth - wrap.clientWidth };
    });
    assert.ok(over.content <= 0 && over.table <= 1, `overflow: ${JSON.stringify(over)}`);
    await shot(con, 'console-staff-narrow.png', { width: 390 });
  });

  await step('no uncaught page errors', async () => {
    assert.deepEqual(suite.pageErrors, []);
  });
});
