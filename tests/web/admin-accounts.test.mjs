// Administration › Accounts in real headless Chromium: the first administrator invites someone
// by a one-time link, the invitee signs up through it, signs in and chats with the
// administrator; deactivation signs the invitee out everywhere and refuses sign-in, and
// reactivation lets them back in; a password reset link sets a new password; the last
// administrator cannot be demoted; a non-administrator gets no console and the API refuses
// them. Screenshots: docs/screenshots/admin-accounts*.png, admin-invite.png, invite-signup.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot, PASSWORD } from './harness.mjs';
import { login, loginError, createRoom, openRoom, sendMessage, waitForMessage, openSettings } from './flows.mjs';
import { contrastProblems } from './a11y.mjs';

const TIMEOUT = 30_000;
const NEW_PASSWORD = 'another long password for dana';
let root;
let carol;
let dana;
let invitation;
const s = suite({
  pages: { root: 'en-GB', carol: 'en-GB' },
  ready: async (s) => {
    s.ting.createUser('root', { admin: true });
    s.ting.createUser('carol');
    ({ root, carol } = s.page);
    await carol.goto(s.ting.url);
    await login(carol, 'carol');
    await root.goto(s.ting.url);
    await login(root, 'root');
  },
});

const noToasts = (page) => page.waitForFunction(() => !document.querySelector('[data-testid="toasts"] .toast'), null, { timeout: TIMEOUT });
const row = (page, name) => page.locator(`[data-testid="account-row"][data-username="${name}"]`);

/** Opens Administration › Accounts from settings. */
async function openAccounts(page) {
  await openSettings(page);
  await page.getByTestId('open-admin').click();
  await page.getByTestId('accounts-table').waitFor({ timeout: TIMEOUT });
}

/** Opens an account's dialog (searching for it first). */
async function openAccount(page, name) {
  await page.getByTestId('accounts-search').fill(name);
  await row(page, name).waitFor({ timeout: TIMEOUT });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="account-row"]').length === 1, null, { timeout: TIMEOUT });
  await row(page, name).getByTestId('manage-account').click();
  const dialog = page.getByTestId('account-dialog');
  await dialog.waitFor({ timeout: TIMEOUT });
  return dialog;
}

/** Clicks an action in the open account dialog and confirms it; returns the confirm text. */
async function confirmAction(page, testid) {
  await page.getByTestId('account-dialog').getByTestId(testid).click();
  const confirm = page.getByTestId('confirm-dialog');
  await confirm.waitFor({ timeout: TIMEOUT });
  const text = await confirm.textContent();
  await confirm.getByTestId('confirm').click();
  await confirm.waitFor({ state: 'detached', timeout: TIMEOUT });
  return text;
}

async function closeDialog(page, testid) {
  await page.keyboard.press('Escape');
  await page.getByTestId(testid).waitFor({ state: 'detached', timeout: TIMEOUT });
}

test('the first administrator invites someone by a one-time link', async () => {
  await openAccounts(root);
  assert.equal(await root.getByTestId('admin-nav-accounts').getAttribute('aria-current'), 'page');
  await row(root, 'root').getByTestId('badge-admin').waitFor();
  await root.getByTestId('invite-user').click();
  const dialog = root.getByTestId('invite-user-dialog');
  await dialog.getByTestId('invite-user-name').fill('dana');
  await dialog.getByTestId('invite-user-submit').click();
  const link = dialog.getByTestId('invite-link');
  await link.waitFor({ timeout: TIMEOUT });
  invitation = await link.inputValue();
  assert.match(invitation, new RegExp(`^${s.ting.url.replace(/\/$/, '')}/invite#[A-Za-z0-9_-]{16,}$`));
  assert.match(await dialog.textContent(), /shown only once/);
  await shot(root, 'admin-invite');
  await dialog.getByTestId('link-done').click();
  await dialog.waitFor({ state: 'detached', timeout: TIMEOUT });
  await root.locator('[data-testid="pending-invitation"][data-username="dana"]').waitFor({ timeout: TIMEOUT });

  // The same username cannot be invited twice while its link is pending.
  await root.getByTestId('invite-user').click();
  await dialog.getByTestId('invite-user-name').fill('dana');
  await dialog.getByTestId('invite-user-submit').click();
  await dialog.getByTestId('invite-user-error').waitFor({ timeout: TIMEOUT });
  await closeDialog(root, 'invite-user-dialog');
});

test('the invitee signs up through the link, signs in and chats with the administrator', async () => {
  dana = await newPage(s.browser, { lang: 'en-GB' });
  await dana.goto(invitation);
  const page = dana.getByTestId('invite-page');
  await page.getByTestId('invite-intro').waitFor({ timeout: TIMEOUT });
  assert.equal(await dana.getByTestId('invite-username').inputValue(), 'dana');
  await dana.getByTestId('invite-password').fill(PASSWORD);
  await dana.getByTestId('invite-repeat').fill('something else');
  await dana.getByTestId('invite-submit').click();
  assert.match(await dana.getByTestId('invite-error').textContent(), /do not match/);
  await dana.getByTestId('invite-repeat').fill(PASSWORD);
  assert.equal(await dana.getByTestId('invite-error').count(), 0, 'typing clears the error');
  await shot(dana, 'invite-signup');
  await dana.getByTestId('invite-submit').click();
  await dana.getByTestId('invite-done').waitFor({ timeout: TIMEOUT });
  assert.equal(new URL(dana.url()).hash, '', 'the spent token leaves the address bar');
  await dana.getByTestId('invite-sign-in').click();
  await dana.getByTestId('login-page').waitFor({ timeout: TIMEOUT });
  assert.equal(await dana.getByTestId('login-username').inputValue(), 'dana');
  await login(dana, 'dana');

  // The link works once.
  const again = await newPage(s.browser);
  await again.goto(invitation);
  assert.match(await again.getByTestId('invite-link-error').textContent(), /already been used/);
  await again.context().close();

  await root.goto(`${s.ting.url}#/`);
  await createRoom(root, 'Welcome', { invite: ['dana'] });
  await sendMessage(root, 'Welcome aboard, dana');
  await openRoom(dana, 'Welcome');
  await waitForMessage(dana, 'Welcome aboard, dana');
  await sendMessage(dana, 'Thanks, root');
  await waitForMessage(root, 'Thanks, root');
});

test('accounts: list, search, light, dark, Swedish and phone width', async () => {
  await openAccounts(root);
  for (const name of ['carol', 'dana', 'root']) await row(root, name).waitFor({ timeout: TIMEOUT });
  assert.match(await root.getByTestId('accounts-total').textContent(), /3 accounts/);
  assert.match(await row(root, 'dana').textContent(), /1/, 'dana has one device');
  await root.getByTestId('accounts-search').fill('car');
  await root.waitForFunction(() => document.querySelectorAll('[data-testid="account-row"]').length === 1, null, { timeout: TIMEOUT });
  await row(root, 'carol').waitFor();
  await root.getByTestId('accounts-search').fill('');
  await root.waitForFunction(() => document.querySelectorAll('[data-testid="account-row"]').length === 3, null, { timeout: TIMEOUT });
  await noToasts(root);
  await root.getByTestId('accounts-search').blur();
  await shot(root, 'admin-accounts');
  for (const scheme of ['light', 'dark']) {
    await root.emulateMedia({ colorScheme: scheme });
    const { problems, checked } = await contrastProblems(root);
    assert.ok(checked > 5, `only ${checked} texts checked`);
    assert.deepEqual(problems, [], `accounts (${scheme}): text below WCAG AA contrast`);
  }
  await shot(root, 'admin-accounts-dark');
  await root.emulateMedia({ colorScheme: 'light' });
  await root.waitForTimeout(300); // colours fade between schemes

  await root.setViewportSize({ width: 375, height: 812 });
  await root.getByTestId('accounts-table').waitFor();
  const overflow = await root.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await shot(root, 'admin-accounts-narrow');
  await root.setViewportSize({ width: 1280, height: 800 });

  await root.evaluate(() => localStorage.setItem('ting.lang', 'sv'));
  await root.reload();
  await root.getByTestId('accounts-table').waitFor({ timeout: TIMEOUT });
  assert.match(await root.getByTestId('admin').textContent(), /Konton.*Granskningslogg/s);
  await shot(root, 'admin-accounts-sv');
  await root.evaluate(() => localStorage.setItem('ting.lang', 'en'));
  await root.reload();
  await root.getByTestId('accounts-table').waitFor({ timeout: TIMEOUT });
});

test('deactivation signs the user out everywhere and refuses sign-in; reactivation lets them back', async () => {
  const dialog = await openAccount(root, 'dana');
  await dialog.getByTestId('admin-device').first().waitFor({ timeout: TIMEOUT });
  const said = await confirmAction(root, 'account-deactivate');
  assert.match(said, /signs dana out on every device/);
  assert.match(said, /keep their keys/);
  await dialog.getByTestId('account-reactivate').waitFor({ timeout: TIMEOUT });
  await closeDialog(root, 'account-dialog');
  await row(root, 'dana').getByTestId('badge-deactivated').waitFor({ timeout: TIMEOUT });

  // dana's open app notices at once: the server closed its stream and ended its session.
  await dana.getByTestId('login-page').waitFor({ timeout: TIMEOUT });
  assert.match(await loginError(dana, 'dana', PASSWORD), /deactivated/i);

  await openAccount(root, 'dana');
  assert.match(await confirmAction(root, 'account-reactivate'), /same devices/);
  await closeDialog(root, 'account-dialog');
  await root.waitForFunction(() => !document.querySelector('[data-testid="account-row"][data-username="dana"] [data-testid="badge-deactivated"]'), null, { timeout: TIMEOUT });
  await dana.getByTestId('login-submit').click();
  await dana.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
  await openRoom(dana, 'Welcome');
  await waitForMessage(dana, 'Welcome aboard, dana');
});

test('a password reset link sets a new password and ends the sessions', async () => {
  await openAccount(root, 'dana');
  assert.match(await confirmAction(root, 'account-reset'), /does not give access to encrypted messages/);
  const linkDialog = root.getByTestId('reset-link-dialog');
  const link = await linkDialog.getByTestId('invite-link').inputValue();
  await linkDialog.getByTestId('link-done').click();
  await closeDialog(root, 'account-dialog');

  const tab = await dana.context().newPage();
  await tab.goto(link);
  assert.match(await tab.getByTestId('invite-intro').textContent(), /new password for dana/);
  await tab.getByTestId('invite-password').fill(NEW_PASSWORD);
  await tab.getByTestId('invite-repeat').fill(NEW_PASSWORD);
  await tab.getByTestId('invite-submit').click();
  await tab.getByTestId('invite-done').waitFor({ timeout: TIMEOUT });
  await tab.close();
  await dana.getByTestId('login-page').waitFor({ timeout: TIMEOUT });
  assert.match(await loginError(dana, 'dana', PASSWORD), /Wrong username or password/);
  await dana.getByTestId('login-password').fill(NEW_PASSWORD);
  await dana.getByTestId('login-submit').click();
  await dana.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
});

test('the last administrator cannot be demoted; promoting and revoking a device work', async () => {
  await openAccount(root, 'root');
  assert.match(await confirmAction(root, 'account-demote'), /cannot read messages/);
  await root.locator('[data-testid="toasts"] .toast.error', { hasText: 'without an active administrator' }).waitFor({ timeout: TIMEOUT });
  await closeDialog(root, 'account-dialog');

  const dialog = await openAccount(root, 'carol');
  await confirmAction(root, 'account-promote');
  await dialog.getByTestId('account-demote').waitFor({ timeout: TIMEOUT });
  await confirmAction(root, 'account-demote');
  await dialog.getByTestId('account-promote').waitFor({ timeout: TIMEOUT });
  await closeDialog(root, 'account-dialog');

  const danaDialog = await openAccount(root, 'dana');
  await danaDialog.getByTestId('admin-device').first().waitFor({ timeout: TIMEOUT });
  await danaDialog.getByTestId('admin-revoke-device').first().click();
  const confirm = root.getByTestId('confirm-dialog');
  assert.match(await confirm.textContent(), /keys are not deleted/);
  await confirm.getByTestId('confirm').click();
  await danaDialog.locator('[data-testid="admin-device"].revoked').waitFor({ timeout: TIMEOUT });
  await closeDialog(root, 'account-dialog');
  await dana.getByTestId('login-page').waitFor({ timeout: TIMEOUT });
});

test('a non-administrator gets no console and the API refuses them', async () => {
  let token = null;
  carol.context().on('request', (r) => {
    const auth = r.headers().authorization;
    if (auth?.startsWith('Bearer ')) token = auth.slice(7);
  });
  await openSettings(carol);
  assert.equal(await carol.getByTestId('admin-entry').count(), 0);
  await carol.goto(`${s.ting.url}#/admin/accounts`);
  await carol.getByTestId('admin-refused').waitFor({ timeout: TIMEOUT });
  assert.equal(await carol.getByTestId('accounts-table').count(), 0);
  await carol.goto(`${s.ting.url}#/settings`);
  await carol.getByTestId('settings').waitFor({ timeout: TIMEOUT });
  await carol.waitForFunction(() => true);
  for (let i = 0; !token && i < 50; i++) await new Promise((ok) => setTimeout(ok, 100));
  assert.ok(token, 'carol\'s app made an authenticated request');
  const resp = await carol.evaluate(async (token) => {
    const r = await fetch('/api/v1/admin/users', { headers: { Authorization: `Bearer ${token}` } });
    return { status: r.status, body: await r.json() };
  }, token);
  assert.equal(resp.status, 403);
  assert.equal(resp.body.code, 'admin_only');
  for (const p of [root, carol]) assert.deepEqual(p.problems.filter((x) => !/401|403|409|410|404/.test(x)), []);
});
