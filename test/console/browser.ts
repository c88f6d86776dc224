// Real headless Chromium for the console's tests (Debian's /usr/bin/chromium, driven by playwright-core)
// with the flags that keep it off the network (COMMON.md). playwright launches it with a fresh temporary
// user-data-dir every time; each context is a fresh cookie jar.
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env["CREDBROKER_CHROMIUM"] ?? "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface RecordedPage {
  page: Page;
  /** Every URL the page requested. */
  requests: string[];
  /** Console errors and uncaught page errors (a CSP violation is one). */
  errors: string[];
}

export interface TestBrowser {
  browser: Browser;
  /** A page in a new context (no cookies): options as playwright's newContext. */
  page(options?: BrowserContextOptions): Promise<RecordedPage>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    browser,
    async page(options = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
      const page = await context.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("close", () => void context.close().catch(() => {}));
      return { page, requests, errors };
    },
    close: () => browser.close(),
  };
}
