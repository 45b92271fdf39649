// Starts a real `ting serve` and headless Chromium for the web app tests.
//
//   import { startTing, launchChromium, newPage, shot } from './harness.mjs';
//   const ting = await startTing();            // fresh data dir, free port, embedded web app
//   await ting.createUser('alice');            // password: PASSWORD
//   const browser = await launchChromium();
//   const page = await newPage(browser, { lang: 'en-GB' });
//   await page.goto(ting.url);
//   await shot(page, 'login');                 // docs/screenshots/login.png
//   ...; await browser.close(); await ting.stop();
//
//   // or, for a whole test file (hooks registered, fields filled before the first test):
//   let alice;
//   const s = suite({ users: ['alice'], pages: { alice: 'en-GB' }, ready: (s) => ({ alice } = s.page) });
//   test('…', async () => { await alice.goto(s.ting.url); });
//
// Environment: TING_BIN (default: $CARGO_TARGET_DIR or <repo>/target, debug/ting),
// CHROMIUM (default /usr/bin/chromium), TING_SCREENSHOTS (default <repo>/docs/screenshots),
// TING_WEB_DIR (serve web/dist from disk instead of the binary's built-in copy).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, createWriteStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
export const PASSWORD = 'correct horse battery staple';

export function tingBin() {
  if (process.env.TING_BIN) return process.env.TING_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(repo, 'target');
  return join(target, 'debug', 'ting');
}

const serverEnv = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TING_'))),
  TING_AUTH_ARGON2_MEMORY_KIB: '256',
  TING_AUTH_ARGON2_ITERATIONS: '1',
  TING_AUTH_MAX_ATTEMPTS_PER_ADDRESS: '100000',
  TING_LOG_LEVEL: process.env.TING_LOG_LEVEL || 'info',
});

/**
 * Starts `ting serve` on 127.0.0.1 with a fresh data directory (`env`: extra `TING_*` settings).
 * Resolves once it listens.
 * Returns { url, dataDir, serverDataDir, logPath, bundleLine, createUser(name, {admin}),
 * restart(whileStopped), stop(), pid }.
 */
export async function startTing({ webDir = process.env.TING_WEB_DIR, env = {} } = {}) {
  const bin = tingBin();
  if (!existsSync(bin)) throw new Error(`no ting binary at ${bin} (build it or set TING_BIN)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'ting-web-'));
  const logPath = join(dataDir, 'server.log');
  const log = createWriteStream(logPath);
  const launch = async (listen) => {
    const args = ['serve', '--listen', listen, '--data-dir', join(dataDir, 'data')];
    if (webDir) args.push('--web-dir', webDir);
    const child = spawn(bin, args, { env: { ...serverEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.pipe(log, { end: false });
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise((ok, fail) => {
      const seen = [];
      const timer = setTimeout(() => fail(new Error(`ting did not start: ${seen.join(' | ')}`)), 30000);
      child.once('exit', (code) => fail(new Error(`ting exited with ${code}; log: ${logPath}`)));
      lines.on('line', (line) => {
        seen.push(line);
        if (seen.length === 2) {
          clearTimeout(timer);
          ok(seen);
        }
      });
    });
    return { child, first };
  };
  const halt = async (child) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  };
  let { child, first } = await launch('127.0.0.1:0');
  const url = first[0].replace(/^Ting listening on /, '').trim();
  const admin = (argv, input) => {
    const r = spawnSync(bin, ['admin', '--data-dir', join(dataDir, 'data'), ...argv], {
      env: serverEnv(), input, encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`ting admin ${argv.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    url,
    dataDir,
    /** The server's data directory (`ting.db` and its -wal/-shm live here). */
    serverDataDir: join(dataDir, 'data'),
    logPath,
    bundleLine: first[1],
    get pid() { return child.pid; },
    createUser(name, { admin: isAdmin = false, password = PASSWORD } = {}) {
      return admin(['create-user', name, '--password-stdin', ...(isAdmin ? ['--admin'] : [])], `${password}\n`);
    },
    admin,
    /**
     * Stops the server, runs `whileStopped()` (say, to copy or replace its database), and
     * starts it again on the same address with the same data directory.
     */
    async restart(whileStopped = async () => {}) {
      await halt(child);
      await whileStopped();
      ({ child } = await launch(new URL(url).host));
    },
    async stop() {
      await halt(child);
      log.end();
      if (!process.env.TING_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Headless Debian Chromium with fake cameras (`cameras`, default 1) and microphones (three:
 * "Fake Default Audio Input", "Fake Audio Input 1" and 2), on a closed network.
 */
export async function launchChromium({ cameras = 1 } = {}) {
  const fake = cameras === 1 ? '--use-fake-device-for-media-stream' : `--use-fake-device-for-media-stream=device-count=${cameras}`;
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      fake, '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/**
 * A page in a fresh browser context (own storage: one device per context). Collects console
 * errors and failed requests to other origins on `page.problems`.
 */
export async function newPage(browser, { lang = 'en-GB', viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({
    locale: lang,
    viewport,
    permissions: ['camera', 'microphone'],
  });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['blob:', 'data:'].includes(u.protocol)) {
      page.problems.push(`outbound request: ${r.url()}`);
    }
  });
  return page;
}

/** Saves docs/screenshots/NAME.png (full page) and returns its path. */
export async function shot(page, name) {
  const dir = process.env.TING_SCREENSHOTS || join(repo, 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Sets a test file up: before its tests a fresh `ting serve` (extra `env`, the web app from
 * TING_WEB_DIR or web/dist), the `users`, Chromium (`cameras` fake cameras) and one page per
 * entry of `pages` (name → language), then `ready(s)`; after them all is closed. Returns
 * { ting, browser, page }.
 */
export function suite({ users = [], pages = {}, env = {}, cameras = 1, ready = null } = {}) {
  const s = { ting: null, browser: null, page: {} };
  // One hook: node:test does not order a file's top-level `before` hooks after this one.
  before(async () => {
    s.ting = await startTing({ webDir: process.env.TING_WEB_DIR ?? join(repo, 'web', 'dist'), env });
    for (const u of users) s.ting.createUser(u);
    s.browser = await launchChromium({ cameras });
    for (const [name, lang] of Object.entries(pages)) s.page[name] = await newPage(s.browser, { lang });
    await ready?.(s);
  });
  after(async () => {
    await s.browser?.close();
    await s.ting?.stop();
  });
  return s;
}
