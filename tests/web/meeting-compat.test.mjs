// Meetings on Chromium's older encoded-frame API and with device changes, in real headless
// Chromium against a real `ting serve`:
// - alice's browser lacks `RTCRtpScriptTransform`, so her SFrame transform runs on
//   `createEncodedStreams()` streams handed to the media worker; bob uses the script transform.
//   Each decrypts the other's audio and video.
// - alice switches microphone and camera during the meeting (replaceTrack, no renegotiation)
//   and picks another speaker: the new devices are captured, their frames still go out
//   SFrame-encrypted and bob keeps decrypting them without a single failure.
// - frames from alice that bob cannot decrypt turn her tile and her row in the participant list to
//   "Cannot decrypt", and back to "End-to-end encrypted" when good frames come again.
// Screenshots: docs/screenshots/meeting-devices.png, meeting-cannot-decrypt.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shot, PASSWORD, suite } from './harness.mjs';
import { login, createRoom, openRoom } from './flows.mjs';
import { T, joinMeeting, waitTile, PLAYING } from './meeting-flows.mjs';
import { contrastProblems } from './a11y.mjs';

let alice; // no RTCRtpScriptTransform
let bob;
let alicePid;
let bobPid;

const s = suite({
  users: ['alice', 'bob'],
  pages: { alice: 'en-GB', bob: 'en-GB' },
  cameras: 3,
  ready: async (s) => {
    ({ alice, bob } = s.page);
    await corruptible(alice);
  },
});

/**
 * Removes `RTCRtpScriptTransform` from the page (so the app uses `createEncodedStreams`) and puts a
 * tap between the media worker's encrypted output and the packetizer: while `__corrupt` is set it
 * flips the last bytes (the SFrame authentication tag) of every outgoing frame, as a tampering
 * relay or a key mismatch would make them undecryptable.
 */
async function corruptible(page) {
  await page.addInitScript(() => {
    delete globalThis.RTCRtpScriptTransform;
    globalThis.__corrupt = false;
    const create = RTCRtpSender.prototype.createEncodedStreams;
    RTCRtpSender.prototype.createEncodedStreams = function () {
      const real = create.call(this);
      const tap = new TransformStream({
        transform(frame, out) {
          if (globalThis.__corrupt) {
            const d = new Uint8Array(frame.data);
            for (let i = Math.max(0, d.length - 4); i < d.length; i++) d[i] ^= 0xff;
            frame.data = d.buffer;
          }
          out.enqueue(frame);
        },
      });
      void tap.readable.pipeTo(real.writable);
      return { readable: real.readable, writable: tap.writable };
    };
  });
}

/** Audio frames of `pid` that `page` decrypted so far (all decrypted frames minus video ones). */
async function audioDecrypted(page, pid) {
  const t = await waitTile(page, pid, { want: { decrypted: '?' }, what: 'the tile' });
  return Number(t.decrypted) - Number(t.videoDecrypted ?? 0);
}

test('createEncodedStreams on one side, RTCRtpScriptTransform on the other', async () => {
  await bob.goto(s.ting.url);
  await login(bob, 'bob', PASSWORD);
  await alice.goto(s.ting.url);
  await login(alice, 'alice', PASSWORD);
  assert.equal(await alice.evaluate(() => typeof globalThis.RTCRtpScriptTransform), 'undefined');
  await createRoom(alice, 'Fallback', { invite: ['bob'] });
  await openRoom(bob, 'Fallback');

  alicePid = await joinMeeting(alice);
  bobPid = await joinMeeting(bob);
  assert.equal(await alice.locator('.tm-root').getAttribute('data-e2ee-api'), 'streams');
  assert.equal(await bob.locator('.tm-root').getAttribute('data-e2ee-api'), 'script');

  const seenByAlice = await waitTile(alice, bobPid, { want: PLAYING, what: "alice (streams) decrypts bob's video" });
  const seenByBob = await waitTile(bob, alicePid, { want: PLAYING, what: "bob (script) decrypts alice's video" });
  for (const t of [seenByAlice, seenByBob]) assert.equal(t.decryptFailed, '0', 'no frame failed to decrypt');
  await waitTile(bob, alicePid, { want: { speaking: 'true' }, what: "alice's decrypted audio is heard" });
  await waitTile(alice, bobPid, { want: { speaking: 'true' }, what: "bob's decrypted audio is heard" });
  console.log(`alice (streams) sees bob: ${JSON.stringify(seenByAlice)}`);
  console.log(`bob (script) sees alice: ${JSON.stringify(seenByBob)}`);
});

test('microphone, camera and speaker can be changed during the meeting', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  const root = alice.locator('.tm-root');
  await alice.locator('.tm-root [data-action="devices"]').click();
  const panel = alice.locator('.tm-devices');
  await panel.waitFor({ timeout: T });
  const mic = panel.locator('select[data-device="audioIn"]');
  const cam = panel.locator('select[data-device="videoIn"]');
  const out = panel.locator('select[data-device="audioOut"]');
  // Labels are shown (permission was granted), one option per device.
  await alice.waitForFunction(() => document.querySelectorAll('.tm-devices select[data-device="videoIn"] option').length === 3, null, { timeout: T });
  const micLabels = await mic.locator('option').allTextContents();
  assert.ok(micLabels.includes('Fake Audio Input 2'), `microphones: ${micLabels}`);
  assert.deepEqual(await cam.locator('option').allTextContents(), ['fake_device_0', 'fake_device_1', 'fake_device_2']);

  // Microphone: the captured device changes, bob keeps decrypting alice's audio.
  const micId = await mic.locator('option', { hasText: 'Fake Audio Input 2' }).getAttribute('value');
  assert.notEqual(await root.getAttribute('data-audio-in'), micId);
  const audioBefore = await audioDecrypted(bob, alicePid);
  await mic.selectOption(micId);
  await alice.waitForFunction((id) => document.querySelector('.tm-root')?.dataset.audioIn === id, micId, { timeout: T });
  await bob.waitForFunction(
    ({ pid, n }) => {
      const e = [...document.querySelectorAll('.tm-tile')].find((x) => x.dataset.participantId === String(pid) && x.dataset.screen !== 'true');
      return e && Number(e.dataset.decrypted) - Number(e.dataset.videoDecrypted ?? 0) > n + 20;
    },
    { pid: alicePid, n: audioBefore },
    { timeout: T },
  );

  // Camera: another fake camera is captured, bob decodes new decrypted frames from it. (Chromium's
  // fake_device_1 delivers Y16 depth frames, which WebRTC does not encode; fake_device_2 is MJPEG.)
  const camId = await cam.locator('option', { hasText: 'fake_device_2' }).getAttribute('value');
  const before = await waitTile(bob, alicePid, { want: PLAYING, what: "alice's first camera" });
  await cam.selectOption(camId);
  await alice.waitForFunction((id) => document.querySelector('.tm-root')?.dataset.videoIn === id, camId, { timeout: T });
  await waitTile(bob, alicePid, {
    want: { ...PLAYING, videoDecrypted: `>${Number(before.videoDecrypted) + 10}`, framesDecoded: `>${Number(before.framesDecoded) + 10}` },
    what: "alice's other camera reaches bob",
  });

  // Speaker: remote audio plays on the chosen output.
  const outId = await out.locator('option', { hasText: 'Fake Audio Output 1' }).getAttribute('value');
  await out.selectOption(outId);
  await alice.waitForFunction(
    (id) => {
      const players = [...document.querySelectorAll('.tm-root audio')];
      return players.length > 0 && players.every((a) => a.sinkId === id);
    },
    outId,
    { timeout: T },
  );
  await shot(alice, 'meeting-devices');

  const after = await waitTile(bob, alicePid, { want: PLAYING, what: 'still playing' });
  assert.equal(after.decryptFailed, '0', 'no frame failed to decrypt across the device changes');
  assert.equal((await waitTile(alice, bobPid, { want: PLAYING, what: 'bob still playing' })).decryptFailed, '0');
  assert.deepEqual(alice.problems, []);
  assert.deepEqual(bob.problems, []);
});

test('frames that do not decrypt show "Cannot decrypt", and recover', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  const badge = bob.locator(`.tm-tile[data-participant-id="${alicePid}"]:not([data-screen="true"]) .tm-e2ee`);
  assert.equal((await badge.textContent()).trim(), 'End-to-end encrypted');
  await alice.evaluate(() => (globalThis.__corrupt = true));
  const failed = await waitTile(bob, alicePid, { want: { e2ee: 'failed' }, what: "alice's tile says it cannot decrypt" });
  assert.ok(Number(failed.decryptFailed) > 0);
  assert.equal((await badge.textContent()).trim(), 'Cannot decrypt');
  assert.match(await badge.getAttribute('title'), /do not decrypt/);
  await bob.locator('.tm-root [data-action="people"]').click();
  const row = bob.locator(`.tm-people .tm-person[data-participant="p${alicePid}"] .tm-person-e2ee`);
  await row.locator('text=Cannot decrypt').waitFor({ timeout: T });
  assert.match(await row.getAttribute('class'), /tm-e2ee-failed/);
  // The warning is readable where it is shown: on the tile and in the list, light and dark.
  for (const scheme of ['dark', 'light']) {
    await bob.emulateMedia({ colorScheme: scheme });
    const { problems } = await contrastProblems(bob);
    assert.deepEqual(problems, [], `"Cannot decrypt" state (${scheme}): text below WCAG AA contrast`);
  }
  await shot(bob, 'meeting-cannot-decrypt');
  // Alice herself still decrypts bob: only her outgoing frames are affected.
  await waitTile(alice, bobPid, { want: { e2ee: 'ok' }, what: 'alice still decrypts bob' });

  await alice.evaluate(() => (globalThis.__corrupt = false));
  const back = await waitTile(bob, alicePid, { want: { e2ee: 'ok' }, what: "alice's tile recovers" });
  await waitTile(bob, alicePid, {
    want: { ...PLAYING, videoDecrypted: `>${Number(back.videoDecrypted) + 10}` },
    what: "alice's video plays again after the keyframe",
  });
  await row.locator('text=End-to-end encrypted').waitFor({ timeout: T });
  await bob.locator('.tm-root [data-action="people"]').click();
});
