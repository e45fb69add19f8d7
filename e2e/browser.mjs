// What every browser test shares: Debian's Chromium with the flags this machine needs, and where screenshots go.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const ARTIFACTS = new URL('./artifacts/', import.meta.url).pathname;
const CHROMIUM = process.env.KEFU_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launch() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** The demo users' password (`serve --demo`). */
export const DEMO_PASSWORD = 'kefu-demo';

/**
 * Someone signed in to the workspace at `url` in a browser context of their own; `online` also sets them
 * online and waits until the switch shows it.
 */
export async function signIn(browser, url, email, password = DEMO_PASSWORD, { locale = 'en-US', online = false, height = 800 } = {}) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height } });
  const page = await context.newPage();
  await page.goto(`${url}/app/`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('status-switch').waitFor();
  if (online) await setStatus(page, 'online');
  return { context, page };
}

/**
 * Sets the signed-in user's presence from the header switch. The switch shows the choice at once and stays busy
 * until the server has it: only then do routing and colleagues see it, so a test waits for that.
 */
export async function setStatus(page, status) {
  await page.getByTestId(`status-${status}`).click();
  await page
    .locator(`[data-testid="status-switch"]:not([aria-busy]) [data-testid="status-${status}"][aria-checked="true"]`)
    .waitFor();
}
