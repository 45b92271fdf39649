// Reusable steps through Ting's web app, by stable `data-testid` selectors.
//
//   import { login, createRoom, invite, openRoom, sendMessage, waitForMessage } from './flows.mjs';
//   await page.goto(ting.url);
//   await login(page, 'alice', PASSWORD);
//   const roomId = await createRoom(page, 'Ops');
//   await invite(page, 'bob');                  // in the open room
//   await sendMessage(page, 'hello');
//   // other page: await openRoom(pageB, 'Ops'); await waitForMessage(pageB, 'hello');
//
// Every step waits until its effect is visible, so tests need no sleeps.
import { PASSWORD } from './harness.mjs';

const TIMEOUT = 30_000;
const css = (s) => JSON.stringify(s);

/** Signs in on the login page (the page must be at the app's URL). Resolves when signed in. */
export async function login(page, username, password = PASSWORD) {
  if (page.url() === 'about:blank') throw new Error('login: open the app first (page.goto(ting.url))');
  await page.getByTestId('login-page').waitFor({ timeout: TIMEOUT });
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
}

/** Tries to sign in and returns the error text shown (for wrong-password tests). */
export async function loginError(page, username, password) {
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  const err = page.getByTestId('login-error');
  await err.waitFor({ timeout: TIMEOUT });
  return (await err.textContent()).trim();
}

/** The open room's id, or null. */
export async function currentRoomId(page) {
  const view = page.getByTestId('room-view');
  if (!(await view.count())) return null;
  return view.getAttribute('data-room-id');
}

/** Creates a room (optionally inviting usernames) and opens it. Returns its id. */
export async function createRoom(page, name, { invite: people = [] } = {}) {
  await page.getByTestId('new-room').click();
  await page.getByTestId('create-room-name').fill(name);
  if (people.length) await page.getByTestId('create-room-people').fill(people.join(', '));
  await page.getByTestId('create-room-submit').click();
  await page.getByTestId('create-room-dialog').waitFor({ state: 'detached', timeout: TIMEOUT });
  await page.locator(`[data-testid="room-title"]:text-is(${css(name)})`).waitFor({ timeout: TIMEOUT });
  return currentRoomId(page);
}

/** Opens a room from the room list by its (decrypted) name; waits for it to appear first. */
export async function openRoom(page, name) {
  const item = page.locator(`[data-testid="room-item"][data-room-name=${css(name)}]`);
  if (!(await item.isVisible())) {
    const back = page.getByTestId('back');
    if (await back.isVisible()) await back.click();
  }
  await item.waitFor({ timeout: TIMEOUT });
  await item.click();
  await page.locator(`[data-testid="room-title"]:text-is(${css(name)})`).waitFor({ timeout: TIMEOUT });
  return currentRoomId(page);
}

/** Invites a user into the open room (all their devices); waits for the membership line. */
export async function invite(page, username) {
  await page.getByTestId('room-menu').click();
  await page.getByTestId('menu-invite').click();
  await page.getByTestId('invite-username').fill(username);
  await page.getByTestId('invite-submit').click();
  const dialog = page.getByTestId('invite-dialog');
  const error = page.getByTestId('invite-error');
  await Promise.race([
    dialog.waitFor({ state: 'detached', timeout: TIMEOUT }),
    error.waitFor({ timeout: TIMEOUT }).then(async () => {
      throw new Error(`invite ${username}: ${await error.textContent()}`);
    }),
  ]);
  await page.locator('[data-testid="system-line"]', { hasText: username }).first().waitFor({ timeout: TIMEOUT });
}

/** Waits until a message with this text is shown in the open room; returns its locator. */
export async function waitForMessage(page, text) {
  const msg = page.locator('[data-testid="message"]', { has: page.locator(`[data-testid="message-text"]:has-text(${css(text)})`) }).last();
  try {
    await msg.waitFor({ timeout: TIMEOUT });
  } catch (err) {
    throw new Error(`no message ${css(text)} shown; the page shows ${await describeTimeline(page)}`, { cause: err });
  }
  return msg;
}

/** What the open room shows (messages, outbox, banners, console problems), for failure messages. */
export async function describeTimeline(page) {
  const state = await page
    .evaluate(() => {
      const all = (sel) => [...document.querySelectorAll(sel)];
      return {
        room: document.querySelector('[data-testid="room-title"]')?.textContent ?? null,
        messages: all('[data-testid="message-text"]').slice(-8).map((e) => e.textContent),
        outbox: all('[data-testid="outbox-item"]').map((e) => `${e.getAttribute('data-status')}: ${e.textContent}`),
        composer: document.querySelector('[data-testid="composer-input"]')?.value ?? null,
        banner: document.querySelector('[role="alert"], [data-testid="connection-banner"]')?.textContent ?? null,
      };
    })
    .catch((e) => ({ unavailable: String(e) }));
  return JSON.stringify({ ...state, problems: page.problems ?? [] });
}

/** Sends a text message in the open room (Enter); waits until the server accepted it. */
export async function sendMessage(page, text) {
  const input = page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
  const msg = await waitForMessage(page, text);
  await page.locator('[data-testid="outbox-item"][data-status="sending"]').first().waitFor({ state: 'detached', timeout: TIMEOUT });
  return msg;
}

/** Opens the members panel of the open room. */
export async function openMembers(page) {
  const panel = page.getByTestId('members-panel');
  if (!(await panel.isVisible())) await page.getByTestId('toggle-members').click();
  await panel.getByTestId('member-list').waitFor({ timeout: TIMEOUT });
  return panel;
}

/** Opens the safety-number dialog for a member; returns { dialog, digits }. */
export async function openSafetyNumber(page, username) {
  const panel = await openMembers(page);
  await panel.locator(`[data-testid="member"][data-username=${css(username)}] [data-testid="verify"]`).click();
  const dialog = page.getByTestId('safety-dialog');
  const digits = dialog.getByTestId('safety-digits');
  await digits.waitFor({ timeout: TIMEOUT });
  return { dialog, digits: await digits.getAttribute('data-digits') };
}

/** Opens settings. */
export async function openSettings(page) {
  await page.getByTestId('open-settings').click();
  await page.getByTestId('settings').waitFor({ timeout: TIMEOUT });
}

/** Switches the UI language ('sv' or 'en') with the switch on the current screen. */
export async function setLanguage(page, lang) {
  await page.getByTestId(`lang-${lang}`).first().click();
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

/**
 * Signs a further device of a user in: it lands on the link screen. Resolves with the link
 * code it shows.
 */
export async function loginNewDevice(page, username, password = PASSWORD) {
  if (page.url() === 'about:blank') throw new Error('loginNewDevice: open the app first (page.goto(ting.url))');
  await page.getByTestId('login-page').waitFor({ timeout: TIMEOUT });
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  const code = page.getByTestId('link-code');
  await code.waitFor({ timeout: TIMEOUT });
  return code.getAttribute('data-code');
}

/**
 * On an existing device (`page`): Settings → Link a device → type `code` → continue. Resolves
 * with the confirmation shown ({ name, fingerprint }), or throws the error shown.
 */
export async function previewLink(page, code) {
  await openSettings(page);
  const card = page.getByTestId('link-device');
  await card.getByTestId('link-code-input').fill(code);
  await card.getByTestId('link-code-submit').click();
  const confirm = card.getByTestId('link-confirm');
  const error = card.getByTestId('link-device-error');
  const shown = await Promise.race([
    confirm.waitFor({ timeout: TIMEOUT }).then(() => 'confirm'),
    error.waitFor({ timeout: TIMEOUT }).then(() => 'error'),
  ]);
  if (shown === 'error') throw Object.assign(new Error(await error.textContent()), { shown: true });
  return {
    name: (await confirm.getByTestId('link-device-name').textContent()).trim(),
    fingerprint: (await confirm.getByTestId('link-confirm-fingerprint').textContent()).trim(),
  };
}

/** Links `newPage` (signed in as a new device, showing its code) from `existing`; waits for both. */
export async function linkDevice(newPage, existing, code) {
  await previewLink(existing, code);
  await existing.getByTestId('link-approve').click();
  await existing.getByTestId('link-approved').waitFor({ timeout: TIMEOUT });
  await newPage.getByTestId('signed-in-as').waitFor({ timeout: TIMEOUT });
}
