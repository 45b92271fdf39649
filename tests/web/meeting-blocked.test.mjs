// A meeting whose media cannot get through, in real headless Chromium against a real
// `ting serve`: the server announces a media address nothing answers on (127.0.0.2, while it
// listens on 127.0.0.1 only), as a firewall that blocks the media port would. Signaling works,
// ICE fails: the view says that audio and video could not get through, offers to try again, and
// the room and chat stay usable. Screenshot: docs/screenshots/meeting-media-blocked.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shot, PASSWORD, suite } from './harness.mjs';
import { login, createRoom, sendMessage } from './flows.mjs';
import { T } from './meeting-flows.mjs';

let alice;
const s = suite({ users: ['alice'], pages: { alice: 'en-GB' }, env: { TING_MEDIA_ADVERTISE: '127.0.0.2' }, ready: (s) => ({ alice } = s.page) });

test('media that cannot get through is explained, with a way to try again', async () => {
  await alice.goto(s.ting.url);
  await login(alice, 'alice', PASSWORD);
  await createRoom(alice, 'Behind a firewall');
  await alice.getByTestId('start-meeting').click();
  const join = alice.locator('.tm-root [data-action="join"]');
  await alice.waitForFunction(() => {
    const b = document.querySelector('.tm-root [data-action="join"]');
    return b && !b.disabled;
  }, null, { timeout: T });
  const started = Date.now();
  await join.click();
  await alice.locator('.tm-root[data-state="failed"]').waitFor({ timeout: T });
  console.log(`ICE gave up after ${Date.now() - started} ms`);
  const notice = alice.locator('.tm-root', { hasText: 'Audio and video could not get through' });
  await notice.waitFor();
  assert.match(await alice.locator('.tm-root').textContent(), /a firewall may block UDP/);
  // The connection indicator does not keep "measuring" a connection that failed.
  assert.equal((await alice.locator('.tm-pill-quality').textContent()).trim(), 'No media connection');
  assert.equal(await alice.locator('.tm-pill-quality').getAttribute('data-quality'), 'none');
  const retry = alice.locator('.tm-root button', { hasText: 'Try again' });
  await retry.waitFor();
  await shot(alice, 'meeting-media-blocked');
  // The rest of the room still works.
  await sendMessage(alice, 'The meeting does not connect from here.');
  // Trying again goes through joining and ends in the same explanation, not in silence.
  await retry.click();
  await alice.locator('.tm-root[data-state="failed"]').waitFor({ timeout: T });
  assert.deepEqual(alice.problems.filter((p) => !/meeting:/.test(p)), []);
});
