// Room upkeep in real headless Chromium against a real `ting serve`: renaming a room (the new,
// encrypted name reaches the other member's list, title and history) and deleting a message (it
// is replaced for everyone, also inside a reply that quoted it; a deleted message offers no
// actions). Screenshot: docs/screenshots/room-deleted.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shot, PASSWORD, suite } from './harness.mjs';
import { login, createRoom, openRoom, sendMessage, waitForMessage } from './flows.mjs';

let alice, bob;
const s = suite({ users: ['alice', 'bob'], pages: { alice: 'en-GB', bob: 'en-GB' }, ready: (s) => ({ alice, bob } = s.page) });

test('a renamed room shows its new name to every member', async () => {
  await bob.goto(s.ting.url);
  await login(bob, 'bob', PASSWORD);
  await alice.goto(s.ting.url);
  await login(alice, 'alice', PASSWORD);
  await createRoom(alice, 'Draft', { invite: ['bob'] });
  await openRoom(bob, 'Draft');

  await bob.getByTestId('room-menu').click();
  await bob.getByTestId('menu-rename').click();
  const dialog = bob.getByTestId('rename-dialog');
  const field = dialog.locator('input');
  assert.equal(await field.inputValue(), 'Draft', 'the field starts with the current name');
  // An empty name is refused in the dialog, which stays open.
  await field.fill('   ');
  await dialog.locator('button[type="submit"]').click();
  await dialog.locator('.form-error').waitFor();
  await field.fill('Budget 2027 – final');
  await field.press('Enter');
  await dialog.waitFor({ state: 'detached' });

  for (const page of [alice, bob]) {
    await page.locator('[data-testid="room-title"]:text-is("Budget 2027 – final")').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="room-item"][data-room-name="Budget 2027 – final"]').waitFor();
    assert.equal(await page.locator('[data-testid="room-item"][data-room-name="Draft"]').count(), 0);
  }
  await alice.locator('[data-testid="system-line"]', { hasText: 'bob named the room “Budget 2027 – final”' }).waitFor();
  await bob.locator('[data-testid="system-line"]', { hasText: 'You named the room “Budget 2027 – final”' }).waitFor();
});

test('a deleted message is replaced for everyone, also where a reply quotes it', async () => {
  await sendMessage(alice, 'The total is 1 234 567 kronor.');
  const original = await waitForMessage(bob, 'The total is 1 234 567 kronor.');
  await original.hover();
  await original.getByTestId('action-reply').click();
  await sendMessage(bob, 'Is that with VAT?');
  await waitForMessage(alice, 'Is that with VAT?');

  // Only one's own messages can be deleted.
  const theirs = await waitForMessage(alice, 'Is that with VAT?');
  await theirs.hover();
  assert.equal(await theirs.getByTestId('action-delete').count(), 0);

  const mine = await waitForMessage(alice, 'The total is 1 234 567 kronor.');
  await mine.hover();
  await mine.getByTestId('action-delete').click();
  const confirm = alice.getByTestId('confirm-dialog');
  await confirm.waitFor();
  // Cancelling keeps it.
  await alice.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  await waitForMessage(alice, 'The total is 1 234 567 kronor.');
  await mine.hover();
  await mine.getByTestId('action-delete').click();
  await confirm.getByTestId('confirm').click();

  for (const page of [alice, bob]) {
    await page.getByTestId('message-deleted').first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-testid="message-text"]:has-text("1 234 567")').count(), 0, 'the text is gone');
    const reply = await waitForMessage(page, 'Is that with VAT?');
    assert.match(await reply.getByTestId('reply-quote').textContent(), /This message was deleted\./);
    const deleted = page.locator('[data-testid="message"]', { has: page.getByTestId('message-deleted') });
    await deleted.hover();
    assert.equal(await deleted.locator('[data-testid^="action-"]').count(), 0, 'a deleted message offers no actions');
  }
  await shot(bob, 'room-deleted');
  assert.deepEqual(alice.problems, []);
  assert.deepEqual(bob.problems, []);
});
