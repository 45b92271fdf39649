// Steps through Ting's meeting view, by its data-* attributes, shared by the meeting tests.
//
//   const pid = await joinMeeting(page);              // in the open room
//   await waitTile(other, pid, { want: PLAYING, what: 'the other sees me' });
import { shot } from './harness.mjs';

export const T = 60_000;

/** Opens the meeting lobby from the open room and joins once the devices are ready. */
export async function joinMeeting(page, screenshot) {
  await page.getByTestId('start-meeting').click();
  const join = page.locator('.tm-root [data-action="join"]');
  await join.waitFor({ timeout: T });
  await page.waitForFunction(() => {
    const b = document.querySelector('.tm-root [data-action="join"]');
    return b && !b.disabled;
  }, null, { timeout: T });
  if (screenshot) {
    await page.locator('.tm-preview[data-playing="true"]').waitFor({ timeout: T });
    await shot(page, screenshot);
  }
  await join.click();
  await page.locator('.tm-root[data-state="joined"]').waitFor({ timeout: T });
  return Number(await page.locator('.tm-root').getAttribute('data-participant-id'));
}

/** The data-* attributes of every tile. */
export const tiles = (page) => page.$$eval('.tm-tile', (els) => els.map((e) => ({ ...e.dataset })));

/**
 * Waits until the tile of participant `pid` (camera or screen) has the data-* values in `want`
 * (camelCase keys; strings compare equal, `'>n'` and `'<n'` compare numbers, `'!x'` means not x,
 * `'?'` means present).
 */
export async function waitTile(page, pid, { screen = false, want, what }) {
  try {
    await page.waitForFunction(
      ({ pid, screen, want }) => {
        const t = [...document.querySelectorAll('.tm-tile')].find(
          (e) => e.dataset.participantId === String(pid) && (e.dataset.screen === 'true') === screen,
        );
        if (!t) return false;
        return Object.entries(want).every(([k, v]) => {
          const d = t.dataset[k];
          if (v.startsWith('>')) return Number(d) > Number(v.slice(1));
          if (v.startsWith('<')) return d !== undefined && Number(d) < Number(v.slice(1));
          if (v === '?') return d !== undefined;
          if (v.startsWith('!')) return d !== v.slice(1);
          return d === v;
        });
      },
      { pid, screen, want },
      { timeout: T },
    );
  } catch (e) {
    throw new Error(`${what}: ${e.message}\ntiles: ${JSON.stringify(await tiles(page), null, 1)}`);
  }
  return (await tiles(page)).find((t) => t.participantId === String(pid) && (t.screen === 'true') === screen);
}

/** Video decoded by Chromium and decrypted by the media worker, end-to-end state ok. */
export const PLAYING = {
  decrypted: '>0',
  videoDecrypted: '>0',
  framesDecoded: '>0',
  framesRendered: '>0',
  e2ee: 'ok',
  videoOff: '!true',
};


/**
 * Waits until the camera tile of `pid` asks for the layer that fits its size now (tile height
 * in device pixels, `ratio` per CSS px: ≤ 240 low, ≤ 540 medium, else high) and, if given, that
 * this is `layer`. Returns { layer, height } (CSS px).
 */
export async function waitLayer(page, pid, { layer = null, ratio = 1, what }) {
  try {
    const found = await page.waitForFunction(
      ({ pid, layer, ratio }) => {
        const t = [...document.querySelectorAll('.tm-tile')].find((e) => e.dataset.participantId === String(pid) && e.dataset.screen !== 'true');
        const height = t?.getBoundingClientRect().height ?? 0;
        const fits = height * ratio <= 240 ? 'low' : height * ratio <= 540 ? 'medium' : 'high';
        return t?.dataset.layer === fits && (layer === null || fits === layer) && { layer: fits, height };
      },
      { pid, layer, ratio },
      { timeout: T },
    );
    return await found.jsonValue();
  } catch (e) {
    throw new Error(`${what}: ${e.message}\ntiles: ${JSON.stringify(await tiles(page), null, 1)}`);
  }
}
