// Finds the browsers the browser tests and the browser bench run in, the way users have them:
//   1. an explicit path variable (CHROMIUM_PATH, FIREFOX_PATH, FIREFOX_ESR140_PATH),
//   2. the usual install paths on Linux and macOS,
//   3. Playwright's browser cache (~/.cache/ms-playwright, ~/Library/Caches/ms-playwright, or
//      PLAYWRIGHT_BROWSERS_PATH),
//   4. where none is found and this machine can install one (root with apt-get), installs it the way
//      .ci/run does; otherwise returns the exact command to run.
// Chromium is driven by playwright-core, Firefox by puppeteer-core over WebDriver BiDi (see drivers.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian's Firefox ESR 140 (no Atomics.waitAsync on the main thread), unpacked beside the system one by .ci/run. */
export const FIREFOX_ESR140_VERSION = '140.12.0esr-1~deb12u1';
export const FIREFOX_ESR140_DIR = '/opt/firefox-esr-140';
const ESR140_BINARY = path.join(FIREFOX_ESR140_DIR, 'usr/lib/firefox-esr/firefox-esr');

const home = os.homedir();
const playwrightCaches = [process.env.PLAYWRIGHT_BROWSERS_PATH, path.join(home, '.cache/ms-playwright'), path.join(home, 'Library/Caches/ms-playwright')].filter(Boolean);

/** Executables inside Playwright's cache whose directory starts with `prefix` (newest first). */
function inPlaywrightCache(prefix, relatives) {
  const found = [];
  for (const cache of playwrightCaches) {
    let dirs = [];
    try {
      dirs = readdirSync(cache).filter((d) => d.startsWith(prefix)).sort().reverse();
    } catch {
      continue;
    }
    for (const d of dirs) for (const rel of relatives) found.push(path.join(cache, d, rel));
  }
  return found;
}

const CANDIDATES = {
  chromium: () => [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/snap/bin/chromium',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    ...inPlaywrightCache('chromium-', ['chrome-linux/chrome', 'chrome-linux64/chrome', 'chrome-mac/Chromium.app/Contents/MacOS/Chromium', 'chrome-mac-arm64/Chromium.app/Contents/MacOS/Chromium']),
  ],
  firefox: () => [
    '/usr/bin/firefox-esr',
    '/usr/bin/firefox',
    '/usr/lib/firefox-esr/firefox-esr',
    '/usr/lib/firefox/firefox',
    '/snap/bin/firefox',
    '/Applications/Firefox.app/Contents/MacOS/firefox',
    ...inPlaywrightCache('firefox-', ['firefox/firefox', 'firefox/Nightly.app/Contents/MacOS/firefox']),
  ],
  firefox140: () => [ESR140_BINARY],
};

const ENV = { chromium: 'CHROMIUM_PATH', firefox: 'FIREFOX_PATH', firefox140: 'FIREFOX_ESR140_PATH' };

/** How .ci/run installs each one (Debian). */
export const INSTALL = {
  chromium: 'apt-get update && apt-get install -y chromium',
  firefox: 'apt-get update && apt-get install -y firefox-esr',
  firefox140:
    `apt-get update && mkdir -p /tmp/esr140 && cd /tmp/esr140 && apt-get download firefox-esr=${FIREFOX_ESR140_VERSION} && ` +
    `dpkg-deb -x firefox-esr_*.deb ${FIREFOX_ESR140_DIR}`,
};

function canInstall() {
  return process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get && command -v dpkg-deb'], { stdio: 'ignore' }).status === 0;
}

/**
 * Finds browser `kind` ('chromium' | 'firefox' | 'firefox140'). Resolves with `{ path, source }`, or with
 * `{ missing: message }` naming the exact command to run. With `install` (default true) it installs the
 * browser first where this machine can (root with apt-get).
 */
export function findBrowser(kind, { install = true } = {}) {
  const explicit = process.env[ENV[kind]];
  if (explicit) {
    if (existsSync(explicit)) return { path: explicit, source: ENV[kind] };
    return { missing: `${ENV[kind]}=${explicit} does not exist` };
  }
  const hit = CANDIDATES[kind]().find((p) => existsSync(p));
  if (hit) return { path: hit, source: 'found' };
  if (install && canInstall()) {
    console.log(`installing ${kind} for the browser tests: ${INSTALL[kind]}`);
    const r = spawnSync('sh', ['-c', INSTALL[kind]], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const after = CANDIDATES[kind]().find((p) => existsSync(p));
    if (r.status === 0 && after) return { path: after, source: 'installed' };
  }
  return { missing: `no ${kind} found: install it with \`${INSTALL[kind]}\`, or point ${ENV[kind]} at its executable` };
}

/** `<executable> --version`, or undefined. */
export function browserVersion(executable) {
  try {
    return execFileSync(executable, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 }).trim().split('\n').pop();
  } catch {
    return undefined;
  }
}
