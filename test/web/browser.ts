import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { buildWeb } from "../../web/build.js";

/** Debian's chromium (CI installs it); the npm package's own browser download does not work here. */
export const CHROMIUM = "/usr/bin/chromium";
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const SKIP = HAVE_CHROMIUM ? false : `${CHROMIUM} is missing (apt-get install chromium): browser tests skipped`;

export const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** Built once per test process, into a temporary file so parallel test files never race. */
let built: Promise<string> | undefined;
export function builtPage(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "convscope-web-"));
    const { file } = await buildWeb({ outFile: join(dir, "index.html") });
    return file;
  })();
  return built;
}

export interface Session {
  context: BrowserContext;
  page: Page;
  url: string;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
  /** Every request the page made, from its own load on. */
  requests: string[];
  close(): Promise<void>;
}

/** One headless Chromium with a fresh profile, and a page opened on the built file. */
export async function openPage(): Promise<Session> {
  const file = await builtPage();
  const profile = mkdtempSync(join(tmpdir(), "convscope-chromium-"));
  // A persistent context is how Playwright takes a fresh --user-data-dir of our own.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1500, height: 1000 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const url = pathToFileURL(file).href;
  await page.goto(url);
  return {
    context,
    page,
    url,
    problems,
    requests,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `web-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
