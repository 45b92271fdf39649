// The administration pages Policy, Audit log, Compliance and Health in real headless Chromium
// against a real `ting serve`: a policy edit with an invalid value shows the server's reason at
// its line and changes nothing; a valid edit (file sharing off) takes effect, so a signed-in
// user's room view no longer offers the attach button; the audit log lists the change, verifies
// its hash chain (the head hash shown is the server's) and exports JSON Lines; the compliance
// report renders and downloads as Markdown; the health page shows the version, the storage
// backend and at least one connected device, also at phone width.
// Screenshots: docs/screenshots/admin-policy.png, admin-policy-invalid.png, admin-policy-dark.png,
// admin-audit.png, admin-audit-sv.png, admin-compliance.png, admin-health.png,
// admin-health-narrow.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { shot, suite } from './harness.mjs';
import { login, createRoom, openRoom, openSettings, setLanguage } from './flows.mjs';
import { contrastProblems, focusRing, tabTo } from './a11y.mjs';

const TIMEOUT = 30_000;

let root, bob;
const tokens = new Map();
/** Remembers the session token a page's requests carry (to call the API as that user). */
function watchToken(page, name) {
  page.on('request', (r) => {
    const h = r.headers().authorization;
    if (h?.startsWith('Bearer ')) tokens.set(name, h.slice(7));
  });
}
const s = suite({
  users: ['bob'],
  pages: { root: 'en-GB', bob: 'en-GB' },
  ready: (s) => {
    s.ting.createUser('root', { admin: true });
    ({ root, bob } = s.page);
    watchToken(root, 'root');
    watchToken(bob, 'bob');
  },
});

/** Calls the server's API as `who` (a page signed in before); resolves { status, body }. */
async function api(who, method, path, body) {
  const token = tokens.get(who);
  assert.ok(token, `no session token seen for ${who}`);
  const resp = await fetch(s.ting.url.replace(/\/$/, '') + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: resp.status, body: parsed };
}

/** Scrolls the main pane to the top and moves the pointer away, for a screenshot. */
async function settle(page) {
  await page.mouse.move(0, 0);
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('*')) if (el.scrollTop > 0 && el.tagName !== 'TEXTAREA') el.scrollTop = 0;
  });
}

async function openAdmin(page, section) {
  await page.goto(`${s.ting.url.replace(/\/$/, '')}/#/admin/${section}`);
  await page.getByTestId(`admin-${section}`).waitFor({ timeout: TIMEOUT });
}

/** `document` with the line `key = …` under `[section]` replaced by `key = value`; and its line. */
function setKey(document, section, key, value) {
  const lines = document.split('\n');
  let inSection = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l.startsWith('[')) inSection = l === `[${section}]`;
    else if (inSection && l.startsWith(`${key} `)) {
      lines[i] = `${key} = ${value}`;
      return { text: lines.join('\n'), line: i + 1 };
    }
  }
  throw new Error(`no ${section}.${key} in:\n${document}`);
}

test('an invalid policy shows the server\'s reason at its line and changes nothing', async () => {
  await root.goto(s.ting.url);
  await login(root, 'root');
  await openAdmin(root, 'policy');
  const editor = root.getByTestId('policy-editor');
  await editor.waitFor({ timeout: TIMEOUT });
  const before = (await api('root', 'GET', '/api/v1/admin/policy')).body;
  assert.equal(await editor.inputValue(), before.document, 'the editor holds the policy in effect');
  assert.equal(await root.getByTestId('policy-current').getAttribute('data-revision'), String(before.revision));

  // Guests cannot be admitted by this build: the server refuses and names the line.
  const { text, line } = setKey(before.document, 'features', 'guest_access', 'true');
  const expected = (await api('root', 'POST', '/api/v1/admin/policy/check', { document: text })).body;
  assert.equal(expected.valid, false);
  await editor.fill(text);
  const problem = root.getByTestId('policy-problem').first();
  await problem.waitFor({ timeout: TIMEOUT });
  assert.ok((await problem.textContent()).includes(expected.problems[0].message), 'the server\'s own reason is shown');
  assert.equal(expected.problems[0].line, line, 'the server names the edited line');
  assert.equal(await problem.getAttribute('data-line'), String(line));
  await root.locator(`[data-testid="policy-gutter"] [data-line="${line}"][data-bad="true"]`).waitFor({ timeout: TIMEOUT });
  assert.equal(await root.getByTestId('policy-save').isDisabled(), true, 'an invalid policy cannot be saved');
  // The problem's line button selects that line in the editor.
  await problem.getByRole('button').click();
  const selected = await editor.evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));
  assert.equal(selected, 'guest_access = true');
  await settle(root);
  await shot(root, 'admin-policy-invalid');

  // Saving it anyway through the API is refused with the same reason; nothing changes.
  const put = await api('root', 'PUT', '/api/v1/admin/policy', { document: text });
  assert.equal(put.status, 400);
  assert.equal(put.body.code, 'invalid_policy');
  assert.equal(put.body.line, line);
  const after = (await api('root', 'GET', '/api/v1/admin/policy')).body;
  assert.equal(after.revision, before.revision, 'the revision is unchanged');
  assert.equal(after.document, before.document);
  await root.getByTestId('policy-revert').click();
  await root.getByTestId('policy-problem').waitFor({ state: 'detached', timeout: TIMEOUT });
});

test('a valid policy takes effect: with file sharing off the room view hides the attach button', async () => {
  await bob.goto(s.ting.url);
  await login(bob, 'bob');
  await createRoom(bob, 'Ops');
  await bob.getByTestId('attach').waitFor({ timeout: TIMEOUT });

  const before = (await api('root', 'GET', '/api/v1/admin/policy')).body;
  const { text } = setKey(before.document, 'features', 'file_sharing', 'false');
  await root.getByTestId('policy-editor').fill(text);
  const effects = root.getByTestId('policy-effects');
  await effects.waitFor({ timeout: TIMEOUT });
  assert.match(await effects.textContent(), /Files can no longer be shared\./);
  assert.match(await root.getByTestId('policy-diff').textContent(), /\+ file_sharing = false/);
  assert.match(await root.getByTestId('policy-diff').textContent(), /− file_sharing = true/);
  await settle(root);
  await shot(root, 'admin-policy');
  assert.deepEqual((await contrastProblems(root)).problems, [], 'light: every text meets AA');
  await root.emulateMedia({ colorScheme: 'dark' });
  await root.waitForTimeout(400); // let colour transitions finish
  await shot(root, 'admin-policy-dark');
  assert.deepEqual((await contrastProblems(root)).problems, [], 'dark: every text meets AA');
  await root.emulateMedia({ colorScheme: 'light' });

  // Saved from the keyboard: Tab from the editor reaches Save, which shows its focus.
  await root.getByTestId('policy-editor').focus();
  await tabTo(root, 'policy-save', 5);
  assert.equal((await focusRing(root)).visible, true, 'Save shows keyboard focus');
  await root.keyboard.press('Enter');
  await root.locator('[data-testid="policy-status"]', { hasText: `Saved as revision ${before.revision + 1}` }).waitFor({ timeout: TIMEOUT });
  const after = (await api('root', 'GET', '/api/v1/admin/policy')).body;
  assert.equal(after.revision, before.revision + 1);
  assert.match(after.document, /file_sharing = false/);
  assert.equal(await root.getByTestId('policy-current').getAttribute('data-revision'), String(after.revision));
  const rev = root.locator(`[data-testid="policy-revision"][data-revision="${after.revision}"]`);
  await rev.waitFor({ timeout: TIMEOUT });
  await rev.getByTestId('policy-revision-diff').click();
  assert.match(await rev.textContent(), /\+ file_sharing = false/);

  // Users see it: the client policy says so and the room view no longer offers attaching.
  assert.equal((await api('bob', 'GET', '/api/v1/policy')).body.file_sharing, false);
  await bob.reload();
  await bob.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
  await openRoom(bob, 'Ops');
  await bob.locator('#composer-text').waitFor({ timeout: TIMEOUT });
  await bob.waitForFunction(() => !document.querySelector('[data-testid="attach"]'), null, { timeout: TIMEOUT });

  // Administration stays closed to everyone else.
  const refused = await api('bob', 'GET', '/api/v1/admin/policy');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'admin_only');
});

test('the audit log lists the policy change, verifies its chain and exports JSON Lines', async () => {
  await openAdmin(root, 'audit');
  const verification = (await api('root', 'GET', '/api/v1/admin/audit/verify')).body;
  assert.equal(verification.ok, true);
  await root.getByTestId('audit-verified').waitFor({ timeout: TIMEOUT });
  const head = (await root.getByTestId('audit-head-hash').textContent()).trim();
  const now = (await api('root', 'GET', '/api/v1/admin/audit/verify')).body;
  assert.ok([verification.head_hash, now.head_hash].includes(head), 'the head hash shown is the server\'s');
  await root.locator('[data-testid="audit-record"][data-event="policy_changed"]').first().waitFor({ timeout: TIMEOUT });
  await shot(root, 'admin-audit');
  assert.deepEqual((await contrastProblems(root)).problems, [], 'every text meets AA');

  // Filter by event: only policy changes remain.
  await root.getByTestId('audit-event').selectOption('policy_changed');
  await root.getByTestId('audit-apply').click();
  await root.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="audit-record"]')];
    return rows.length > 0 && rows.every((r) => r.dataset.event === 'policy_changed');
  }, null, { timeout: TIMEOUT });
  await root.getByTestId('audit-actor').fill('root');
  await root.getByTestId('audit-apply').click();
  await root.getByTestId('audit-verified').waitFor({ timeout: TIMEOUT });

  const [download] = await Promise.all([root.waitForEvent('download'), root.getByTestId('audit-export').click()]);
  assert.equal(download.suggestedFilename(), 'ting-audit.jsonl');
  const lines = readFileSync(await download.path(), 'utf8').split('\n').filter(Boolean);
  assert.ok(lines.length >= 1, 'the export holds the filtered records');
  const records = lines.map((l) => JSON.parse(l));
  assert.ok(records.every((r) => r.event === 'policy_changed'), 'the export follows the filter');

  // In Swedish.
  await openSettings(root);
  await setLanguage(root, 'sv');
  await openAdmin(root, 'audit');
  await root.getByRole('heading', { name: 'Granskningslogg' }).waitFor({ timeout: TIMEOUT });
  await root.getByTestId('audit-verified').waitFor({ timeout: TIMEOUT });
  assert.match(await root.getByTestId('audit-verified').textContent(), /Kedjan är verifierad/);
  await shot(root, 'admin-audit-sv');
  await openSettings(root);
  await setLanguage(root, 'en');
});

test('the compliance report renders and downloads as Markdown', async () => {
  await openAdmin(root, 'compliance');
  const report = (await api('root', 'GET', '/api/v1/admin/compliance')).body;
  assert.ok(report.sections.length > 0);
  await root.getByTestId('compliance-section').first().waitFor({ timeout: TIMEOUT });
  assert.equal(await root.getByTestId('compliance-section').count(), report.sections.length);
  assert.equal((await root.locator('#report-title').textContent()).trim(), report.title);
  for (const sec of report.sections) {
    await root.getByRole('heading', { name: sec.heading, exact: true }).waitFor({ timeout: TIMEOUT });
  }
  assert.ok(!(await root.getByTestId('compliance-report').textContent()).includes('`'), 'code spans are rendered, not shown as backticks');
  await shot(root, 'admin-compliance');

  const [download] = await Promise.all([root.waitForEvent('download'), root.getByTestId('compliance-markdown').click()]);
  assert.equal(download.suggestedFilename(), 'ting-compliance.md');
  const md = readFileSync(await download.path(), 'utf8');
  assert.ok(md.includes(report.title), 'the Markdown file is the same report');
  for (const sec of report.sections) assert.ok(md.includes(sec.heading), `the Markdown file has "${sec.heading}"`);
});

test('the health page shows version, storage and connected devices, also at phone width', async () => {
  await openAdmin(root, 'health');
  const health = (await api('root', 'GET', '/api/v1/admin/health')).body;
  await root.getByTestId('health-version').waitFor({ timeout: TIMEOUT });
  assert.equal((await root.getByTestId('health-version').textContent()).trim(), health.version);
  assert.ok((await root.getByTestId('health-store').textContent()).includes(health.store_backend));
  assert.equal(await root.getByTestId('health-store-ok').getAttribute('data-ok'), 'true');
  const devices = Number((await root.getByTestId('health-devices').textContent()).replace(/\D/g, ''));
  assert.ok(devices >= 1, `connected devices shown: ${devices}`);
  assert.match(await root.getByTestId('health-cannot-see').textContent(), /cannot see/);
  await shot(root, 'admin-health');

  await root.setViewportSize({ width: 375, height: 812 });
  await root.getByTestId('health-version').waitFor({ timeout: TIMEOUT });
  const overflow = await root.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at 375 px (${overflow} px)`);
  await shot(root, 'admin-health-narrow');
  await root.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(root.problems.filter((p) => !p.includes('403')), []);
});
