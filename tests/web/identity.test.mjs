// Identities in real headless Chromium: a second browser of alice is linked by code (a wrong
// code is refused), gets her room and reads new messages; bob loses his devices and starts over
// with a new identity (alice is warned, bob's new device is not added anywhere by itself); a
// verified contact's reset pauses sending until alice accepts the new key. Screenshots:
// docs/screenshots/link-*.png and identity-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot, PASSWORD } from './harness.mjs';
import {
  login, createRoom, invite, openRoom, sendMessage, waitForMessage, openSafetyNumber,
  loginNewDevice, previewLink, linkDevice,
} from './flows.mjs';
import { contrastProblems } from './a11y.mjs';

const TIMEOUT = 30_000;
let alice;
let bob;
let carol;
const s = suite({
  users: ['alice', 'bob', 'carol'],
  pages: { alice: 'en-GB', bob: 'en-GB', carol: 'en-GB' },
  ready: async (s) => {
    ({ alice, bob, carol } = s.page);
    for (const [page, name] of [[bob, 'bob'], [carol, 'carol'], [alice, 'alice']]) {
      await page.goto(s.ting.url);
      await login(page, name, PASSWORD);
    }
  },
});

/** Every visible text of what `page` shows meets WCAG AA contrast, light and dark. */
async function assertContrast(page, screen, darkShot = null) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    const { problems, checked } = await contrastProblems(page);
    assert.ok(checked > 3, `${screen} (${scheme}): only ${checked} texts checked`);
    assert.deepEqual(problems, [], `${screen} (${scheme}): text below WCAG AA contrast`);
    if (scheme === 'dark' && darkShot) await shot(page, darkShot);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Waits until no toast covers the page (for screenshots). */
const noToasts = (page) => page.waitForFunction(() => !document.querySelector('[data-testid="toasts"] .toast'), null, { timeout: TIMEOUT });

/** A variant of a link code with its commitment changed (same rendezvous). */
function tampered(code) {
  const last = code.at(-1);
  return code.slice(0, -1) + (last === '0' ? '1' : '0');
}

test('a second browser of alice is linked by code and reads her room', async () => {
  await createRoom(alice, 'Linked room');
  await invite(alice, 'bob');
  await sendMessage(alice, 'Before the link.');

  const second = await newPage(s.browser, { lang: 'en-GB' });
  await second.goto(s.ting.url);
  const code = await loginNewDevice(second, 'alice', PASSWORD);
  assert.match(code, /^[0-9a-f]+\.[0-9a-f]{20}$/);
  await second.getByTestId('link-qr').waitFor();
  await shot(second, 'link-new-device');
  await assertContrast(second, 'link screen', 'link-new-device-dark');

  // Garbage, and a code whose commitment does not match the waiting request, are refused.
  await assert.rejects(previewLink(alice, 'not a code'), /not a valid link code/);
  await assert.rejects(previewLink(alice, tampered(code)), /does not match/);
  await shot(alice, 'link-wrong-code');

  const shown = await previewLink(alice, code);
  const fp = await second.getByTestId('link-fingerprint').textContent();
  assert.ok(fp.includes(shown.fingerprint), `the new device shows ${fp}, the old one ${shown.fingerprint}`);
  await shot(alice, 'link-confirm');
  await alice.getByTestId('link-approve').click();
  await alice.getByTestId('link-approved').waitFor({ timeout: TIMEOUT });
  await second.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
  await alice.getByTestId('toasts').getByText(/New device .* linked/).waitFor({ timeout: TIMEOUT });
  await shot(alice, 'link-linked');

  // Alice's first device adds the linked one to the room; it reads what is sent from now on.
  await openRoom(second, 'Linked room');
  await openRoom(bob, 'Linked room');
  await sendMessage(bob, 'Hello, new device.');
  await waitForMessage(second, 'Hello, new device.');
  await sendMessage(second, 'Written on the linked device.');
  await waitForMessage(bob, 'Written on the linked device.');
  await shot(second, 'link-room');
  assert.deepEqual(second.problems, []);
  await second.context().close();
});

test('bob starts over with a new identity: alice is warned, the new device is added only once she accepts', async () => {
  await openRoom(alice, 'Linked room');
  const fresh = await newPage(s.browser, { lang: 'en-GB' });
  await fresh.goto(s.ting.url);
  await loginNewDevice(fresh, 'bob', PASSWORD);
  await fresh.getByTestId('link-page').locator('summary').click();
  await fresh.getByTestId('link-reset').click();
  await shot(fresh, 'identity-reset-confirm');
  await fresh.getByTestId('confirm-dialog').getByRole('button', { name: 'Start over' }).click();
  await fresh.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });

  const warning = alice.locator('[data-testid="identity-warning"][data-user="bob"]');
  await warning.waitFor({ timeout: TIMEOUT });
  assert.equal(await warning.getAttribute('data-blocking'), 'false');
  assert.equal(await alice.getByTestId('composer-blocked').count(), 0);
  await noToasts(alice);
  await shot(alice, 'identity-changed');
  await assertContrast(alice, 'identity warning');

  // Bob's old device learns that his identity was reset elsewhere.
  await openRoom(bob, 'Linked room');
  await bob.getByTestId('own-reset-warning').waitFor({ timeout: TIMEOUT });
  await noToasts(bob);
  await shot(bob, 'identity-own-reset');

  // Nobody adds the new identity's device: it stays outside alice's room.
  await sendMessage(alice, 'Only for the old bob.');
  await waitForMessage(bob, 'Only for the old bob.');
  assert.equal(await fresh.locator('[data-testid="room-item"][data-room-name="Linked room"]').count(), 0);

  // Once alice accepts the new key she can invite bob again: his devices of the old identity
  // leave the room and the new one joins.
  await warning.getByTestId('accept-identity').click();
  await warning.waitFor({ state: 'detached', timeout: TIMEOUT });
  await invite(alice, 'bob');
  await openRoom(fresh, 'Linked room');
  await sendMessage(alice, 'Welcome back, bob.');
  await waitForMessage(fresh, 'Welcome back, bob.');
  assert.deepEqual(fresh.problems, []);
  await fresh.context().close();
});

test('a verified contact who resets blocks sending until alice accepts the new key', async () => {
  await createRoom(alice, 'Verified room');
  await invite(alice, 'carol');
  await openRoom(carol, 'Verified room');
  const { dialog } = await openSafetyNumber(alice, 'carol');
  await dialog.getByTestId('safety-toggle').click();
  await dialog.locator('[data-testid="safety-state"][data-verified="true"]').waitFor({ timeout: TIMEOUT });
  await alice.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached', timeout: TIMEOUT });
  await sendMessage(alice, 'Carol is verified.');
  await waitForMessage(carol, 'Carol is verified.');

  const fresh = await newPage(s.browser, { lang: 'en-GB' });
  await fresh.goto(s.ting.url);
  await loginNewDevice(fresh, 'carol', PASSWORD);
  await fresh.getByTestId('link-page').locator('summary').click();
  await fresh.getByTestId('link-reset').click();
  await fresh.getByTestId('confirm-dialog').getByRole('button', { name: 'Start over' }).click();
  await fresh.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });

  const blocked = alice.getByTestId('composer-blocked');
  await blocked.waitFor({ timeout: TIMEOUT });
  assert.equal(await alice.getByTestId('composer-input').count(), 0);
  assert.equal(await alice.locator('[data-testid="identity-warning"][data-user="carol"]').getAttribute('data-blocking'), 'true');
  await noToasts(alice);
  await shot(alice, 'identity-blocked');
  await assertContrast(alice, 'paused composer', 'identity-blocked-dark');

  await blocked.getByTestId('accept-identity').click();
  await alice.getByTestId('composer-input').waitFor({ timeout: TIMEOUT });
  await alice.locator('[data-testid="identity-warning"][data-user="carol"]').waitFor({ state: 'detached', timeout: TIMEOUT });
  await sendMessage(alice, 'Accepted the new key.');
  await waitForMessage(carol, 'Accepted the new key.');
  await fresh.context().close();
  assert.deepEqual([...alice.problems, ...bob.problems, ...carol.problems], []);
});
