// The key log in real headless Chromium: alice's browser pins the log's key and remembers the
// newest checkpoint it accepted. An operator who keeps a copy of the database, lets the log
// grow (carol signs up and alice invites her), then restores the old copy and restarts the
// server on the same address, shows alice an older log: her browser refuses it, warns
// prominently and adds nobody. When the operator then grows another history from the copy
// (dave signs up, bob accepts that log), bob's next message carries his log position and
// alice's browser shows a split view in the room. Screenshots: docs/screenshots/keylog-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, newPage, shot, PASSWORD } from './harness.mjs';
import { login, createRoom, invite, openRoom, sendMessage, waitForMessage } from './flows.mjs';
import { contrastProblems } from './a11y.mjs';

const TIMEOUT = 30_000;
const DB_FILES = ['ting.db', 'ting.db-wal', 'ting.db-shm'];
let alice;
let bob;
let carol;
const s = suite({
  users: ['alice', 'bob', 'carol'],
  pages: { alice: 'en-GB', bob: 'en-GB', carol: 'en-GB' },
  ready: async (s) => {
    ({ alice, bob, carol } = s.page);
    for (const [page, name] of [[bob, 'bob'], [alice, 'alice']]) {
      await page.goto(s.ting.url);
      await login(page, name, PASSWORD);
    }
  },
});

/** Copies the SQLite database (with its -wal and -shm) from `from` to `to`. */
function copyDb(from, to) {
  for (const f of DB_FILES) {
    if (existsSync(join(to, f))) rmSync(join(to, f));
    if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
  }
}

/** Tries to invite `username` into the open room; returns the error the dialog shows. */
async function inviteError(page, username) {
  await page.getByTestId('room-menu').click();
  await page.getByTestId('menu-invite').click();
  await page.getByTestId('invite-username').fill(username);
  await page.getByTestId('invite-submit').click();
  const error = page.getByTestId('invite-error');
  await error.waitFor({ timeout: TIMEOUT });
  return error.textContent();
}

test('a key log rolled back by the operator is refused: a warning, and nobody is added', async () => {
  await createRoom(alice, 'Before the copy');
  await invite(alice, 'bob');
  await openRoom(bob, 'Before the copy');
  await sendMessage(alice, 'Hello bob.');
  await waitForMessage(bob, 'Hello bob.');

  // The operator stops the server and keeps a copy of its database.
  const backup = mkdtempSync(join(tmpdir(), 'ting-keylog-backup-'));
  try {
    await s.ting.restart(() => copyDb(s.ting.serverDataDir, backup));

    // The log grows after the copy: carol signs up (her identity and device certificate), and
    // alice's browser sees the newer log when she invites carol.
    await carol.goto(s.ting.url);
    await login(carol, 'carol', PASSWORD);
    await createRoom(alice, 'With carol');
    await invite(alice, 'carol');
    await openRoom(carol, 'With carol');
    await sendMessage(alice, 'Hello carol.');
    await waitForMessage(carol, 'Hello carol.');
    assert.equal(await alice.getByTestId('keylog-warning').count(), 0);

    // The operator restores the old copy and starts the server again on the same address.
    await s.ting.restart(() => copyDb(backup, s.ting.serverDataDir));
  } finally {
    rmSync(backup, { recursive: true, force: true });
  }

  // Alice wants to add bob to a new room: the server's log is older than the one her browser
  // accepted, so the browser refuses it and adds nobody.
  await createRoom(alice, 'After the restore');
  const error = await inviteError(alice, 'bob');
  assert.match(error, /key log does not match what this device saw before/);
  const banner = alice.getByTestId('keylog-warning');
  await banner.waitFor({ timeout: TIMEOUT });
  assert.match(await banner.textContent(), /The server's key log does not match what this device saw before/);
  await alice.keyboard.press('Escape');
  await alice.getByTestId('invite-dialog').waitFor({ state: 'detached', timeout: TIMEOUT });
  assert.equal(await alice.locator('[data-testid="system-line"]', { hasText: 'bob' }).count(), 0);
  await banner.locator('summary').click();
  assert.match(await banner.textContent(), /rollback/);

  // The warning stays after a reload (it is part of the device's saved state).
  await alice.reload();
  await alice.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
  await alice.getByTestId('keylog-warning').waitFor({ timeout: TIMEOUT });
  await openRoom(alice, 'After the restore');
  for (const scheme of ['light', 'dark']) {
    await alice.emulateMedia({ colorScheme: scheme });
    const { problems } = await contrastProblems(alice);
    assert.deepEqual(problems, [], `key log warning (${scheme}): text below WCAG AA contrast`);
  }
  await alice.emulateMedia({ colorScheme: 'light' });
  await alice.getByTestId('keylog-warning').locator('summary').click();
  await shot(alice, 'keylog-warning');

  // The operator grows another history from the old copy: dave signs up, and bob, whose
  // browser never saw carol's records, accepts that log. Bob's next message carries his log
  // position; alice's browser finds it does not fit hers (a split view) and warns in the room.
  s.ting.createUser('dave');
  const dave = await newPage(s.browser, { lang: 'en-GB' });
  await dave.goto(s.ting.url);
  await login(dave, 'dave', PASSWORD);
  await createRoom(bob, 'With dave');
  await invite(bob, 'dave');
  await openRoom(bob, 'Before the copy');
  await sendMessage(bob, 'Do we see the same key log?');
  await openRoom(alice, 'Before the copy');
  await waitForMessage(alice, 'Do we see the same key log?');
  const split = alice.getByTestId('split-view-warning');
  await split.waitFor({ timeout: TIMEOUT });
  await split.locator('summary').click();
  assert.match(await split.textContent(), /different key logs of \d+ records/);
  await shot(alice, 'keylog-split-view');
  await dave.context().close();
  const problems = alice.problems.filter((p) => !/Failed to load resource|WebSocket/.test(p));
  assert.deepEqual(problems, []);
});
