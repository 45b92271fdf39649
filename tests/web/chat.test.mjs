// Chat in real headless Chromium: sign-in errors, rooms, invitations, messages both ways, edits,
// reactions, replies, encrypted images (drag and drop and file input), safety numbers, settings,
// Swedish, a non-member, a second device of a user, and a 375 px phone screen. Saves a
// screenshot of every screen under docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTing, launchChromium, newPage, shot, repo, tingBin, PASSWORD } from './harness.mjs';
import {
  login, loginError, createRoom, invite, openRoom, sendMessage, waitForMessage, openMembers,
  openSafetyNumber, openSettings, setLanguage, loginNewDevice, linkDevice,
} from './flows.mjs';

const ROOM = 'Project Ting';
let ting;
let browser;
let alice;
let bob;
let phone;

/** A PNG made by the page's canvas (so the test needs no image files). */
async function makePng(page, { w, h, color }) {
  const b64 = await page.evaluate(async ({ w, h, color }) => {
    const c = new OffscreenCanvas(w, h);
    const g = c.getContext('2d');
    g.fillStyle = color;
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#ffffff';
    g.fillRect(w / 4, h / 4, w / 2, h / 2);
    const blob = await c.convertToBlob({ type: 'image/png' });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }, { w, h, color });
  return Buffer.from(b64, 'base64');
}

/** Drops a file on the room view through a DataTransfer, as a user dragging it in would. */
async function dropFile(page, name, bytes, type) {
  await page.evaluate(({ name, b64, type }) => {
    const bin = atob(b64);
    const arr = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
    const dt = new DataTransfer();
    dt.items.add(new File([arr], name, { type }));
    const target = document.querySelector('[data-testid="timeline"]');
    for (const kind of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(kind, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, { name, b64: bytes.toString('base64'), type });
}

async function imageLoaded(page, name) {
  const img = page.locator(`[data-testid="image-preview"][alt=${JSON.stringify(name)}]`).last();
  await img.waitFor({ timeout: 30_000 });
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  return img;
}

const webDir = process.env.TING_WEB_DIR ?? join(repo, 'web', 'dist');

/** The one-time setup link the server prints (to its terminal, here its log) at first start. */
async function setupLink() {
  for (let i = 0; i < 100; i++) {
    const m = /(http:\/\/\S+\/setup#token=\S+)/.exec(readFileSync(ting.logPath, 'utf8'));
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no setup link in the server log');
}

before(async () => {
  ting = await startTing({ webDir });
  await setupLink();
  browser = await launchChromium();
  alice = await newPage(browser, { lang: 'en-GB', viewport: { width: 1280, height: 900 } });
  bob = await newPage(browser, { lang: 'en-GB', viewport: { width: 1280, height: 900 } });
});

test('the first administrator is created from the one-time setup link', async () => {
  const page = await newPage(browser, { lang: 'en-GB' });
  const link = await setupLink();
  await page.goto(link.replace('#token=', '#token=x'));
  await page.getByTestId('setup-username').fill('admin');
  await page.getByTestId('setup-password').fill(PASSWORD);
  await page.getByTestId('setup-confirm').fill(PASSWORD);
  await page.getByTestId('setup-submit').click();
  await page.getByTestId('setup-error').waitFor();
  assert.match(await page.getByTestId('setup-error').textContent(), /not valid/);
  await page.goto('about:blank');
  await page.goto(link);
  await page.getByTestId('setup-username').fill('admin');
  await page.getByTestId('setup-password').fill(PASSWORD);
  await page.getByTestId('setup-confirm').fill(PASSWORD);
  await shot(page, 'setup');
  await page.getByTestId('setup-submit').click();
  await page.getByTestId('setup-done').waitFor();
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) ting.createUser(u);
  assert.ok(!page.url().includes('token='), 'the token is removed from the address bar');
  await shot(page, 'setup-done');
  // The one deliberate failure above (a wrong token) is the only thing the console shows.
  assert.deepEqual(page.problems.filter((p) => !/status of 401/.test(p)), []);
  await page.context().close();
});

after(async () => {
  await browser?.close();
  await ting?.stop();
});

test('a wrong password gets a clear error', async () => {
  await alice.goto(ting.url);
  await alice.getByTestId('login-page').waitFor();
  await shot(alice, 'login');
  const text = await loginError(alice, 'alice', 'not the password');
  assert.match(text, /wrong username or password/i);
  await shot(alice, 'login-error');
});

test('two users sign in, create a room and invite', async () => {
  await login(alice, 'alice', PASSWORD);
  await bob.goto(ting.url);
  await login(bob, 'bob', PASSWORD);
  await alice.getByTestId('no-rooms').waitFor();
  await shot(alice, 'rooms-empty');
  await alice.getByTestId('new-room').click();
  await alice.getByTestId('create-room-name').fill(ROOM);
  await shot(alice, 'create-room');
  await alice.keyboard.press('Escape');
  await alice.getByTestId('create-room-dialog').waitFor({ state: 'detached' });
  await createRoom(alice, ROOM);
  await assert.rejects(invite(alice, 'nobody'), /no user called nobody/);
  await shot(alice, 'invite-error');
  await alice.keyboard.press('Escape');
  await invite(alice, 'bob');
  await openRoom(bob, ROOM);
  await bob.locator('[data-testid="system-line"]', { hasText: 'alice added you' }).waitFor();
});

test('messages go both ways, with edit, reaction and reply', async () => {
  await sendMessage(alice, 'Hello Bob, the minutes are ready.');
  await waitForMessage(bob, 'Hello Bob, the minutes are ready.');
  await sendMessage(bob, 'Thanks Alice!');
  await waitForMessage(alice, 'Thanks Alice!');

  // Edit
  const mine = await waitForMessage(alice, 'Hello Bob, the minutes are ready.');
  await mine.hover();
  await mine.getByTestId('action-edit').click();
  const input = alice.getByTestId('composer-input');
  // Editing puts the message's text in the box in the same render that shows "Editing".
  await alice.getByTestId('composer-context').waitFor();
  assert.equal(await input.inputValue(), 'Hello Bob, the minutes are ready.');
  await input.fill('Hello Bob, the minutes from Monday are ready.');
  await input.press('Enter');
  const edited = await waitForMessage(bob, 'Hello Bob, the minutes from Monday are ready.');
  await edited.getByTestId('message-edited').waitFor();

  // Reaction
  await edited.hover();
  await edited.getByTestId('action-react').click();
  await edited.locator('[data-testid="emoji"][data-emoji="👍"]').click();
  const reaction = (await waitForMessage(alice, 'Hello Bob, the minutes from Monday are ready.')).locator('[data-testid="reaction"][data-emoji="👍"]');
  await reaction.waitFor();
  assert.equal((await reaction.locator('.reaction-count').textContent()).trim(), '1');

  // Reply
  await edited.hover();
  await edited.getByTestId('action-reply').click();
  await bob.getByTestId('composer-context').waitFor();
  await sendMessage(bob, 'I will read them tonight.');
  const reply = await waitForMessage(alice, 'I will read them tonight.');
  const quote = reply.getByTestId('reply-quote');
  await quote.waitFor();
  assert.match(await quote.textContent(), /minutes from Monday/);
});

test('images are shared encrypted, by drag and drop and by the file button', async () => {
  const png1 = await makePng(alice, { w: 320, h: 200, color: '#0b5cad' });
  await dropFile(alice, 'diagram.png', png1, 'image/png');
  await imageLoaded(alice, 'diagram.png');
  await imageLoaded(bob, 'diagram.png');

  const png2 = await makePng(bob, { w: 240, h: 160, color: '#1d6b35' });
  await bob.getByTestId('file-input').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: png2 });
  await imageLoaded(bob, 'photo.png');
  await imageLoaded(alice, 'photo.png');
  await alice.getByTestId('uploads').waitFor({ state: 'detached' }).catch(() => {});
  await shot(alice, 'room');
  await shot(bob, 'room-bob');
});

test('safety numbers match on both sides and can be marked verified', async () => {
  const a = await openSafetyNumber(alice, 'bob');
  const b = await openSafetyNumber(bob, 'alice');
  assert.match(a.digits, /^\d{60}$/);
  assert.equal(a.digits, b.digits);
  await alice.getByTestId('safety-qr').waitFor();
  await shot(alice, 'safety-number');
  await a.dialog.getByTestId('safety-toggle').click();
  await a.dialog.locator('[data-testid="safety-state"][data-verified="true"]').waitFor();
  await alice.keyboard.press('Escape');
  await a.dialog.waitFor({ state: 'detached' });
  await bob.keyboard.press('Escape');
  const panel = await openMembers(alice);
  await panel.locator('[data-testid="member"][data-username="bob"] [data-testid="verification"][data-state="verified"]').waitFor();
  await shot(alice, 'members');
});

test('settings list the devices; Swedish can be chosen', async () => {
  await openSettings(alice);
  const devices = alice.getByTestId('device');
  await devices.first().waitFor();
  assert.equal(await devices.count(), 1);
  assert.equal(await devices.first().getAttribute('data-current'), 'true');
  await shot(alice, 'settings');
  await setLanguage(alice, 'sv');
  await alice.locator('h1:has-text("Inställningar")').waitFor();
  await shot(alice, 'settings-sv');
  await openRoom(alice, ROOM);
  await alice.locator('[data-testid="composer-input"][placeholder="Skriv ett meddelande…"]').waitFor();
  await shot(alice, 'room-sv');
  await setLanguageFromSettings(alice, 'en');
});

async function setLanguageFromSettings(page, lang) {
  await openSettings(page);
  await setLanguage(page, lang);
}

test('the login page follows the browser language (Swedish)', async () => {
  const page = await newPage(browser, { lang: 'sv-SE' });
  await page.goto(ting.url);
  await page.locator('h1:has-text("Logga in")').waitFor();
  await shot(page, 'login-sv');
  await loginError(page, 'carol', 'fel lösenord');
  assert.match(await page.getByTestId('login-error').textContent(), /Fel användarnamn eller lösenord/);
  await shot(page, 'login-error-sv');
  await page.context().close();
});

test('a second tab of the same browser does not fork the device', async () => {
  const tab = await alice.context().newPage();
  await tab.goto(ting.url);
  await tab.getByTestId('locked').waitFor();
  await shot(tab, 'second-tab');
  await tab.close();
  await alice.getByTestId('signed-in-as').waitFor();
});

test('a user who is not a member does not see the room', async () => {
  const carol = await newPage(browser, { lang: 'en-GB' });
  await carol.goto(ting.url);
  await login(carol, 'carol', PASSWORD);
  await carol.getByTestId('no-rooms').waitFor();
  assert.equal(await carol.getByTestId('room-item').count(), 0);
  await shot(carol, 'non-member');
  await carol.context().close();
});

test('a new room with an invitation shows as unread; other files are downloaded and checked', async () => {
  await openRoom(bob, ROOM);
  await createRoom(alice, 'Budget 2027', { invite: ['bob'] });
  await sendMessage(alice, 'Here is the draft budget.');
  const text = 'Line 1: salaries\nLine 2: premises\n';
  await alice.getByTestId('file-input').setInputFiles({ name: 'budget.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await alice.getByTestId('file-card').waitFor();
  const item = bob.locator('[data-testid="room-item"][data-room-name="Budget 2027"]');
  // The message and the file: two unread.
  await item.locator('[data-testid="unread"]:text-is("2")').waitFor();
  await shot(bob, 'room-list-unread');
  await openRoom(bob, 'Budget 2027');
  await item.locator('[data-testid="unread"]').waitFor({ state: 'detached' });
  const card = bob.getByTestId('file-card');
  await card.waitFor();
  const [download] = await Promise.all([bob.waitForEvent('download'), card.getByTestId('file-download').click()]);
  assert.equal(download.suggestedFilename(), 'budget.txt');
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString('utf8'), text);
  await shot(bob, 'room-file');
});

test('a second device on a 375 px phone screen gets the room and works', async () => {
  phone = await newPage(browser, { lang: 'en-GB', viewport: { width: 375, height: 740 } });
  await phone.goto(ting.url);
  await shot(phone, 'narrow-login');
  const code = await loginNewDevice(phone, 'alice', PASSWORD);
  // Alice's first device certifies the new one (link code), then adds it to her rooms when its
  // certificate appears in the key log (key_log_appended → commit + welcome).
  await linkDevice(phone, alice, code);
  await openRoom(phone, ROOM);
  await sendMessage(phone, 'Sent from my phone.');
  await openRoom(bob, ROOM);
  await waitForMessage(bob, 'Sent from my phone.');
  await openRoom(alice, ROOM);
  await waitForMessage(alice, 'Sent from my phone.');
  await phone.getByTestId('back').click();
  await phone.getByTestId('room-list').waitFor();
  await shot(phone, 'narrow-rooms');
  await openRoom(phone, ROOM);
  await shot(phone, 'narrow-room');
  await openMembers(phone);
  await shot(phone, 'narrow-members');
  await phone.getByTestId('members-close').click();
  const problems = [...alice.problems, ...bob.problems, ...phone.problems];
  assert.deepEqual(problems, []);
});


/** Runs the native command-line client (ting-client) as user `dave`. */
function native(dir, args, input) {
  const r = spawnSync(nativeBin(), ['--dir', dir, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ting-client ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function nativeBin() {
  return process.env.TING_CLIENT_BIN ?? join(dirname(tingBin()), 'ting-client');
}

test('the web app and the native client share a room', async () => {
  assert.ok(existsSync(nativeBin()), `no ting-client binary at ${nativeBin()} (build it or set TING_CLIENT_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), 'ting-native-'));
  try {
    native(dir, ['login', '--server', ting.url, '--username', 'dave', '--password-stdin'], `${PASSWORD}\n`);
    native(dir, ['create-room', '--name', 'Native room']);
    native(dir, ['invite', 'Native room', 'alice']);
    native(dir, ['send', 'Native room', 'Hello from the command line']);
    await openRoom(alice, 'Native room');
    await alice.locator('[data-testid="system-line"]', { hasText: 'dave added you' }).waitFor();
    await waitForMessage(alice, 'Hello from the command line');
    await sendMessage(alice, 'Hello from the browser');
    const png = await makePng(alice, { w: 200, h: 120, color: '#b3261e' });
    const file = join(dir, 'native.png');
    writeFileSync(file, png);
    native(dir, ['send-file', 'Native room', file, '--media-type', 'image/png']);
    await imageLoaded(alice, 'native.png');
    const history = native(dir, ['messages', 'Native room']);
    assert.match(history, /Hello from the browser/);
    const { digits } = await openSafetyNumber(alice, 'dave');
    const members = native(dir, ['members', 'Native room']);
    assert.ok(members.replace(/\D/g, '').includes(digits), `native safety number matches:\n${members}`);
    await alice.keyboard.press('Escape');
    await shot(alice, 'native-interop');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two members invite at the same moment: the loser of the epoch race rebases', async () => {
  await openRoom(alice, ROOM);
  await openRoom(bob, ROOM);
  await Promise.all([invite(alice, 'carol'), invite(bob, 'dave')]);
  for (const page of [alice, bob]) {
    await page.locator('[data-testid="system-line"]', { hasText: 'added carol' }).waitFor();
    await page.locator('[data-testid="system-line"]', { hasText: 'added dave' }).waitFor();
  }
  await sendMessage(bob, 'Welcome, Carol and Dave.');
  await waitForMessage(alice, 'Welcome, Carol and Dave.');
  const panel = await openMembers(alice);
  assert.equal(await panel.getByTestId('member').count(), 4);
  await panel.getByTestId('members-close').click();
});

test('leaving a room: the others see it, the leaver reads no further', async () => {
  await openRoom(bob, 'Budget 2027');
  await bob.getByTestId('room-menu').click();
  await bob.getByTestId('menu-leave').click();
  await bob.getByTestId('confirm').click();
  await bob.getByTestId('removed-notice').waitFor();
  await openRoom(alice, 'Budget 2027');
  await alice.locator('[data-testid="system-line"]', { hasText: 'bob left the room' }).waitFor();
  await sendMessage(alice, 'Sent after bob left.');
  await shot(bob, 'room-left');
  assert.equal(await bob.locator('[data-testid="message-text"]:has-text("Sent after bob left.")').count(), 0);
  assert.ok(await bob.getByTestId('composer-input').isDisabled());
});

test('a revoked device is signed out, wiped, and removed from the rooms', async () => {
  await openSettings(alice);
  const other = alice.locator('[data-testid="device"][data-current="false"]');
  await other.waitFor();
  await other.getByTestId('revoke-device').click();
  await alice.getByTestId('confirm').click();
  await phone.getByTestId('session-notice').waitFor();
  assert.match(await phone.getByTestId('session-notice').textContent(), /signed out from another device/);
  await shot(phone, 'narrow-revoked');
  await openRoom(alice, ROOM);
  await alice.locator('[data-testid="system-line"]', { hasText: 'You removed a device' }).waitFor();
  await phone.context().close();
});

test('too many wrong passwords are refused with a clear message', async () => {
  const page = await newPage(browser, { lang: 'en-GB' });
  await page.goto(ting.url);
  let text = '';
  for (let i = 0; i < 12 && !/too many/i.test(text); i++) text = await loginError(page, 'erin', `wrong ${i}`);
  assert.match(text, /too many attempts/i);
  await shot(page, 'login-rate-limited');
  await page.context().close();
});

test('signing out deletes the keys and history from the browser', async () => {
  // A user's first device (a further one of carol would wait to be linked).
  const page = await newPage(browser, { lang: 'en-GB' });
  await page.goto(ting.url);
  await login(page, 'frank', PASSWORD);
  await openSettings(page);
  await page.getByTestId('logout').click();
  await shot(page, 'sign-out-confirm');
  await page.getByTestId('confirm').click();
  await page.getByTestId('login-page').waitFor();
  const records = await page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('ting');
    req.onsuccess = () => {
      const db = req.result;
      const stores = [...db.objectStoreNames];
      if (!stores.length) return resolve(0);
      const tx = db.transaction(stores, 'readonly');
      let n = 0;
      for (const s of stores) tx.objectStore(s).count().onsuccess = (e) => (n += e.target.result);
      tx.oncomplete = () => resolve(n);
      tx.onerror = () => reject(tx.error);
    };
    req.onerror = () => reject(req.error);
  }));
  assert.equal(records, 0);
  await page.context().close();
});

test('connection loss: a banner, the unsent message is kept and delivered after reconnecting', { timeout: 120_000 }, async () => {
  await openRoom(bob, ROOM);
  process.env.TING_KEEP_DATA = '1';
  const port = new URL(ting.url).port;
  await ting.stop();
  await alice.getByTestId('connection-banner').waitFor();
  const input = alice.getByTestId('composer-input');
  await input.fill('Written while the server was down.');
  await input.press('Enter');
  await alice.locator('[data-testid="outbox-item"][data-status="failed"]').waitFor();
  await shot(alice, 'connection-lost');
  const again = spawn(tingBin(), ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', join(ting.dataDir, 'data'), '--web-dir', webDir], {
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'TING_CONFIG')),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  again.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => again.once('exit', r));
  try {
    await new Promise((r) => setTimeout(r, 1500));
    for (const page of [alice, bob]) {
      const banner = page.getByTestId('connection-banner');
      if (await banner.isVisible()) await banner.locator('button').click();
    }
    await alice.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30_000 });
    await waitForMessage(bob, 'Written while the server was down.');
    await alice.locator('[data-testid="outbox-item"]').first().waitFor({ state: 'detached' });
  } catch (e) {
    console.log('restarted server:', again.exitCode, stderr.slice(-2000));
    throw e;
  } finally {
    again.kill('SIGTERM');
    await exited;
    rmSync(ting.dataDir, { recursive: true, force: true });
  }
});
