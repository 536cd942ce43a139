// One small page API over the two drivers: playwright-core for Chromium (its CDP), puppeteer-core for
// Firefox over WebDriver BiDi (Playwright drives only its own patched Firefox builds; Debian's
// firefox-esr speaks BiDi). Used by test/browser/run.mjs and bench/browser.bench.mjs.
//   const browser = await launch('firefox', '/usr/bin/firefox-esr');
//   const page = await browser.newPage({ removeWaitAsync: true });
//   await page.goto(url); await page.waitFor(() => window.x, 60_000); await page.evaluate(() => …);
//   await page.close(); await browser.close();

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Removes Atomics.waitAsync before any script of the page runs (an engine without it). */
function removeWaitAsync() {
  delete Atomics.waitAsync;
}

/** Launches `kind` ('chromium' | 'firefox') from `executable`; resolves with `{ version, newPage, close }`. */
export async function launch(kind, executable) {
  if (kind === 'chromium') {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: executable, headless: true, args: CHROMIUM_ARGS });
    return {
      version: `chromium ${browser.version()}`,
      async newPage({ removeWaitAsync: remove = false } = {}) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
        if (remove) await context.addInitScript(removeWaitAsync);
        const page = await context.newPage();
        return wrap(page, {
          waitFor: (fn, timeout) => page.waitForFunction(fn, null, { timeout }),
          text: (selector) => page.textContent(selector),
          close: () => context.close(),
        });
      },
      close: () => browser.close(),
    };
  }
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: executable,
    headless: true,
    // A fresh profile per launch (puppeteer makes one); no update checks or first-run pages.
    extraPrefsFirefox: { 'app.update.enabled': false, 'browser.shell.checkDefaultBrowser': false },
  });
  return {
    version: await browser.version(),
    async newPage({ removeWaitAsync: remove = false } = {}) {
      // One page per test in the default context: a fresh user context costs Firefox seconds per test
      // (measured on a loaded 2-core machine); pages do not share state that the tests depend on.
      const page = await browser.newPage();
      // Older Firefox (ESR 140) lacks a BiDi command puppeteer's setViewport sends: keep its default size there.
      await page.setViewport({ width: 1280, height: 860 }).catch(() => undefined);
      if (remove) await page.evaluateOnNewDocument(removeWaitAsync);
      return wrap(page, {
        waitFor: (fn, timeout) => page.waitForFunction(fn, { timeout, polling: 50 }),
        text: (selector) => page.$eval(selector, (e) => e.textContent),
        close: () => page.close(),
      });
    },
    close: () => browser.close(),
  };
}

/** The common part of both drivers' pages. */
function wrap(page, own) {
  return {
    goto: (url) => page.goto(url),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    screenshot: (options) => page.screenshot(options),
    /** `pageerror` and console errors, as strings. */
    onProblem(report) {
      page.on('pageerror', (e) => report(`uncaught in page: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') report(`console error: ${m.text()}`);
      });
    },
    ...own,
  };
}
