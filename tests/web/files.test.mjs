// Files at the server's size limit, in real headless Chromium against a real `ting serve` whose
// limit is 5 MiB of ciphertext: the largest file whose ciphertext fits is shared with visible,
// growing progress and arrives intact; one byte more is refused before anything is uploaded,
// with a message that names the file and the limit.
// Screenshots: docs/screenshots/upload-progress.png, upload-too-large.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { shot, PASSWORD, suite } from './harness.mjs';
import { login, createRoom, openRoom } from './flows.mjs';

const LIMIT = 5 * 1024 * 1024; // encrypted bytes (files.max_blob_bytes)
const CHUNK = 64 * 1024;
const TAG = 16;
/** The largest plaintext whose ciphertext (one 16-byte tag per started 64 KiB chunk) fits. */
function largestFitting(limit) {
  let n = 0;
  for (let chunks = 1; ; chunks++) {
    const fits = Math.min(chunks * CHUNK, limit - chunks * TAG);
    if (fits <= (chunks - 1) * CHUNK) return n;
    n = fits;
  }
}
const MAX = largestFitting(LIMIT);

let alice, bob;
const s = suite({
  users: ['alice', 'bob'],
  pages: { alice: 'en-GB', bob: 'en-GB' },
  env: { TING_FILES_MAX_BLOB_BYTES: String(LIMIT) },
  ready: (s) => ({ alice, bob } = s.page),
});

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

test('the largest file that fits is shared with growing progress and arrives intact', async () => {
  assert.equal(MAX, 5_241_600);
  await bob.goto(s.ting.url);
  await login(bob, 'bob', PASSWORD);
  await alice.goto(s.ting.url);
  await login(alice, 'alice', PASSWORD);
  await createRoom(alice, 'Survey', { invite: ['bob'] });
  await openRoom(bob, 'Survey');

  // Record every value the progress bar shows, and slow the upload down so it can be seen.
  await alice.evaluate(() => {
    globalThis.__progress = [];
    setInterval(() => {
      const p = document.querySelector('[data-testid="upload"] progress');
      if (p) globalThis.__progress.push([p.value, p.max]);
    }, 5);
  });
  const cdp = await alice.context().newCDPSession(alice);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });

  const data = randomBytes(MAX);
  await alice.getByTestId('file-input').setInputFiles({ name: 'survey-data.bin', mimeType: 'application/octet-stream', buffer: data });
  const upload = alice.getByTestId('upload');
  await upload.waitFor();
  await alice.waitForFunction(() => (globalThis.__progress ?? []).some(([v, m]) => v > 0 && v < m), null, { timeout: 30_000 });
  await shot(alice, 'upload-progress');
  await alice.locator('[data-testid="file-card"]', { hasText: 'survey-data.bin' }).waitFor({ timeout: 60_000 });
  await upload.waitFor({ state: 'detached', timeout: 30_000 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  const seen = await alice.evaluate(() => globalThis.__progress);
  const values = [...new Set(seen.map(([v]) => v))];
  // Until the worker's first report the bar's maximum is the file's own size; every report
  // counts encrypted bytes, whose total is exactly the limit here.
  const total = seen[seen.length - 1][1];
  assert.equal(total, LIMIT, 'the bar counts the encrypted bytes, exactly the limit here');
  for (const [v, m] of seen) if (v > 0) assert.equal(m, LIMIT, 'progress is counted in encrypted bytes');
  assert.ok(values.filter((v) => v > 0 && v < total).length >= 2, `progress steps seen: ${values}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0], 'progress never goes back');

  const card = bob.locator('[data-testid="file-card"]', { hasText: 'survey-data.bin' });
  await card.waitFor({ timeout: 30_000 });
  const [download] = await Promise.all([bob.waitForEvent('download'), card.getByTestId('file-download').click()]);
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  const got = Buffer.concat(chunks);
  assert.equal(got.length, MAX);
  assert.equal(sha256(got), sha256(data), 'bob gets the same bytes');
});

test('one byte more is refused before anything is uploaded, with a clear message', async () => {
  const cards = alice.locator('[data-testid="file-card"]');
  const before = await cards.count();
  await alice.getByTestId('file-input').setInputFiles({ name: 'survey-big.bin', mimeType: 'application/octet-stream', buffer: randomBytes(MAX + 1) });
  const toast = alice.locator('[data-testid="toasts"] .toast.error', { hasText: 'survey-big.bin' });
  await toast.waitFor();
  assert.match(await toast.textContent(), /survey-big\.bin is too large\. Files may be at most 5 MB\./);
  await shot(alice, 'upload-too-large');
  assert.equal(await alice.getByTestId('upload').count(), 0, 'no upload was started');
  assert.equal(await cards.count(), before);
  assert.deepEqual(alice.problems, []);
});
