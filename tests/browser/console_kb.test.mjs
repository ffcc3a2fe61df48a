// End-to-end browser test of the console's Knowledge base section against the real binary.
//
//   cd tests/browser && npm install && node --test console_kb.test.mjs
//
// Env:
//   SWITCHBOARD_BIN   path of the server binary (default <repo>/target/debug/switchboard)
//   CHROMIUM_PATH     browser executable (default /usr/bin/chromium)
//
// Screenshots land in <repo>/target/screenshots/ (console-kb-*.png). Server, browser and step
// runner: harness.mjs. What the console shows is checked against the API's own answers
// (GET /v1/kb/entries, GET /v1/kb/entries/{id}, the responses the page got), not against
// hard-coded demo content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHOTS, assertText, setupSuite, sleep, waitUntil } from './harness.mjs';

const suite = setupSuite({ tmpPrefix: 'switchboard-console-kb-', failurePrefix: 'failure-console-kb-' });

async function api(method, pathname, token, body) {
  const res = await fetch(suite.baseUrl + pathname, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, data: await res.json().catch(() => null) };
}

/** What the console's search matches: every term in the id, a title or a question variant. */
function searchHits(entries, query) {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  return entries.filter((e) => {
    const heads = [e.id, e.title?.zh, e.title?.en].filter(Boolean).map((s) => s.toLowerCase());
    const qs = [...(e.questions?.zh || []), ...(e.questions?.en || [])].map((s) => s.toLowerCase());
    return terms.every((term) => heads.some((h) => h.includes(term)) || qs.some((q) => q.includes(term)));
  }).map((e) => e.id).sort();
}

const pathOf = (r) => new URL(r.url()).pathname;

test('supervisor console: knowledge base, end to end', { timeout: 300_000 }, async (t) => {
  let con, sam;
  let edited = null;     // { id, variant, revision }
  let created = null;    // id of the entry made in the editor
  const step = suite.stepper(t, () => ({ console: con }), { numberShots: true, logTail: 2000 });
  const listed = () => con.getByTestId('kb-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-entry-id')).sort());
  const shownIds = async () => (await listed()).join(',');
  // The console scrolls inside its content pane: grow the viewport to the content for a full shot.
  const shot = async (name, { full = true, width = 1440 } = {}) => {
    await con.evaluate(() => document.querySelectorAll('[data-testid=toast]').forEach((n) => n.remove()));
    const h = full ? await con.evaluate(() => {
      const c = document.getElementById('content');
      return c.scrollHeight + c.getBoundingClientRect().top + 8;
    }) : 900;
    await con.setViewportSize({ width, height: Math.max(900, Math.min(h, 2600)) });
    await sleep(250);
    await con.screenshot({ path: path.join(SHOTS, name), animations: 'disabled' });
    await con.setViewportSize({ width: 1440, height: 900 });
  };
  const openKb = async (hash = '#kb') => {
    await con.evaluate((h) => { location.hash = h; }, hash);
    await con.getByTestId('section-kb').waitFor({ state: 'visible' });
  };
  const listEntries = async () => {
    const r = await api('GET', '/v1/kb/entries', sam);
    assert.equal(r.status, 200, `GET /v1/kb/entries: ${JSON.stringify(r.data)}`);
    return r.data;
  };

  await step('sam logs in and opens the knowledge base', async () => {
    sam = (await api('POST', '/v1/auth/login', null, { username: 'sam', password: 'demo' })).data.token;
    con = await suite.newPage('console');
    await con.goto(suite.baseUrl + '/console');
    await con.getByTestId('login-username').fill('sam');
    await con.getByTestId('login-password').fill('demo');
    await con.getByTestId('login-submit').click();
    await con.getByTestId('console-view').waitFor({ state: 'visible' });
    await assertText(con.getByTestId('nav-kb'), /Knowledge base/);
    await con.getByTestId('nav-kb').click();
    await con.getByTestId('section-kb').waitFor({ state: 'visible' });
    assert.equal(await con.getByTestId('nav-kb').getAttribute('aria-current'), 'page');
    await assertText(con.getByTestId('kb-title'), /^Knowledge base$/);
  });

  await step('the list shows every entry of GET /v1/kb/entries, with the revision', { needs: ['sam logs in and opens the knowledge base'] }, async () => {
    const data = await listEntries();
    const ids = data.entries.map((e) => e.id).sort();
    assert.ok(ids.length > 0, 'the demo has entries');
    await waitUntil(async () => (await shownIds()) === ids.join(','), `the ${ids.length} entries of the API in the list`);
    const count = con.getByTestId('kb-count');
    assert.equal(await count.getAttribute('data-total'), String(ids.length));
    assert.equal(await count.getAttribute('data-shown'), String(ids.length));
    const pill = con.getByTestId('kb-revision');
    await waitUntil(async () => (await pill.getAttribute('data-revision')) === String(data.revision), `revision ${data.revision} shown`);
    await assertText(pill, new RegExp(`Revision ${data.revision}\\b`));
    // one row, in detail: title (UI language), id, status, question count, tags, intent
    const e = data.entries[0];
    const row = con.locator(`[data-testid=kb-row][data-entry-id="${e.id}"]`);
    await assertText(row.getByTestId('kb-row-title'), new RegExp((e.title?.en || e.title?.zh || e.id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(await row.getByTestId('kb-row-id').innerText(), e.id);
    assert.equal(await row.getByTestId('kb-status').getAttribute('data-status'), e.status || 'published');
    const nq = (e.questions?.zh?.length || 0) + (e.questions?.en?.length || 0);
    assert.equal(await row.getByTestId('kb-row-questions').getAttribute('data-count'), String(nq));
    // the status chips count what the API lists
    for (const s of ['published', 'draft', 'archived']) {
      const n = data.entries.filter((x) => (x.status || 'published') === s).length;
      await assertText(con.locator(`[data-testid=kb-filter-status][data-status=${s}]`), new RegExp(`\\b${n}$`));
    }
    await shot('console-kb-list.png', { full: false });
  });

  await step('searching 退款 narrows the list to the entries that contain it', { needs: ['the list shows every entry of GET /v1/kb/entries, with the revision'] }, async () => {
    const data = await listEntries();
    const want = searchHits(data.entries, '退款');
    assert.ok(want.length > 0 && want.length < data.entries.length, `退款 picks some entries, not all: ${want}`);
    await con.getByTestId('kb-search').fill('退款');
    await waitUntil(async () => (await shownIds()) === want.join(','), `the ${want.length} entries containing 退款`).catch(async (e) => {
      e.message += ` (shown: ${await shownIds()}; want: ${want})`;
      throw e;
    });
    assert.equal(await con.getByTestId('kb-count').getAttribute('data-shown'), String(want.length));
    // every hit shows where the word is: its title / id, or the matching question
    for (const id of want) {
      const row = con.locator(`[data-testid=kb-row][data-entry-id="${id}"]`);
      assert.match(await row.innerText(), /退款/, `row ${id} shows the word`);
      assert.ok(await row.locator('mark').count() > 0, `row ${id} marks the word`);
    }
    // a word no entry has: an empty state, and "Clear filters" brings everything back
    await con.getByTestId('kb-search').fill('退款 zzqqxx');
    await assertText(con.getByTestId('kb-list-view').getByTestId('empty-state'), /No entry matches/);
    await con.getByTestId('kb-clear-filters').click();
    await waitUntil(async () => (await listed()).length === data.entries.length, 'all entries again');
    assert.equal(await con.getByTestId('kb-search').inputValue(), '');
    // the status filter keeps the entries of that status only
    const drafts = data.entries.filter((x) => x.status === 'draft').map((x) => x.id).sort().join(',');
    await con.locator('[data-testid=kb-filter-status][data-status=draft]').click();
    await waitUntil(async () => (await shownIds()) === drafts, 'the drafts only');
    await con.locator('[data-testid=kb-filter-status][data-status=all]').click();
    await waitUntil(async () => (await listed()).length === data.entries.length, 'all entries again');
    await con.getByTestId('kb-search').fill('退款');
    await waitUntil(async () => (await shownIds()) === want.join(','), 'the 退款 entries again');
    await shot('console-kb-search.png', { full: false });
  });

  await step('a question variant added in the editor is stored, and the bot answers it with that entry', { needs: ['searching 退款 narrows the list to the entries that contain it'] }, async () => {
    const before = await listEntries();
    // the first entry the search left
    const row = con.getByTestId('kb-row').first();
    const id = await row.getAttribute('data-entry-id');
    await row.getByTestId('kb-row-title').click();
    const editor = con.getByTestId('kb-editor');
    await editor.waitFor({ state: 'visible' });
    await waitUntil(async () => (await con.evaluate(() => location.hash)) === `#kb/${id}`, 'the entry in the address');
    await assertText(con.getByTestId('kb-editor-id'), new RegExp(`^${id}$`));
    const stored = (await api('GET', `/v1/kb/entries/${id}`, sam)).data;
    assert.equal(await con.getByTestId('kb-f-id').inputValue(), id);
    assert.equal(await con.getByTestId('kb-f-id').getAttribute('readonly'), '', 'the id cannot be changed');
    assert.equal(await con.getByTestId('kb-f-q-zh').inputValue(), (stored.questions.zh || []).join('\n'));
    assert.equal(await con.getByTestId('kb-f-q-en').inputValue(), (stored.questions.en || []).join('\n'));
    assert.equal(await con.getByTestId('kb-f-ans-en').inputValue(), stored.answer.en || '');
    assert.equal(await con.locator(`[data-testid=kb-f-status-${stored.status}]`).isChecked(), true);

    // a new variant the bot cannot know yet (made-up words)
    const variant = `zebra quokka check ${1000 + Math.floor(Math.random() * 9000)}`;
    const q = con.getByTestId('kb-f-q-en');
    await q.click();
    await q.press('Control+End');
    await q.pressSequentially(`\n${variant}`);
    await con.getByTestId('kb-dirty').waitFor({ state: 'visible' });
    const put = con.waitForResponse((r) => r.request().method() === 'PUT' && pathOf(r) === `/v1/kb/entries/${id}`);
    await con.getByTestId('kb-save').click();
    const res = await put;
    assert.equal(res.status(), 200, `PUT answered ${res.status()}`);
    const { revision } = await res.json();
    assert.ok(revision > before.revision, `revision ${revision} > ${before.revision}`);
    await con.getByTestId('kb-dirty').waitFor({ state: 'hidden' });
    await assertText(con.getByTestId('toasts'), new RegExp(`revision ${revision}`));

    // stored: the variant is there, the rest unchanged, the revision increased
    const after = (await api('GET', `/v1/kb/entries/${id}`, sam)).data;
    assert.ok(after.questions.en.includes(variant), `stored variants: ${JSON.stringify(after.questions.en)}`);
    assert.deepEqual(after.questions.zh || [], stored.questions.zh || []);
    assert.deepEqual(after.answer, stored.answer);
    assert.deepEqual(after.channel_answers || {}, stored.channel_answers || {});
    assert.deepEqual(after.tags || [], stored.tags || []);
    assert.equal(after.status, stored.status);
    const list = await listEntries();
    assert.ok(list.revision >= revision, `list revision ${list.revision} ≥ ${revision}`);
    edited = { id, variant, revision };

    // The editor is named, not shown as an id: GET /v1/me gives the console sam's name.
    const me = (await api('GET', '/v1/me', sam)).data;
    assert.equal(after.updated_by, me.agent_id, 'the API records who saved');
    assert.equal(after.updated_by_name, me.name, 'and names them');
    await assertText(con.locator('#kb-ed-meta'), new RegExp(me.name));
    await assertText(con.getByTestId('me-name'), new RegExp(me.name));
    assert.ok(!/agt_/.test(await con.locator('#kb-ed-meta').innerText()), 'no raw id in the editor');

    // the bot retrains in the background: the console follows it until it is up to date
    const pill = con.getByTestId('kb-revision');
    await waitUntil(async () => Number(await pill.getAttribute('data-bot-revision')) >= revision
      && (await pill.getAttribute('data-state')) === 'ready', 'the bot to learn the change', 60_000);
    assert.ok((await listEntries()).bot_revision >= revision, 'the API agrees');
    await assertText(pill, /Bot up to date/);
    await shot('console-kb-editor.png');
  });

  await step('"Try a question" with the new variant shows that entry as the match', { needs: ['a question variant added in the editor is stored, and the bot answers it with that entry'] }, async () => {
    const { id, variant, revision } = edited;
    await openKb('#kb');
    await con.getByTestId('kb-list-view').waitFor({ state: 'visible' });
    await con.getByTestId('kb-try-text').fill(variant);
    let shown = null;
    // bounded: the bot may still be swapping in the retrained model
    await waitUntil(async () => {
      const resp = con.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r) === '/v1/kb/match');
      await con.getByTestId('kb-try-submit').click();
      const r = await resp;
      assert.equal(r.status(), 200);
      shown = await r.json();
      await con.locator('[data-testid=kb-try-result]:not([data-state=loading]):not([data-state=idle])').waitFor();
      if (shown.revision >= revision && (await con.getByTestId('kb-try-result').getAttribute('data-entry-id')) === id) return true;
      await sleep(500);
      return false;
    }, `the bot to answer “${variant}” with ${id}`, 30_000).catch((e) => { e.message += ` (last answer: ${JSON.stringify(shown)})`; throw e; });
    const result = con.getByTestId('kb-try-result');
    assert.equal(await result.getAttribute('data-state'), 'answered');
    // the API names the entry that answered, and the panel shows that one
    assert.equal(shown.outcome, 'answered');
    assert.equal(shown.entry_id, id);
    const match = con.getByTestId('kb-try-match');
    assert.equal(await match.getAttribute('data-entry-id'), id);
    const entry = (await api('GET', `/v1/kb/entries/${id}`, sam)).data;
    await assertText(match, new RegExp((entry.title?.en || entry.title?.zh || id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    // the confidence the API gave, as a percentage and a bar
    const pct = `${Math.round(shown.confidence * 100)}%`;
    await assertText(con.getByTestId('kb-try-confidence'), new RegExp(`^${pct}$`));
    assert.equal(await con.getByTestId('kb-try-confidence').locator('[role=meter]').getAttribute('aria-valuenow'), String(Math.round(shown.confidence * 100)));
    assert.equal((await con.getByTestId('kb-try-answer').innerText()).trim(), shown.answer.trim());
    await assertText(con.getByTestId('kb-try-revision'), new RegExp(`Bot revision ${shown.revision}`));
    await shot('console-kb-try.png', { full: false });
    // the match opens its entry
    await match.click();
    await con.getByTestId('kb-editor').waitFor({ state: 'visible' });
    await assertText(con.getByTestId('kb-editor-id'), new RegExp(`^${id}$`));
  });

  await step('a save over another supervisor\'s newer version is refused, their change stands, and theirs can be loaded', { needs: ['a question variant added in the editor is stored, and the bot answers it with that entry'] }, async () => {
    const { id } = edited;
    await openKb(`#kb/${id}`);
    await con.getByTestId('kb-editor').waitFor({ state: 'visible' });
    await waitUntil(async () => (await con.getByTestId('kb-f-id').inputValue()) === id, 'the entry in the form');
    // Meanwhile another supervisor saves the entry, on the version they read.
    const read = await fetch(`${suite.baseUrl}/v1/kb/entries/${id}`, { headers: { authorization: `Bearer ${sam}` } });
    const version = read.headers.get('etag');
    assert.ok(version, 'GET answers an ETag');
    const theirs = await read.json();
    theirs.answer = { ...theirs.answer, en: `${theirs.answer.en || ''} (updated by a colleague)` };
    const put = await fetch(`${suite.baseUrl}/v1/kb/entries/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sam}`, 'if-match': version },
      body: JSON.stringify(theirs),
    });
    assert.equal(put.status, 200, `the colleague's save: ${await put.text()}`);
    // Now this form saves its own change over the version it loaded: refused.
    const mine = con.getByTestId('kb-f-ans-en');
    await mine.click();
    await mine.press('Control+End');
    await mine.pressSequentially(' (my edit)');
    const refused = con.waitForResponse((r) => r.request().method() === 'PUT' && pathOf(r) === `/v1/kb/entries/${id}`);
    await con.getByTestId('kb-save').click();
    const res = await refused;
    assert.equal(res.status(), 412, `the stale save answered ${res.status()}`);
    assert.equal(res.request().headers()['if-match'], version, 'the console sent the version it had loaded');
    await assertText(con.getByTestId('kb-confirm-text'), /Someone else saved this entry/);
    assert.equal(await con.getByTestId('kb-confirm').getAttribute('role'), 'alertdialog');
    // Nothing of this form was stored; the edits are still in it.
    const stored = (await api('GET', `/v1/kb/entries/${id}`, sam)).data;
    assert.equal(stored.answer.en, theirs.answer.en);
    assert.ok((await mine.inputValue()).endsWith('(my edit)'), 'the edits stay in the form');
    await shot('console-kb-conflict.png', { full: false });
    // Loading the latest version shows the colleague's answer and nothing left unsaved.
    await con.getByTestId('kb-load-latest').click();
    await waitUntil(async () => (await mine.inputValue()) === theirs.answer.en, 'the latest version in the form');
    await con.getByTestId('kb-dirty').waitFor({ state: 'hidden' });
  });

  await step('an out-of-scope question gets "I don\'t know" or "did you mean", as the API says', { needs: ['sam logs in and opens the knowledge base'] }, async () => {
    await openKb('#kb');
    const text = 'who painted the mona lisa';
    await con.getByTestId('kb-try-text').fill(text);
    const resp = con.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r) === '/v1/kb/match');
    await con.getByTestId('kb-try-text').press('Enter');
    const shown = await (await resp).json();
    await con.locator('[data-testid=kb-try-result]:not([data-state=loading]):not([data-state=idle])').waitFor();
    const state = await con.getByTestId('kb-try-result').getAttribute('data-state');
    // the panel shows the outcome the API named
    const panelOutcome = { answered: 'answered', did_you_mean: 'unsure', dont_know: 'unknown', small_talk: 'smalltalk', handoff: 'handoff', flow: 'flow' }[shown.outcome];
    assert.ok(['dont_know', 'did_you_mean'].includes(shown.outcome), `an out-of-scope question is not answered: ${JSON.stringify(shown)}`);
    assert.equal(state, panelOutcome, `for ${JSON.stringify(shown)}`);
    if (shown.outcome === 'did_you_mean' || shown.outcome === 'dont_know') {
      const unsure = shown.outcome === 'did_you_mean';
      await assertText(con.getByTestId('kb-try-outcome'), unsure ? /did you mean/i : /I don't know/);
      assert.equal(await con.getByTestId('kb-try-match').count(), 0, 'no matched entry');
      // the entries the API offered, in its order, those the bot suggests marked
      const shownCands = await con.getByTestId('kb-try-candidate').evaluateAll((ns) => ns.map((n) => [n.getAttribute('data-entry-id'), n.getAttribute('data-suggested')]));
      assert.deepEqual(shownCands, shown.candidates.map((c) => [c.id, String(shown.suggested.includes(c.id))]));
    } else if (shown.entry_id) {
      assert.equal(await con.getByTestId('kb-try-match').getAttribute('data-entry-id'), shown.entry_id);
    }
    assert.equal((await con.getByTestId('kb-try-answer').innerText()).trim(), shown.answer.trim());
  });

  await step('a new entry with problems shows them next to the fields and stores nothing', { needs: ['sam logs in and opens the knowledge base'] }, async () => {
    const before = await listEntries();
    await openKb('#kb');
    await con.getByTestId('kb-new').click();
    await con.getByTestId('kb-editor').waitFor({ state: 'visible' });
    assert.equal(await con.getByTestId('kb-editor').getAttribute('data-mode'), 'new');
    await con.getByTestId('kb-f-id').fill('Bad Id!');
    await con.getByTestId('kb-f-title-en').fill('Gift wrapping');
    await con.getByTestId('kb-f-q-en').fill('can you gift wrap my order\ndo you offer gift wrapping');
    // no answer in either language
    const post = con.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r) === '/v1/kb/entries');
    await con.getByTestId('kb-save').click();
    const res = await post;
    assert.equal(res.status(), 422);
    const body = await res.json();
    const problems = body.problems;
    assert.ok(problems.some((p) => p.path === 'id') && problems.some((p) => p.path === 'answer'), JSON.stringify(problems));
    await con.getByTestId('kb-problems').waitFor({ state: 'visible' });
    assert.equal(await con.getByTestId('kb-problem').count(), problems.length);
    for (const p of problems) {
      const inline = con.locator(`[data-testid=kb-field-error][data-field="${p.path}"]`);
      await inline.waitFor({ state: 'visible' });
      assert.match(await inline.innerText(), new RegExp(p.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
    assert.equal(await con.getByTestId('kb-f-id').getAttribute('aria-invalid'), 'true');
    await shot('console-kb-editor-errors.png', { full: false });
    // nothing stored
    const now = await listEntries();
    assert.equal(now.revision, before.revision, 'the revision did not move');
    assert.deepEqual(now.entries.map((e) => e.id).sort(), before.entries.map((e) => e.id).sort());
  });

  await step('fixing the entry and saving (Ctrl+S) creates it; deleting it removes it', { needs: ['a new entry with problems shows them next to the fields and stores nothing'] }, async () => {
    const id = `gift_wrap_${Date.now().toString(36)}`;
    await con.getByTestId('kb-f-id').fill(id);
    await con.locator('[data-testid=kb-field-error][data-field=id]').waitFor({ state: 'hidden' });
    await con.getByTestId('kb-f-title-zh').fill('礼品包装');
    await con.getByTestId('kb-f-q-zh').fill('可以帮我包装成礼物吗\n有礼品包装服务吗');
    await con.getByTestId('kb-f-ans-zh').fill('可以。下单时在“订单备注”中选择“礼品包装”，每件加收 5 元。');
    await con.getByTestId('kb-f-ans-en').fill('Yes: choose “Gift wrapping” in the order notes when you check out. It costs ¥5 per item.');
    await con.getByTestId('kb-f-ch-sms-en').fill('Gift wrap: pick it in the order notes, ¥5/item.');
    await con.getByTestId('kb-f-status-draft').check();
    await con.getByTestId('kb-f-tags').fill('orders, gifts');
    await con.getByTestId('kb-f-skill').fill('orders');
    const post = con.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r) === '/v1/kb/entries');
    await con.getByTestId('kb-f-ans-en').press('Control+s');
    const res = await post;
    assert.equal(res.status(), 201, `POST answered ${res.status()}`);
    created = id;
    await con.getByTestId('kb-problems').waitFor({ state: 'hidden' });
    await waitUntil(async () => (await con.evaluate(() => location.hash)) === `#kb/${id}`, 'the new entry in the address');
    assert.equal(await con.getByTestId('kb-editor').getAttribute('data-mode'), 'edit');
    const got = await api('GET', `/v1/kb/entries/${id}`, sam);
    assert.equal(got.status, 200);
    const e = got.data;
    assert.equal(e.status, 'draft');
    assert.deepEqual(e.title, { zh: '礼品包装', en: 'Gift wrapping' });
    assert.deepEqual(e.questions, { zh: ['可以帮我包装成礼物吗', '有礼品包装服务吗'], en: ['can you gift wrap my order', 'do you offer gift wrapping'] });
    assert.equal(e.answer.zh, '可以。下单时在“订单备注”中选择“礼品包装”，每件加收 5 元。');
    assert.deepEqual(e.channel_answers, { sms: { en: 'Gift wrap: pick it in the order notes, ¥5/item.' } });
    assert.deepEqual(e.tags, ['orders', 'gifts']);
    assert.equal(e.skill, 'orders');
    assert.equal(e.intent, undefined, 'no intent given: none stored');
    // the list has it, as a draft
    await con.getByTestId('kb-back').click();
    await con.getByTestId('kb-list-view').waitFor({ state: 'visible' });
    await con.getByTestId('kb-search').fill('');
    const row = con.locator(`[data-testid=kb-row][data-entry-id="${id}"]`);
    await row.waitFor();
    assert.equal(await row.getByTestId('kb-status').getAttribute('data-status'), 'draft');
    // by whom: sam's display name (GET /v1/me), not an id
    const { name } = (await api('GET', '/v1/me', sam)).data;
    await assertText(row.getByTestId('kb-row-updated'), new RegExp(`by ${name}`));

    // delete, with a confirmation step
    await row.getByTestId('kb-row-title').click();
    await con.getByTestId('kb-editor').waitFor({ state: 'visible' });
    await con.getByTestId('kb-delete').click();
    await assertText(con.getByTestId('kb-confirm'), new RegExp(`Delete[\\s\\S]*${id}`));
    await con.getByTestId('kb-confirm').getByTestId('kb-confirm-cancel').click();
    await con.getByTestId('kb-confirm').waitFor({ state: 'hidden' });
    assert.equal((await api('GET', `/v1/kb/entries/${id}`, sam)).status, 200, 'cancel keeps it');
    await con.getByTestId('kb-delete').click();
    const del = con.waitForResponse((r) => r.request().method() === 'DELETE' && pathOf(r) === `/v1/kb/entries/${id}`);
    await con.getByTestId('kb-delete-confirm').click();
    assert.equal((await del).status(), 200);
    await con.getByTestId('kb-list-view').waitFor({ state: 'visible' });
    assert.equal((await api('GET', `/v1/kb/entries/${id}`, sam)).status, 404, 'deleted');
    await waitUntil(async () => (await con.locator(`[data-testid=kb-row][data-entry-id="${id}"]`).count()) === 0, 'the row to go');
    created = null;
  });

  await step('leaving an editor with unsaved changes asks first', { needs: ['a question variant added in the editor is stored, and the bot answers it with that entry'] }, async () => {
    const { id } = edited;
    await openKb(`#kb/${id}`);
    await con.getByTestId('kb-editor').waitFor({ state: 'visible' });
    await waitUntil(async () => (await con.getByTestId('kb-f-title-en').inputValue()) !== '', 'the form filled');
    const title = await con.getByTestId('kb-f-title-en').inputValue();
    await con.getByTestId('kb-f-title-en').fill(title + ' (edited)');
    await con.getByTestId('nav-live').click();
    await assertText(con.getByTestId('kb-confirm'), /Leave without saving\?/);
    assert.equal(await con.getByTestId('section-kb').isVisible(), true, 'still in the editor');
    assert.equal(await con.evaluate(() => location.hash), `#kb/${id}`);
    await con.getByTestId('kb-confirm').getByTestId('kb-confirm-cancel').click();
    assert.equal(await con.getByTestId('kb-f-title-en').inputValue(), title + ' (edited)', 'the edit is kept');
    await con.getByTestId('kb-back').click();
    await con.getByTestId('kb-leave-ok').click();
    await con.getByTestId('kb-list-view').waitFor({ state: 'visible' });
    assert.equal((await api('GET', `/v1/kb/entries/${id}`, sam)).data.title.en, title, 'nothing saved');
  });

  await step('export downloads the knowledge base; import merges a CSV and reports problems', { needs: ['sam logs in and opens the knowledge base'] }, async () => {
    await openKb('#kb');
    const data = await listEntries();
    // CSV export: a download with every entry
    await con.getByTestId('kb-export-open').click();
    const dl = con.waitForEvent('download');
    await con.getByTestId('kb-export-csv').click();
    const download = await dl;
    assert.match(download.suggestedFilename(), /\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\uFEFFid,'), 'a BOM, then the header');
    for (const e of data.entries) assert.ok(csv.includes(`\n${e.id},`), `${e.id} exported`);
    // JSON export too
    await con.getByTestId('kb-export-open').click();
    const dl2 = con.waitForEvent('download');
    await con.getByTestId('kb-export-json').click();
    const doc = JSON.parse(readFileSync(await (await dl2).path(), 'utf8'));
    assert.deepEqual(doc.entries.map((e) => e.id).sort(), data.entries.map((e) => e.id).sort());

    // import a CSV (merge)
    await con.getByTestId('kb-import-open').click();
    await con.getByTestId('kb-import').waitFor({ state: 'visible' });
    const id = `imported_${Date.now().toString(36)}`;
    const header = 'id,status,intent,skill,tags,title_zh,title_en,questions_zh,questions_en,keywords_zh,keywords_en,answer_zh,answer_en,answer_sms_zh,answer_sms_en';
    const line = `${id},draft,,,imported,导入测试,Import test,导入的问题|另一个问法,an imported question,,,导入的答案,An imported answer,,`;
    await con.getByTestId('kb-import-file').setInputFiles({ name: 'kb-import.csv', mimeType: 'text/csv', buffer: Buffer.from(`${header}\n${line}\n`) });
    const imp = con.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r) === '/v1/kb/import');
    await con.getByTestId('kb-import-run').click();
    const r = await imp;
    assert.equal(r.status(), 200);
    assert.match(r.url(), /mode=merge/);
    const out = await r.json();
    const result = con.getByTestId('kb-import-result');
    await result.waitFor({ state: 'visible' });
    assert.equal(await result.getAttribute('data-outcome'), 'ok');
    assert.equal(await result.getAttribute('data-imported'), String(out.imported));
    await assertText(result, new RegExp(`Imported 1 entry[\\s\\S]*revision ${out.revision}`));
    const got = await api('GET', `/v1/kb/entries/${id}`, sam);
    assert.equal(got.status, 200);
    assert.deepEqual(got.data.questions, { zh: ['导入的问题', '另一个问法'], en: ['an imported question'] });
    assert.equal((await listEntries()).entries.length, data.entries.length + 1, 'merge kept the others');
    await con.locator(`[data-testid=kb-row][data-entry-id="${id}"]`).waitFor();

    // a CSV with problems: listed, nothing stored
    const rev = (await listEntries()).revision;
    await con.getByTestId('kb-import-file').setInputFiles({ name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from('id,status,answer_en\nBAD ID,published,hi\n') });
    const bad = con.waitForResponse((x) => x.request().method() === 'POST' && pathOf(x) === '/v1/kb/import');
    await con.getByTestId('kb-import-run').click();
    const br = await bad;
    assert.equal(br.status(), 422);
    const probs = (await br.json()).problems;
    await waitUntil(async () => (await result.getAttribute('data-outcome')) === 'problems', 'the problems');
    assert.equal(await result.getByTestId('kb-import-problem').count(), probs.length);
    await assertText(result, new RegExp(probs[0].message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal((await listEntries()).revision, rev, 'nothing stored');

    // replace asks first; cancelling sends nothing
    const sent = [];
    const onReq = (req) => { if (pathOf(req) === '/v1/kb/import') sent.push(req.url()); };
    con.on('request', onReq);
    await con.getByTestId('kb-import-file').setInputFiles({ name: 'kb-import.csv', mimeType: 'text/csv', buffer: Buffer.from(`${header}\n${line}\n`) });
    await con.getByTestId('kb-import-replace').check();
    await con.getByTestId('kb-import-run').click();
    await assertText(con.getByTestId('kb-import-confirm'), /Replace the whole knowledge base/);
    await con.getByTestId('kb-import-confirm').getByTestId('kb-confirm-cancel').click();
    await sleep(300);
    con.off('request', onReq);
    assert.deepEqual(sent, [], 'nothing sent');
    assert.equal((await listEntries()).entries.length, data.entries.length + 1);
    await con.getByTestId('kb-import-merge').check();
    await con.getByTestId('kb-import-close').click();
    await con.getByTestId('kb-import').waitFor({ state: 'hidden' });
  });

  await step('switching to Chinese translates the section', { needs: ['sam logs in and opens the knowledge base'] }, async () => {
    await openKb('#kb');
    await con.getByTestId('kb-search').fill('');
    await con.getByTestId('kb-row').first().waitFor();
    if (edited) {
      await con.getByTestId('kb-try-text').fill(edited.variant);
      await con.getByTestId('kb-try-submit').click();
      await con.locator('[data-testid=kb-try-result][data-state=answered]').waitFor();
    }
    await con.getByTestId('lang-switch').click();
    await waitUntil(async () => (await con.evaluate(() => document.documentElement.lang)) === 'zh-CN', 'html lang zh-CN');
    await assertText(con.getByTestId('nav-kb'), /知识库/);
    await assertText(con.getByTestId('kb-title'), /^知识库$/);
    await assertText(con.getByTestId('kb-try-title'), /试问一个问题/);
    await assertText(con.getByTestId('kb-new'), /新建条目/);
    await assertText(con.getByTestId('kb-revision'), /修订版本 \d+/);
    await assertText(con.getByTestId('kb-count'), /共 \d+ 个条目/);
    await assertText(con.locator('[data-testid=kb-filter-status][data-status=published]'), /已发布/);
    // titles follow the language: a Chinese title where the entry has one
    const data = await listEntries();
    const e = data.entries.find((x) => x.title?.zh);
    await assertText(con.locator(`[data-testid=kb-row][data-entry-id="${e.id}"]`).getByTestId('kb-row-title'), new RegExp(e.title.zh));
    if (edited) await assertText(con.getByTestId('kb-try-outcome'), /从知识库中作答/);
    await shot('console-kb-zh.png', { full: false });
    // the editor too
    await con.locator(`[data-testid=kb-row][data-entry-id="${e.id}"]`).getByTestId('kb-row-title').click();
    await con.getByTestId('kb-editor').waitFor({ state: 'visible' });
    await assertText(con.getByTestId('kb-back'), /全部条目/);
    await assertText(con.getByTestId('kb-save'), /保存/);
    await shot('console-kb-editor-zh.png', { full: false });
    await con.getByTestId('lang-switch').click();
    await waitUntil(async () => (await con.evaluate(() => document.documentElement.lang)) === 'en', 'back to English');
    await assertText(con.getByTestId('kb-title'), /^Knowledge base$/);
  });

  await step('at 1024 px the section fits without horizontal scrolling', { needs: ['sam logs in and opens the knowledge base'] }, async () => {
    await openKb('#kb');
    await con.getByTestId('kb-list-view').waitFor({ state: 'visible' });
    await con.getByTestId('kb-search').fill('');
    await con.getByTestId('kb-row').first().waitFor();
    await con.setViewportSize({ width: 1024, height: 768 });
    await sleep(300);
    const over = await con.evaluate(() => {
      const c = document.getElementById('content');
      const wrap = document.querySelector('#kb-list-view .table-wrap');
      return { content: c.scrollWidth - c.clientWidth, table: wrap.scrollWidth - wrap.clientWidth };
    });
    assert.ok(over.content <= 0 && over.table <= 1, `overflow: ${JSON.stringify(over)}`);
    await con.screenshot({ path: path.join(SHOTS, 'console-kb-1024.png'), animations: 'disabled' });
    await con.setViewportSize({ width: 1440, height: 900 });
  });

  await step('no uncaught page errors', async () => {
    if (created) await api('DELETE', `/v1/kb/entries/${created}`, sam);
    assert.deepEqual(suite.pageErrors, []);
  });
});
