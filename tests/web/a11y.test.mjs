// Accessibility in real headless Chromium: Ting used with the keyboard alone (sign in, create a
// room, chat, dialogs that hold and return the focus, a visible focus ring on every stop), and
// the rendered contrast of every visible text on every main screen, in the light and the dark
// colour scheme, against WCAG AA.
// Screenshots: docs/screenshots/dark-*.png, keyboard-focus.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, shot, PASSWORD, suite } from './harness.mjs';
import { login, loginError, createRoom, invite, openRoom, sendMessage, waitForMessage, openMembers, openSafetyNumber, openSettings } from './flows.mjs';
import { T, joinMeeting } from './meeting-flows.mjs';
import { contrastProblems, focusRing, tabTo } from './a11y.mjs';

let alice, bob;
const ROOM = 'Accessibility review';
const s = suite({ users: ['alice', 'bob'], pages: { alice: 'en-GB', bob: 'en-GB' }, ready: (s) => ({ alice, bob } = s.page) });

const active = (page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
const focusInside = (page, testid) =>
  page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.contains(document.activeElement) ?? false, testid);

async function assertRing(page, what) {
  const ring = await focusRing(page);
  assert.ok(ring.visible, `${what}: the focused element shows no focus ring: ${JSON.stringify(ring)}`);
}

test('sign in, create a room and chat with the keyboard alone', async () => {
  await bob.goto(s.ting.url);
  await login(bob, 'bob', PASSWORD); // publishes bob's KeyPackage so that alice can invite him
  await alice.goto(s.ting.url);
  await alice.getByTestId('login-page').waitFor();
  await tabTo(alice, 'login-username');
  await assertRing(alice, 'username field');
  await alice.keyboard.type('alice');
  await alice.keyboard.press('Tab');
  assert.equal(await active(alice), 'login-password');
  await alice.keyboard.type(PASSWORD);
  await alice.keyboard.press('Enter');
  await alice.getByTestId('signed-in-as').waitFor({ timeout: T });

  // The new-room dialog takes the focus, keeps it on Tab and Shift+Tab, and gives it back.
  await tabTo(alice, 'new-room');
  await assertRing(alice, 'new room button');
  await shot(alice, 'keyboard-focus');
  await alice.keyboard.press('Enter');
  await alice.getByTestId('create-room-dialog').waitFor();
  assert.equal(await active(alice), 'create-room-name', `focus on ${JSON.stringify(await focusRing(alice))}`);
  for (const key of [...Array(12).fill('Tab'), ...Array(12).fill('Shift+Tab')]) {
    await alice.keyboard.press(key);
    assert.ok(await focusInside(alice, 'create-room-dialog'), `${key} left the dialog`);
    await assertRing(alice, `dialog, after ${key}`);
  }
  await alice.keyboard.press('Escape');
  await alice.getByTestId('create-room-dialog').waitFor({ state: 'detached' });
  assert.equal(await active(alice), 'new-room', 'the focus returns to the button that opened the dialog');

  await alice.keyboard.press('Enter');
  await alice.getByTestId('create-room-dialog').waitFor();
  await alice.keyboard.type(ROOM);
  await alice.keyboard.press('Enter');
  await alice.locator(`[data-testid="room-title"]:text-is(${JSON.stringify(ROOM)})`).waitFor({ timeout: T });

  // Chat: Tab reaches the message box; Enter sends.
  await tabTo(alice, 'composer-input');
  await assertRing(alice, 'message box');
  await alice.keyboard.type('Written without a mouse.');
  await alice.keyboard.press('Enter');
  await waitForMessage(alice, 'Written without a mouse.');
  assert.deepEqual(alice.problems, []);
});

/** Runs the contrast audit on what `page` shows and fails with the list of low-contrast texts. */
async function assertContrast(page, screen, scheme) {
  const { problems, checked, skipped } = await contrastProblems(page);
  assert.ok(checked > 3, `${screen} (${scheme}): only ${checked} texts checked`);
  assert.deepEqual(problems, [], `${screen} (${scheme}): text below WCAG AA contrast (${checked} checked, ${skipped} over images)`);
  return checked;
}

test('every visible text meets WCAG AA contrast, light and dark', async () => {
  // Content for the screens: a room with both people, messages both ways, a reaction and a reply.
  await invite(alice, 'bob');
  await openRoom(bob, ROOM);
  await sendMessage(bob, 'Contrast is checked on the rendered page.');
  const mine = await waitForMessage(alice, 'Written without a mouse.');
  const theirs = await waitForMessage(alice, 'Contrast is checked on the rendered page.');
  await theirs.hover();
  await theirs.getByTestId('action-react').click();
  await theirs.locator('[data-testid="emoji"][data-emoji="👍"]').click();
  await theirs.locator('[data-testid="reaction"][data-emoji="👍"]').waitFor();
  await mine.hover();
  await mine.getByTestId('action-reply').click();
  await sendMessage(alice, 'And in both colour schemes.');
  const login = await newPage(s.browser, { lang: 'en-GB' });
  await login.goto(s.ting.url);
  await loginError(login, 'alice', 'not the password');

  const counts = {};
  for (const scheme of ['light', 'dark']) {
    for (const p of [alice, bob, login]) await p.emulateMedia({ colorScheme: scheme });
    const n = [];
    n.push(await assertContrast(login, 'login with an error', scheme));
    await openRoom(alice, ROOM);
    await alice.mouse.move(0, 0);
    n.push(await assertContrast(alice, 'room view', scheme));
    n.push(await assertContrast(bob, 'room view (other side)', scheme));
    await openMembers(alice);
    n.push(await assertContrast(alice, 'members', scheme));
    const { dialog } = await openSafetyNumber(alice, 'bob');
    n.push(await assertContrast(alice, 'safety number', scheme));
    await alice.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await alice.getByTestId('new-room').click();
    await alice.getByTestId('create-room-dialog').waitFor();
    n.push(await assertContrast(alice, 'new room dialog', scheme));
    await alice.keyboard.press('Escape');
    await openSettings(alice);
    n.push(await assertContrast(alice, 'settings', scheme));
    if (scheme === 'dark') {
      await shot(alice, 'dark-settings');
      await openRoom(alice, ROOM);
      await shot(alice, 'dark-room');
    }
    counts[scheme] = n.reduce((a, b) => a + b, 0);
  }
  console.log(`texts checked: ${JSON.stringify(counts)}`);
  for (const p of [alice, bob]) await p.emulateMedia({ colorScheme: 'light' });
  await login.context().close();
});

test('the meeting view meets WCAG AA contrast, light and dark', async () => {
  await openRoom(alice, ROOM);
  await openRoom(bob, ROOM);
  await joinMeeting(alice);
  await joinMeeting(bob);
  await alice.locator('.tm-tile:not([data-self="true"])').waitFor({ timeout: T });
  for (const scheme of ['light', 'dark']) {
    await alice.emulateMedia({ colorScheme: scheme });
    await assertContrast(alice, 'meeting', scheme);
    await alice.locator('.tm-root [data-action="people"]').click();
    await assertContrast(alice, 'meeting with participants', scheme);
    await alice.locator('.tm-root [data-action="devices"]').click();
    await assertContrast(alice, 'meeting with devices', scheme);
    await alice.locator('.tm-root [data-action="devices"]').click();
  }
  await shot(alice, 'dark-meeting');
  await alice.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(alice.problems, []);
});
