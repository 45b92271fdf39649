// Meetings in real headless Chromium against a real `ting serve`: two members of a room meet and
// each sees the other's video, decoded by Chromium and decrypted by the media worker's SFrame
// transform (its counters are on the tiles' data-* attributes); a screen share appears on the other
// side; mute, camera-off and raised hands propagate, also to someone who joins later; each
// camera is asked for the simulcast layer that fits its tile; both leave cleanly; a user who is not
// a member is turned away with a clear message, by the view and by the server.
// Screenshots: docs/screenshots/meeting-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startTing, launchChromium, newPage, shot, repo, tingBin, PASSWORD } from './harness.mjs';
import { login, createRoom, openRoom, invite, openMembers } from './flows.mjs';
import { T, joinMeeting, tiles, waitTile, waitLayer, PLAYING } from './meeting-flows.mjs';

const ROOM = 'Weekly sync';
let ting;
let browser;
let alice; // English
let bob; // Swedish
let carol;
let roomId;
let restarted = null; // a server started by restartTing()

before(async () => {
  ting = await startTing({ webDir: process.env.TING_WEB_DIR ?? join(repo, 'web', 'dist') });
  for (const u of ['alice', 'bob', 'carol', 'mallory']) ting.createUser(u);
  browser = await launchChromium();
  alice = await newPage(browser, { lang: 'en-GB' });
  bob = await newPage(browser, { lang: 'sv-SE' });
  carol = await newPage(browser, { lang: 'en-GB' });
  for (const page of [alice, bob, carol]) watchSignaling(page);
});

/**
 * Records the meeting signaling a page exchanges on the app's WebSocket: `unknown_track` errors
 * (`page.unknownTrack`) and every `meeting_layer` sent (`page.layers`, per joined session).
 */
function watchSignaling(page) {
  page.unknownTrack = [];
  page.layers = [];
  let session = 0;
  page.on('websocket', (ws) => {
    const parse = (payload) => (String(payload).startsWith('{') ? JSON.parse(String(payload)) : null);
    ws.on('framereceived', ({ payload }) => {
      const msg = parse(payload);
      if (msg?.type === 'error' && msg.code === 'unknown_track') page.unknownTrack.push(msg);
      if (msg?.type === 'meeting_joined') session++;
    });
    ws.on('framesent', ({ payload }) => {
      const msg = parse(payload);
      if (msg?.type === 'meeting_layer') page.layers.push({ session, ...msg });
    });
  });
}

/** No `meeting_layer` repeated the previous choice for the same track of the same session. */
function assertLayersOnlyOnChange(page) {
  const last = new Map();
  for (const m of page.layers) {
    const key = `${m.session}/${m.participant_id}/${m.mid}`;
    assert.notEqual(last.get(key), m.layer, `a repeated layer request: ${JSON.stringify(m)}`);
    last.set(key, m.layer);
  }
}

after(async () => {
  await browser?.close();
  restarted?.kill('SIGTERM');
  await ting?.stop();
});

let alicePid;
let bobPid;

test('two members meet and see each other, end-to-end encrypted', async () => {
  // Bob and Carol sign in first: their devices publish the KeyPackages needed to invite them.
  await bob.goto(ting.url);
  await login(bob, 'bob', PASSWORD);
  await carol.goto(ting.url);
  await login(carol, 'carol', PASSWORD);
  await alice.goto(ting.url);
  await login(alice, 'alice', PASSWORD);
  roomId = await createRoom(alice, ROOM, { invite: ['bob'] });
  await openRoom(bob, ROOM);

  alicePid = await joinMeeting(alice, 'meeting-lobby');
  bobPid = await joinMeeting(bob);
  assert.notEqual(alicePid, bobPid);

  const seenByAlice = await waitTile(alice, bobPid, { want: PLAYING, what: "alice sees bob's video" });
  const seenByBob = await waitTile(bob, alicePid, { want: PLAYING, what: "bob sees alice's video" });
  for (const t of [seenByAlice, seenByBob]) {
    assert.equal(t.decryptFailed, '0', 'no frame failed to decrypt');
    assert.ok(Number(t.framesDecoded) > 0 && Number(t.videoDecrypted) > 0);
  }
  console.log(`alice sees bob: ${JSON.stringify(seenByAlice)}`);
  console.log(`bob sees alice: ${JSON.stringify(seenByBob)}`);
  // Each asks the SFU for the other's simulcast layer that fits the tile.
  for (const [page, pid, who] of [[alice, bobPid, 'alice'], [bob, alicePid, 'bob']]) {
    const { height, layer } = await waitLayer(page, pid, { what: `${who}'s layer request` });
    console.log(`${who} asks for ${layer} (tile ${height} px tall)`);
  }
  // The active speaker is found from the decrypted audio (the fake microphone beeps).
  await waitTile(alice, bobPid, { want: { speaking: 'true' }, what: 'bob is heard speaking' });
  // The connection indicator has measured the path, and the camera goes out in simulcast layers.
  await alice.waitForFunction(() => document.querySelector('.tm-pill-quality')?.dataset.quality !== 'unknown', null, { timeout: T });
  await alice.waitForFunction(() => (document.querySelector('.tm-pill-quality')?.dataset.layers ?? '').split(' ').length >= 2, null, { timeout: T });
  console.log(`alice's link: ${JSON.stringify(await alice.locator('.tm-pill-quality').evaluate((e) => ({ ...e.dataset })))}`);
  await shot(alice, 'meeting-two');
  await shot(bob, 'meeting-sv');
});

test('a screen share appears on the other side', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  await alice.locator('.tm-root [data-action="share"]').click();
  await alice.locator('.tm-tile[data-self="true"][data-screen="true"]').waitFor({ timeout: T });
  const screen = await waitTile(bob, alicePid, { screen: true, want: PLAYING, what: "bob sees alice's screen" });
  assert.equal(screen.screen, 'true');
  await bob.waitForFunction(() => document.querySelector('.tm-stage')?.dataset.layout === 'presentation');
  // The camera moved to the strip beside the screen: a small tile, so the low layer. The
  // screen (one encoding) is not asked for a layer.
  await waitTile(bob, alicePid, { want: { layer: 'low' }, what: "alice's camera in the strip asks for low" });
  assert.equal((await waitTile(bob, alicePid, { screen: true, want: {}, what: 'the screen tile' })).layer, undefined);
  await shot(bob, 'meeting-screen-share');
  await alice.locator('.tm-root [data-action="share"]').click();
  await bob.waitForFunction(
    (pid) => ![...document.querySelectorAll('.tm-tile')].some((e) => e.dataset.participantId === String(pid) && e.dataset.screen === 'true'),
    alicePid,
    { timeout: T },
  );
  // The camera keeps playing after the share stopped, and sharing again works (a new m-line).
  await waitTile(bob, alicePid, { want: PLAYING, what: "alice's camera after the share" });
  await alice.locator('.tm-root [data-action="share"]').click();
  await waitTile(bob, alicePid, { screen: true, want: PLAYING, what: "alice's second screen share" });
  await alice.locator('.tm-root [data-action="share"]').click();
  await alice.locator('.tm-tile[data-self="true"][data-screen="true"]').waitFor({ state: 'detached', timeout: T });
});

test('mute and camera off propagate', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  await alice.locator('.tm-root [data-action="mic"]').click();
  await waitTile(bob, alicePid, { want: { audioMuted: 'true' }, what: 'mute reaches bob' });
  await alice.locator('.tm-root [data-action="camera"]').click();
  await waitTile(bob, alicePid, { want: { videoOff: 'true' }, what: 'camera off reaches bob' });
  // A raised hand goes through the server: alice's own tile shows the echo, bob's tile too.
  await alice.locator('.tm-root [data-action="hand"]').click();
  await alice.locator('.tm-tile[data-self="true"][data-hand="true"]').waitFor({ timeout: T });
  assert.equal(await alice.locator('.tm-root [data-action="hand"]').getAttribute('aria-pressed'), 'true');
  await waitTile(bob, alicePid, { want: { hand: 'true' }, what: 'the raised hand reaches bob' });
  const badge = bob.locator(`.tm-tile[data-participant-id="${alicePid}"]:not([data-screen="true"]) .tm-hand`);
  assert.equal(await badge.isVisible(), true);
  assert.equal(await badge.getAttribute('aria-label'), 'alice: handen uppräckt');
  await shot(bob, 'meeting-muted');
  await shot(alice, 'meeting-muted-self');

  await alice.locator('.tm-root [data-action="mic"]').click();
  await alice.locator('.tm-root [data-action="camera"]').click();
  const before = await waitTile(bob, alicePid, { want: { ...PLAYING, audioMuted: '!true' }, what: 'unmute and camera on reach bob' });
  await waitTile(bob, alicePid, {
    want: { framesRendered: '!' + before.framesRendered, videoDecrypted: '!' + before.videoDecrypted },
    what: 'video flows again after the camera came back',
  });
});

test('the participant list shows who is there and their encryption state', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  await bob.locator('.tm-root [data-action="people"]').click();
  const rows = bob.locator('.tm-people .tm-person');
  await bob.waitForFunction(() => document.querySelectorAll('.tm-people .tm-person').length === 2);
  assert.equal(await rows.count(), 2);
  await bob.locator('.tm-people .tm-e2ee-ok').first().waitFor();
  // Alice's hand is still up: her row says so, in words for screen readers.
  const row = bob.locator(`.tm-people .tm-person[data-participant="p${alicePid}"]`);
  assert.equal(await row.getAttribute('data-hand'), 'true');
  assert.equal(await row.locator('.tm-hand').getAttribute('aria-label'), 'Handen uppräckt');
  await shot(bob, 'meeting-participants');
  await bob.locator('.tm-root [data-action="people"]').click();
});

test('a 375 px phone screen', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  await bob.setViewportSize({ width: 375, height: 740 });
  await waitTile(bob, alicePid, { want: PLAYING, what: 'video on the phone screen' });
  const box = await bob.locator(`.tm-tile[data-participant-id="${alicePid}"]`).boundingBox();
  assert.ok(box.width <= 375 && box.width >= 200, `tile fits the screen: ${box.width}`);
  const toolbar = await bob.locator('.tm-toolbar').boundingBox();
  assert.ok(toolbar.x >= 0 && toolbar.x + toolbar.width <= 375, 'toolbar fits');
  await shot(bob, 'meeting-narrow');
  await bob.setViewportSize({ width: 1280, height: 800 });
});

test('each camera is asked for the simulcast layer that fits its tile', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  const unknownBefore = bob.unknownTrack.length;
  // A wide high-density screen: the meeting area is at most about 560 px tall in the room view,
  // so the tile is about 390 CSS px tall, which is 780 device pixels at a device pixel ratio of 2.
  const cdp = await bob.context().newCDPSession(bob);
  await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1920, height: 1200, deviceScaleFactor: 2, mobile: false });
  const large = await waitLayer(bob, alicePid, { layer: 'high', ratio: 2, what: 'a large tile' });
  // Alice sends her camera in up to three layers (as many as her bandwidth estimate allows; `q`
  // always). For the large tile bob receives more than the smallest, for the small one less.
  const sent = String(await alice.locator('.tm-pill-quality').getAttribute('data-layers'));
  const q = Number(/q:\d+x(\d+)/.exec(sent)?.[1]);
  assert.ok(q > 0, `alice sends the low layer: ${sent}`);
  const frames = async (want, what) => Number((await waitTile(bob, alicePid, { want: { frameHeight: want }, what })).frameHeight);
  const big = await frames(`>${q}`, `bob receives more than ${q} px`);
  // A phone screen: one small tile, so `low`, and the frames bob receives get smaller.
  await cdp.send('Emulation.clearDeviceMetricsOverride');
  await bob.setViewportSize({ width: 375, height: 740 });
  const small = await waitLayer(bob, alicePid, { layer: 'low', what: 'a small tile' });
  const smaller = await frames(`<${big}`, 'smaller frames for the small tile');
  console.log(`alice sends ${sent}; bob receives ${big} px for a ${large.height} px tile at ratio 2 (high), ${smaller} px for a ${small.height} px tile (low)`);
  await cdp.detach();
  await bob.setViewportSize({ width: 1280, height: 800 });
  await waitLayer(bob, alicePid, { what: 'back to the normal window' });
  assert.deepEqual(bob.unknownTrack.slice(unknownBefore), [], 'no unknown_track error');
  assertLayersOnlyOnChange(bob);
});

/** The MLS epoch the media worker of `page` encrypts with (from the header's lock pill). */
const epochOf = async (page) => Number(await page.locator('.tm-pill-e2ee').getAttribute('data-epoch'));

async function waitEpoch(page, above) {
  await page.waitForFunction((e) => Number(document.querySelector('.tm-pill-e2ee')?.dataset.epoch) > e, above, { timeout: T });
  return epochOf(page);
}

test('keys change when someone is added, and a removed member is cut off', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  const before = await epochOf(alice);
  assert.ok(before >= 1, `keyed: epoch ${before}`);
  await invite(alice, 'carol');
  const added = await waitEpoch(alice, before);
  assert.equal(await waitEpoch(bob, before), added);
  // Both keep seeing each other, now with the new epoch's keys.
  await waitTile(bob, alicePid, { want: { ...PLAYING, epoch: String(added) }, what: 'alice under the new keys' });
  await waitTile(alice, bobPid, { want: { ...PLAYING, epoch: String(added) }, what: 'bob under the new keys' });

  // Bob mutes before carol comes; alice's hand is still up. Carol learns both from the server.
  await bob.locator('.tm-root [data-action="mic"]').click();
  await waitTile(alice, bobPid, { want: { audioMuted: 'true' }, what: 'bob muted' });
  await openRoom(carol, ROOM);
  const carolPid = await joinMeeting(carol);
  for (const [page, pid, what] of [
    [carol, alicePid, 'carol sees alice'],
    [carol, bobPid, 'carol sees bob'],
    [alice, carolPid, 'alice sees carol'],
    [bob, carolPid, 'bob sees carol'],
  ]) {
    await waitTile(page, pid, { want: PLAYING, what });
  }
  await shot(alice, 'meeting-three');
  await waitTile(carol, alicePid, { want: { hand: 'true' }, what: "carol, who came later, sees alice's raised hand" });
  await waitTile(carol, bobPid, { want: { audioMuted: 'true' }, what: 'carol, who came later, sees bob muted' });
  await waitTile(carol, alicePid, { want: { audioMuted: '!true' }, what: 'carol sees alice unmuted' });
  await shot(carol, 'meeting-late-joiner');
  // Lowered hand and unmute reach everyone.
  await alice.locator('.tm-root [data-action="hand"]').click();
  await bob.locator('.tm-root [data-action="mic"]').click();
  for (const page of [bob, carol]) await waitTile(page, alicePid, { want: { hand: '!true' }, what: 'the hand goes down' });
  for (const page of [alice, carol]) await waitTile(page, bobPid, { want: { audioMuted: '!true' }, what: 'bob unmuted' });
  await alice.locator('.tm-tile[data-self="true"]:not([data-hand])').waitFor({ timeout: T });

  const panel = await openMembers(alice);
  await panel.locator('[data-testid="member"][data-username="carol"] [data-testid="remove-member"]').click();
  await alice.getByTestId('confirm').click();
  const end = carol.locator('.tm-end[data-end="removed"]');
  await end.waitFor({ timeout: T });
  assert.match(await end.textContent(), /removed from the room/i);
  await shot(carol, 'meeting-removed');
  for (const page of [alice, bob]) {
    await page.waitForFunction(
      (pid) => ![...document.querySelectorAll('.tm-tile')].some((e) => e.dataset.participantId === String(pid)),
      carolPid,
      { timeout: T },
    );
  }
  const removed = await waitEpoch(alice, added);
  await waitTile(bob, alicePid, { want: { ...PLAYING, epoch: String(removed) }, what: 'alice after carol was removed' });
  await waitTile(alice, bobPid, { want: { ...PLAYING, epoch: String(removed) }, what: 'bob after carol was removed' });
  await alice.getByTestId('members-close').click();
});

/** Restarts the server on the same address and data directory (meetings live in memory only). */
async function restartTing() {
  const { port } = new URL(ting.url);
  process.kill(ting.pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(ting.pid, 0);
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      break;
    }
  }
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', join(ting.dataDir, 'data')];
  const webDir = process.env.TING_WEB_DIR ?? join(repo, 'web', 'dist');
  if (webDir) args.push('--web-dir', webDir);
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TING_'))),
    TING_AUTH_ARGON2_MEMORY_KIB: '256',
    TING_AUTH_ARGON2_ITERATIONS: '1',
    TING_AUTH_MAX_ATTEMPTS_PER_ADDRESS: '100000',
  };
  restarted = spawn(tingBin(), args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('ting did not restart')), 30_000);
    restarted.stdout.once('data', () => {
      clearTimeout(timer);
      ok();
    });
  });
}

test('after the server restarts, the app reconnects and the view rejoins', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  await restartTing();
  for (const page of [alice, bob]) {
    await page.locator('.tm-root[data-state="reconnecting"]').waitFor({ timeout: T });
  }
  await shot(alice, 'meeting-reconnecting');
  for (const page of [alice, bob]) {
    await page.locator('.tm-root[data-state="joined"]').waitFor({ timeout: T });
  }
  alicePid = Number(await alice.locator('.tm-root').getAttribute('data-participant-id'));
  bobPid = Number(await bob.locator('.tm-root').getAttribute('data-participant-id'));
  // Video plays again, and the layer choice is sent again to the new session.
  await waitTile(alice, bobPid, { want: { ...PLAYING, layer: '?' }, what: 'bob after the rejoin' });
  await waitTile(bob, alicePid, { want: { ...PLAYING, layer: '?' }, what: 'alice after the rejoin' });
  // The browsers logged the dropped WebSocket; that is expected here.
  for (const page of [alice, bob]) page.problems = page.problems.filter((p) => !/websocket|ERR_CONNECTION/i.test(p));
});

test('both leave cleanly', async (t) => {
  if (!bobPid) return t.skip('no meeting');
  console.log(`before leaving, alice sees bob: ${JSON.stringify((await tiles(alice)).find((x) => x.participantId === String(bobPid)))}`);
  await alice.locator('.tm-root [data-action="leave"]').click();
  await alice.getByTestId('meeting-slot').waitFor({ state: 'detached', timeout: T });
  await bob.waitForFunction(
    (pid) => ![...document.querySelectorAll('.tm-tile')].some((e) => e.dataset.participantId === String(pid)),
    alicePid,
    { timeout: T },
  );
  await bob.locator('.tm-alone').waitFor({ state: 'visible' });
  await bob.locator('.tm-root [data-action="leave"]').click();
  await bob.getByTestId('meeting-slot').waitFor({ state: 'detached', timeout: T });
  assert.deepEqual(alice.problems.filter((p) => !/favicon/.test(p)), []);
  assert.deepEqual(bob.problems.filter((p) => !/favicon/.test(p)), []);
  for (const page of [alice, bob, carol]) {
    assert.deepEqual(page.unknownTrack, [], 'no layer request named an unknown track');
    assertLayersOnlyOnChange(page);
  }
  console.log(`layer requests sent: alice ${alice.layers.length}, bob ${bob.layers.length}, carol ${carol.layers.length}`);
});

test('without camera and microphone permission one can still join', async () => {
  await alice.addInitScript(() => {
    const deny = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    navigator.mediaDevices.getUserMedia = deny;
  });
  await alice.reload();
  if (await alice.getByTestId('login-page').isVisible().catch(() => false)) await login(alice, 'alice', PASSWORD);
  await openRoom(alice, ROOM);
  await alice.getByTestId('start-meeting').click();
  const notice = alice.locator('.tm-notice[data-problem="denied"]');
  await notice.waitFor({ timeout: T });
  assert.match(await notice.textContent(), /may not use your camera or microphone/i);
  const join = alice.locator('.tm-root [data-action="join"]');
  assert.match(await join.textContent(), /without camera and microphone/i);
  await shot(alice, 'meeting-no-permission');
  await join.click();
  await alice.locator('.tm-root[data-state="joined"]').waitFor({ timeout: T });
  await alice.locator('.tm-tile[data-self="true"][data-audio-muted="true"][data-video-off="true"]').waitFor();
  await alice.locator('.tm-root [data-action="leave"]').click();
  await alice.getByTestId('meeting-slot').waitFor({ state: 'detached', timeout: T });
});

test('a user who is not a member cannot join the meeting', async () => {
  const mallory = await newPage(browser, { lang: 'en-GB' });
  await mallory.goto(ting.url);
  await login(mallory, 'mallory', PASSWORD);
  // The server refuses the join itself (no membership, no media session)...
  const refusal = await mallory.evaluate(async ({ roomId, password }) => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const res = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'mallory', password, device_name: 'probe', signature_key: btoa(String.fromCharCode(...key)) }),
    });
    const { token } = await res.json();
    const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/api/v1/ws`);
    return new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error('no answer')), 10_000);
      ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
      ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data);
        if (msg.type === 'hello') ws.send(JSON.stringify({ type: 'meeting_join', room_id: roomId, sdp: 'v=0\r\n' }));
        if (msg.type === 'error' || msg.type === 'meeting_joined') {
          ws.close();
          resolve(msg);
        }
      };
    });
  }, { roomId, password: PASSWORD });
  assert.equal(refusal.type, 'error');
  assert.equal(refusal.code, 'unknown_room');

  // ...and the meeting view says so in words when she opens the room's address.
  await mallory.goto(`${ting.url}#/rooms/${roomId}`);
  await mallory.getByTestId('start-meeting').click();
  const end = mallory.locator('.tm-end[data-end="refused"]');
  await end.waitFor({ timeout: T });
  assert.match(await end.textContent(), /cannot join this meeting/i);
  assert.match(await end.textContent(), /only members of this room/i);
  await shot(mallory, 'meeting-refused');
  await mallory.context().close();
});
