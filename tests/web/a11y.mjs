// Accessibility checks on what Chromium actually renders.
//
//   const bad = await contrastProblems(page);   // [] when every visible text meets WCAG AA
//   const ring = await focusRing(page);         // the focused element's visible focus indicator
//
// Contrast follows WCAG 2.x: the relative luminance of the text colour against the background it
// is drawn on (the element's and its ancestors' background colours composited, the ancestors'
// opacity applied to the text), 4.5:1 for normal text, 3:1 for large text (≥ 24 px, or ≥ 18.66 px
// bold). Disabled controls are exempt (as WCAG says); text over an image or a gradient is skipped
// and counted, since its background is not a single colour.

/** Every visible text on the page whose contrast is below AA: `{ text, ratio, need, fg, bg, where }`. */
export async function contrastProblems(page) {
  // Colours ease between schemes and states (CSS transitions): measure the settled ones. Endless
  // animations (a spinner) never finish and do not change colours.
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getComputedTiming().endTime !== Infinity)
        .map((a) => a.finished.catch(() => undefined)),
    ),
  );
  return page.evaluate(() => {
    const parse = (c) => {
      let m = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(c);
      if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
      m = /^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.e-]+))?\)$/.exec(c);
      if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : +m[4]];
      throw new Error(`unparsed colour ${c}`);
    };
    const over = (top, under) => {
      const a = top[3];
      return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
    };
    const lum = ([r, g, b]) => {
      const ch = (v) => {
        const s = v / 255;
        return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
    };
    const ratio = (a, b) => {
      const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const canvas = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
    const where = (el) => {
      const id = el.closest('[data-testid]')?.getAttribute('data-testid');
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      return `${el.tagName.toLowerCase()}${cls}${id ? ` in [data-testid=${id}]` : ''}`;
    };
    /** The background under `el` (null when an image or gradient is part of it). */
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const cs = getComputedStyle(e);
        if (cs.backgroundImage !== 'none' || e.tagName === 'VIDEO' || e.tagName === 'IMG') return null;
        const c = parse(cs.backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      return layers.reverse().reduce((under, top) => over(top, under), canvas);
    };
    const opacity = (el) => {
      let o = 1;
      for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
      return o;
    };
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) return false;
      const cs = getComputedStyle(el);
      if (cs.visibility !== 'visible' || cs.clipPath !== 'none' || cs.clip !== 'auto') return false;
      return el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
    };
    const disabled = (el) => el.closest(':disabled, [aria-disabled="true"]') !== null;

    const problems = [];
    let checked = 0;
    let skipped = 0;
    const check = (el, text, colour) => {
      if (!visible(el) || disabled(el)) return;
      const bg = background(el);
      if (!bg) {
        skipped++;
        return;
      }
      const fg = parse(colour);
      fg[3] *= opacity(el);
      const cs = getComputedStyle(el);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      const need = large ? 3 : 4.5;
      const r = ratio(over(fg, bg), bg);
      checked++;
      if (r < need) {
        problems.push({ text: text.slice(0, 60), ratio: Math.round(r * 100) / 100, need, fg: colour, bg: `rgb(${bg.slice(0, 3).map(Math.round).join(', ')})`, where: where(el) });
      }
    };
    for (const el of document.querySelectorAll('body *')) {
      if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'svg', 'path'].includes(el.tagName)) continue;
      const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent.trim()).join(' ').trim();
      if (own) check(el, own, getComputedStyle(el).color);
      if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
        if (el.value && el.type !== 'hidden') check(el, el.value, getComputedStyle(el).color);
        else if (el.placeholder) check(el, el.placeholder, getComputedStyle(el, '::placeholder').color);
      }
      if (el instanceof HTMLSelectElement && el.selectedOptions[0]) check(el, el.selectedOptions[0].text, getComputedStyle(el).color);
    }
    return { problems, checked, skipped };
  });
}

/** The focused element and whether it shows a focus indicator (outline ≥ 2 px, or a box shadow). */
export async function focusRing(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { testid: null, visible: false };
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
    const shadow = cs.boxShadow !== 'none';
    return {
      testid: el.getAttribute('data-testid'),
      tag: el.tagName.toLowerCase(),
      label: el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40),
      visible: outline || shadow,
      focusVisible: el.matches(':focus-visible'),
    };
  });
}

/** Presses Tab until the element with `testid` has the focus (at most `max` times). */
export async function tabTo(page, testid, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
    if (now === testid) return i + 1;
  }
  throw new Error(`Tab never reached [data-testid=${testid}] in ${max} presses`);
}
