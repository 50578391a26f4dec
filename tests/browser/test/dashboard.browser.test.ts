import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type System, startSystem } from '@keyfence/testkit';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems, launchChromium, screenshot } from './browser.ts';

const CLI = fileURLToPath(new URL('../../../apps/cli/bin/keyfence.mjs', import.meta.url));
const EMAIL = 'owner@example.com';
const PASSWORD = 'a long dashboard password';

let system: System;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The same session at a phone's width. */
let phone: Page;
let secret: string;
let eventCount = 0;

beforeAll(async () => {
  system = await startSystem();
  // The operator's bootstrap step, through the real CLI, the password on stdin.
  const created = spawnSync(
    process.execPath,
    [CLI, 'user', 'create', '--account', system.accountId, '--email', EMAIL, '--password-stdin', '--json'],
    { input: `${PASSWORD}\n`, env: { ...process.env, DATABASE_URL: system.databaseUrl }, encoding: 'utf8' },
  );
  expect(created.status, created.stderr).toBe(0);
  expect(JSON.parse(created.stdout)).toMatchObject({ email: EMAIL, account_id: system.accountId });
  browser = await launchChromium();
  context = await browser.newContext({
    viewport: { width: 1280, height: 820 },
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: system.baseUrl });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  phone = await context.newPage();
  phone.setDefaultTimeout(15_000);
  await phone.setViewportSize({ width: 390, height: 844 });
});

afterAll(async () => {
  await browser?.close();
  await system?.close();
});

/** Reports what `key` spent through the ingest API, as a model service would. */
async function spend(prefix: string, costUsd: number): Promise<void> {
  eventCount += 1;
  const response = await system.call('POST', '/internal/v1/usage-events', system.serviceToken, {
    events: [
      {
        id: `browser-${eventCount}`,
        key_prefix: prefix,
        endpoint: 'POST /v1/chat/completions',
        cost_usd: costUsd,
        occurred_at: new Date().toISOString(),
        model: 'openai/gpt-5',
        tokens: { input: 1000, output: 200 },
      },
    ],
  });
  expect(response.status).toBe(202);
  expect(response.body.data.accepted).toBe(1);
}

async function verify(key: string) {
  const response = await system.call('POST', '/internal/v1/verify', system.serviceToken, {
    key,
    method: 'POST',
    path: '/v1/chat/completions',
  });
  return response.body.data as { valid: boolean; code: string };
}

const row = (name: string, on: Page = page) => on.getByRole('row').filter({ hasText: name });

/** Desktop (1280 px) and phone (390 px), one session: each dashboard point is checked at both. */
const widths = () =>
  [
    [page, 1280],
    [phone, 390],
  ] as const;

/** Text in a dialog that does not fit it (cut at its edge, or wider than the screen): none, as lines. */
function textCutIn(dialog: Locator): Promise<string[]> {
  return dialog.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const problems: string[] = [];
    if (box.right > window.innerWidth || box.left < 0) problems.push(`the dialog is wider than the screen`);
    for (const part of element.querySelectorAll<HTMLElement>('p, label, h2, legend, strong')) {
      const own = part.getBoundingClientRect();
      if (part.scrollWidth > part.clientWidth + 1 || own.right > box.right + 0.5 || own.left < box.left - 0.5)
        problems.push(`cut: ${part.textContent?.slice(0, 60)}`);
    }
    return problems;
  });
}

/** Values that wrap onto a second line in a table (each text takes one line box when it fits). */
function wrappedCells(table: Locator, skip: readonly string[] = []): Promise<string[]> {
  return table.evaluate((element, skipped) => {
    const wrapped: string[] = [];
    for (const cell of element.querySelectorAll<HTMLElement>('th, td')) {
      if (skipped.includes(cell.dataset.label ?? '') || cell.matches('td:first-child')) continue;
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
        if ((node.textContent ?? '').trim() === '') continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
        if (lines.size > 1) wrapped.push(`${cell.dataset.label ?? 'header'}: ${node.textContent}`);
      }
    }
    return wrapped;
  }, skip);
}

/** The alert under a field says `message`, sits right below it, and the field points at it. */
async function expectErrorUnder(field: Locator, message: RegExp): Promise<void> {
  await expect.poll(() => field.getAttribute('aria-describedby')).toMatch(/-error/); // the field names its error
  const id = await field.getAttribute('aria-describedby');
  const errorId = (id ?? '').split(' ').find((part) => part.endsWith('-error')) ?? '';
  const error = field.page().locator(`[id="${errorId}"]`);
  await expect.poll(() => error.textContent()).toMatch(message);
  expect(await error.getAttribute('role')).toBe('alert');
  expect(await field.getAttribute('aria-invalid')).toBe('true');
  const fieldBox = await field.boundingBox();
  const errorBox = await error.boundingBox();
  const gap = (errorBox?.y ?? 0) - ((fieldBox?.y ?? 0) + (fieldBox?.height ?? 0));
  expect(gap, 'the error is right under its field').toBeGreaterThanOrEqual(0);
  expect(gap, 'the error is right under its field').toBeLessThan(24);
}

async function expectNoErrorOn(field: Locator): Promise<void> {
  await expect.poll(() => field.getAttribute('aria-invalid')).toBe('false');
  expect((await field.getAttribute('aria-describedby')) ?? '').not.toMatch(/-error/);
}

describe('the dashboard in Chromium', () => {
  it('leads from the API root to the dashboard, refuses a wrong password in words, then signs in', async () => {
    await page.goto(`${system.baseUrl}/`);
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/app/');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('email');
    await screenshot(page, 'sign-in');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That email and password do not match' }).waitFor();
    await screenshot(page, 'sign-in-wrong-password');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/keys');
    expect(await page.getByRole('tab', { name: 'API Keys' }).getAttribute('aria-selected')).toBe('true');
    const cookies = await context.cookies();
    expect(cookies.find((cookie) => cookie.name === 'kf_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    expect(await page.evaluate(() => document.cookie)).not.toContain('kf_session');
    await page.getByText('No API keys yet').waitFor();

    // Signed in, the root leads to the keys, at a phone's width too.
    await phone.goto(`${system.baseUrl}/`);
    await phone.getByText('No API keys yet').waitFor();
    expect(new URL(phone.url()).pathname).toBe('/app/keys');
  });

  it('says under each field what is wrong and what is allowed, until the value is allowed', async () => {
    for (const [on] of widths()) {
      await on.getByRole('button', { name: 'Create API key' }).click();
      const dialog = on.getByRole('dialog', { name: 'Create API key' });
      const name = dialog.getByLabel('Name', { exact: true });
      const amount = dialog.getByLabel('Limit amount (USD)');
      await dialog.getByLabel('Spending limit').selectOption('week');
      await amount.fill('-5');
      await dialog.getByRole('button', { name: 'Create key' }).click();
      await expectErrorUnder(name, /Give the key a name/);
      await expectErrorUnder(amount, /must be a positive amount of dollars, such as 5 or 12\.50/);
      expect(await textCutIn(dialog)).toEqual([]);
      if (on === page) {
        await screenshot(page, 'create-api-key-errors', { fullPage: false });
        expect(await accessibilityProblems(page)).toEqual([]);
      }
      await amount.fill('10');
      await expectNoErrorOn(amount);
      await expectErrorUnder(name, /Give the key a name/);
      await amount.fill('0');
      await dialog.getByRole('button', { name: 'Create key' }).click();
      await expectErrorUnder(amount, /more than \$0/);
      await name.fill('x');
      await expectNoErrorOn(name);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
    }
    expect((await system.call('GET', '/v1/keys', system.managementKey)).body.data).toEqual([]);
  });

  it('creates an API key with a weekly $5 limit and the chat scope, and shows its secret once', async () => {
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.waitFor();
    await expect
      .poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.placeholder))
      .toBe('e.g. production backend');
    await dialog.getByLabel('Name', { exact: true }).fill('chat-app');
    await dialog.getByLabel('Spending limit').selectOption('week');
    await dialog.getByLabel('Limit amount (USD)').fill('5');
    await dialog.getByLabel('Only these:').check();
    // Each scope by its label and what it is for, from the domain's one list.
    expect(await dialog.locator('label', { hasText: /^Speech/ }).textContent()).toContain('transcription');
    expect(await dialog.locator('label', { hasText: /^Audio/ }).textContent()).toContain(
      'music and sound generation',
    );
    await dialog.getByLabel(/^Chat/).check();
    await screenshot(page, 'create-api-key', { fullPage: false });
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Create key' }).click();

    const shown = page.getByRole('dialog', { name: /API key chat-app created/ });
    await shown.waitFor();
    await shown.getByText('It will not be shown again').waitFor();
    secret = await shown.getByLabel('Your new key').inputValue();
    expect(secret).toMatch(/^[0-9A-Za-z]{32}$/);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await screenshot(page, 'api-key-secret', { fullPage: false });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.keyboard.press('Escape'); // must be acknowledged, not dismissed
    expect(await shown.isVisible()).toBe(true);
    await shown.getByRole('button', { name: 'I have stored it' }).click();

    const created = row('chat-app');
    await created.getByText('Active').waitFor();
    expect(await created.textContent()).toContain('Weekly $5.00');
    expect(await created.textContent()).toContain('$0.00 of $5.00');
    expect(await created.textContent()).toContain(secret.slice(0, 8));
    expect((await verify(secret)).valid).toBe(true);

    await page.reload();
    await row('chat-app').waitFor();
    expect(await page.content()).not.toContain(secret);
  });

  it('fills the bar as usage arrives, turns "limit reached", each value on one line', async () => {
    const prefix = secret.slice(0, 8);
    await spend(prefix, 2);
    await expect.poll(() => row('chat-app').textContent(), { timeout: 20_000 }).toContain('$2.00 of $5.00');
    await screenshot(page, 'api-keys-spending');
    await spend(prefix, 3.25);
    await row('chat-app').getByText('Limit reached').waitFor({ timeout: 20_000 });
    expect(await row('chat-app').textContent()).toContain('$5.25 of $5.00');
    expect(await verify(secret)).toMatchObject({ valid: false, code: 'LIMIT_REACHED' });
    // Limit, status, spend, remaining, reset time and the headings: one line each, at both widths.
    for (const [on] of widths()) {
      if (on === phone) await phone.reload();
      await row('chat-app', on).getByText('Limit reached').waitFor({ timeout: 20_000 });
      expect(await wrappedCells(on.locator('table.keys'))).toEqual([]);
    }
    await screenshot(page, 'api-keys-limit-reached');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it("opens the edit dialog from the list with its text whole, and raises the limit and the key's endpoints", async () => {
    for (const [on] of widths()) {
      await row('chat-app', on).getByRole('button', { name: 'Edit chat-app' }).click();
      const edit = on.getByRole('dialog', { name: 'Edit chat-app' });
      await edit.getByText('until the period resets').waitFor();
      expect(await textCutIn(edit)).toEqual([]);
      if (on === phone) await edit.getByRole('button', { name: 'Cancel' }).click();
    }
    const edit = page.getByRole('dialog', { name: 'Edit chat-app' });
    expect(await edit.getByLabel('Limit amount (USD)').inputValue()).toBe('5');
    await edit.getByLabel('Limit amount (USD)').fill('20');
    await edit.getByLabel(/^Images/).check();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await row('chat-app').getByText('Active').waitFor();
    expect(await row('chat-app').textContent()).toContain('$5.25 of $20.00');
    expect((await verify(secret)).valid).toBe(true);
  });

  it("shows a key's page: spend per day on a dollar axis with its days, and history in the card's words", async () => {
    const today = new Intl.DateTimeFormat('en-GB', {
      day: 'numeric',
      month: 'short',
      timeZone: 'UTC',
    }).format(new Date());
    for (const [on, width] of widths()) {
      if (on === page) await page.getByRole('link', { name: 'chat-app' }).click();
      else await phone.goto(`${system.baseUrl}/app/keys/api/${secret.slice(0, 8)}`);
      await on.getByRole('heading', { name: /chat-app/ }).waitFor();
      await on.getByText('Limit reached: calls blocked').waitFor({ timeout: 20_000 });
      expect(
        await on.getByRole('img', { name: /Spend per day for the last 30 days: \$5\.25 in all/ }).count(),
      ).toBe(1);
      if (on === page) {
        const perModel = page.getByRole('table', { name: /Spend and tokens per model/ });
        await expect
          .poll(() => perModel.getByRole('row', { name: /openai\/gpt-5/ }).textContent(), { timeout: 20_000 })
          .toMatch(/\$5\.25.*2.*2,000 \/ 400/);
      }
      const chart = on.locator('figure.chart:not(.model-usage)');
      expect(await chart.locator('.chart-values span').allTextContents()).toEqual([
        '$10.00',
        '$5.00',
        '$0.00',
      ]);
      const days = await chart.locator('.chart-days span').allTextContents();
      expect(days).toHaveLength(4);
      expect(days.at(-1)).toBe(today);
      const inside = await chart.evaluate((figure) => {
        const box = figure.getBoundingClientRect();
        return [...figure.querySelectorAll('.chart-values span, .chart-days span')].every((label) => {
          const own = label.getBoundingClientRect();
          return own.left >= box.left && own.right <= box.right;
        });
      });
      expect(inside, `axis labels inside the chart at ${width} px`).toBe(true);
      // The card says "Chat, Images"; the history says it in the same words, never the raw scope ids.
      expect(await on.locator('.facts').textContent()).toContain('Chat, Images');
      const history = on.locator('ol.history');
      await history.getByText('endpoints Chat → Chat, Images').waitFor();
      expect(await history.textContent()).not.toContain('model:');
      expect(
        await on.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
      ).toBeLessThanOrEqual(0);
    }
    await page.getByText(/Created.*by you/).waitFor();
    await screenshot(page, 'api-key-page');
    await screenshot(phone, 'api-key-page-phone');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(await accessibilityProblems(phone)).toEqual([]);
    await page.getByRole('link', { name: '← API keys' }).click();
    await row('chat-app').waitFor();
  });

  it('says under the field what the API refused, and changes nothing', async () => {
    await row('chat-app').getByRole('button', { name: 'Edit chat-app' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit chat-app' });
    const amount = edit.getByLabel('Limit amount (USD)');
    await amount.fill('twenty');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectErrorUnder(amount, /positive amount of dollars, such as 5 or 12\.50/);
    await amount.fill('2000000000');
    await expectNoErrorOn(amount);
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectErrorUnder(amount, /larger than 1,000,000,000 USD/);
    expect(await edit.locator('p.error').count()).toBe(0); // said once, under the field
    await amount.fill('30');
    await expectNoErrorOn(amount);
    await edit.getByRole('button', { name: 'Cancel' }).click();
    expect(await row('chat-app').textContent()).toContain('Weekly $20.00');
  });

  it('sets an expiry and a rate limit, shows the time left, rotates with a one-time reveal, and marks an expired key', async () => {
    const inTwoDays = new Date(Date.now() + 2 * 86_400_000 + 3_600_000).toISOString().slice(0, 16);
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.getByLabel('Name', { exact: true }).fill('contractor');
    const expires = dialog.getByLabel('Expires (UTC)');
    await expires.fill('2020-01-01T00:00');
    const rpm = dialog.getByLabel('Requests per minute');
    await rpm.fill('fast');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await expectErrorUnder(expires, /Choose a time in the future/);
    await expectErrorUnder(rpm, /whole number from 1 to 1,000,000/);
    await expires.fill(inTwoDays);
    await rpm.fill('1200');
    await dialog.getByLabel('Tokens per minute').fill('50000');
    const alerts = dialog.getByLabel('Alert at (% of the limit)');
    expect(await alerts.inputValue()).toBe('50, 80, 100');
    await alerts.fill('50, 50');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await expectErrorUnder(alerts, /whole percentages from 1 to 100/);
    await alerts.fill('75, 25');
    await expectNoErrorOn(alerts);
    await expectNoErrorOn(expires);
    await expectNoErrorOn(rpm);
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: /API key contractor created/ });
    const first = await shown.getByLabel('Your new key').inputValue();
    await shown.getByRole('button', { name: 'I have stored it' }).click();
    const prefix = first.slice(0, 8);
    const stored = (await system.call('GET', `/v1/keys/${prefix}`, system.managementKey)).body.data;
    expect(stored).toMatchObject({
      expires_at: `${inTwoDays}:00.000Z`,
      expired: false,
      rate_limit: { requests_per_minute: 1200, tokens_per_minute: 50000 },
      alert_thresholds: [25, 75],
    });

    await page.getByRole('link', { name: 'contractor' }).click();
    await page.getByRole('heading', { name: /contractor/ }).waitFor();
    const facts = page.locator('.facts');
    await expect.poll(() => facts.textContent()).toMatch(/Expires.*2 days \d+ h left/);
    expect(await facts.textContent()).toContain('1,200 requests/min · 50,000 tokens/min');
    // No spending limit on this key: nothing to alert on, whatever the thresholds say.
    expect(await facts.textContent()).toMatch(/Alerts\s*None/);

    await page.getByRole('button', { name: 'Rotate contractor' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate contractor?' });
    await rotate.getByText('keeps its prefix').waitFor();
    expect(await textCutIn(rotate)).toEqual([]);
    await rotate.getByLabel('The old secret keeps working for').selectOption('3600');
    await screenshot(page, 'rotate-api-key', { fullPage: false });
    expect(await accessibilityProblems(page)).toEqual([]);
    await rotate.getByRole('button', { name: 'Rotate secret' }).click();
    const revealed = page.getByRole('dialog', { name: 'New secret for contractor' });
    await revealed.getByText('It will not be shown again').waitFor();
    const second = await revealed.getByLabel('Your new key').inputValue();
    expect(second).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(second).not.toBe(first);
    expect(second.slice(0, 8)).toBe(prefix);
    await page.keyboard.press('Escape'); // must be acknowledged
    expect(await revealed.isVisible()).toBe(true);
    await revealed.getByRole('button', { name: 'I have stored it' }).click();
    // Both secrets work during the hour of grace; the page says until when the old one does.
    expect((await verify(first)).valid).toBe(true);
    expect((await verify(second)).valid).toBe(true);
    await expect.poll(() => facts.textContent()).toContain('old secret works until');
    await page.locator('ol.history').getByText('Secret rotated').waitFor();
    expect(await page.content()).not.toContain(second);

    // Clearing the expiry in the edit dialog.
    await page.getByRole('button', { name: 'Edit contractor' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit contractor' });
    expect(await edit.getByLabel('Expires (UTC)').inputValue()).toBe(inTwoDays);
    expect(await edit.getByLabel('Requests per minute').inputValue()).toBe('1200');
    await edit.getByRole('button', { name: 'Never expires' }).click();
    await edit.getByLabel('Tokens per minute').fill('');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => facts.textContent()).toMatch(/ExpiresNever/);
    expect(await facts.textContent()).toContain('1,200 requests/min');
    expect(await facts.textContent()).not.toContain('tokens/min');

    // An expiry reached: the key is refused and shown as expired.
    const soon = new Date(Date.now() + 1_500).toISOString();
    expect(
      (await system.call('PATCH', `/v1/keys/${prefix}`, system.managementKey, { expires_at: soon })).status,
    ).toBe(200);
    await expect.poll(async () => (await verify(second)).code, { timeout: 10_000 }).toBe('EXPIRED');
    await page.getByRole('link', { name: '← API keys' }).click();
    await row('contractor').getByText('Expired').waitFor({ timeout: 20_000 });
    await screenshot(page, 'api-keys-expired');
    // The tests after this one expect the list as it was.
    expect((await system.call('DELETE', `/v1/keys/${prefix}`, system.managementKey)).status).toBe(200);
    await expect.poll(() => row('contractor').count(), { timeout: 20_000 }).toBe(0);
  });

  it('disables, enables and deletes a key behind a confirmation; dialogs keep keyboard focus', async () => {
    const create = page.getByRole('button', { name: 'Create API key' });
    await create.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.getByLabel('Name', { exact: true }).fill('temporary');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Create API key');

    await create.click();
    await dialog.getByLabel('Name', { exact: true }).fill('temporary');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await row('temporary').getByRole('button', { name: 'Disable temporary' }).click();
    await row('temporary').getByText('Disabled').waitFor();
    await row('temporary').getByRole('button', { name: 'Enable temporary' }).click();
    await row('temporary').getByText('Active').waitFor();

    // The confirmation opened from the list wraps its text inside the dialog, at both widths.
    await phone.goto(`${system.baseUrl}/app/keys`);
    for (const [on] of widths()) {
      await row('temporary', on).getByRole('button', { name: 'Delete temporary' }).click();
      const confirm = on.getByRole('dialog', { name: 'Delete API key?' });
      await confirm.getByText('stops working at once, for good').waitFor();
      expect(await textCutIn(confirm)).toEqual([]);
      if (on === page) await screenshot(page, 'delete-api-key', { fullPage: false });
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await confirm.waitFor({ state: 'hidden' });
    }

    // The same actions on the key's own page; deleting there goes back to the list.
    await page.getByRole('link', { name: 'temporary' }).click();
    const heading = page.getByRole('heading', { name: /temporary/ });
    await page.getByRole('button', { name: 'Disable temporary' }).click();
    await heading.getByText('Disabled').waitFor();
    await page.getByRole('button', { name: 'Enable temporary' }).click();
    await heading.getByText('Active').waitFor();
    await page.getByRole('button', { name: 'Delete temporary' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete API key?' });
    await confirm.getByText('stops working at once').waitFor();
    expect(await textCutIn(confirm)).toEqual([]);
    await confirm.getByRole('button', { name: 'Delete key' }).click();
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/keys');
    await row('chat-app').waitFor();
    expect(await row('temporary').count()).toBe(0);
  });

  it('creates a management key shown once, and revokes it so the API refuses it', async () => {
    for (const [on] of widths()) {
      if (on === phone) await phone.goto(`${system.baseUrl}/app/keys/management`);
      else await page.getByRole('tab', { name: 'Management Keys' }).click();
      expect(new URL(on.url()).pathname).toBe('/app/keys/management');
      // Where management keys come from, as the README does it: here, or an operator's CLI.
      await on.getByText('Create them here, or an operator creates one with the CLI').waitFor();
      await on.getByRole('row').filter({ hasText: 'e2e' }).waitFor(); // the one the operator made
      expect(await wrappedCells(on.locator('table.keys'))).toEqual([]);
    }
    await page.getByRole('button', { name: 'Create management key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create management key' });
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await expectErrorUnder(dialog.getByLabel('Name'), /Give the key a name/);
    await dialog.getByLabel('Name').fill('ci-pipeline');
    await expectNoErrorOn(dialog.getByLabel('Name'));
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: 'Management key ci-pipeline created' });
    const managementSecret = await shown.getByLabel('Your new key').inputValue();
    expect(managementSecret).toMatch(/^kfm_/);
    await screenshot(page, 'management-key-secret', { fullPage: false });
    await shown.getByRole('button', { name: 'I have stored it' }).click();

    const listed = await system.call('GET', '/v1/keys', managementSecret);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((key: { name: string }) => key.name)).toEqual(['chat-app']);
    await page.reload();
    const ciRow = page.getByRole('row').filter({ hasText: 'ci-pipeline' });
    await ciRow.waitFor();
    expect(await page.content()).not.toContain(managementSecret);
    expect(await ciRow.textContent()).not.toContain('Never'); // it was just used
    expect(await wrappedCells(page.locator('table.keys'))).toEqual([]);
    await screenshot(page, 'management-keys');

    await ciRow.getByRole('button', { name: 'Revoke ci-pipeline' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke management key?' });
    expect(await textCutIn(confirm)).toEqual([]);
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await ciRow.waitFor({ state: 'detached' });
    await page.getByText('The API refuses it from now on').waitFor();
    const history = page.getByRole('list', { name: 'Management key history' });
    const prefix = managementSecret.slice(4, 12);
    await history.getByText(`Revoked ci-pipeline (kfm_${prefix}…) by you`).waitFor();
    await history.getByText(`Created ci-pipeline (kfm_${prefix}…) by you`).waitFor();
    await history.getByText(/Created e2e \(kfm_\w{8}…\) by an operator/).waitFor();
    await screenshot(page, 'management-keys-history');
    expect(await accessibilityProblems(page)).toEqual([]);
    const refused = await system.call('GET', '/v1/keys', managementSecret);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('fits a phone-width screen', async () => {
    await phone.goto(`${system.baseUrl}/app/keys`);
    await row('chat-app', phone).waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await wrappedCells(phone.locator('table.keys'))).toEqual([]);
    await screenshot(phone, 'api-keys-phone');
    expect(await accessibilityProblems(phone)).toEqual([]);
  });

  it('serves an API reference with believable example times and no missing icon', async () => {
    const docs = await context.newPage();
    const missing: string[] = [];
    docs.on('response', (response) => {
      if (response.status() >= 400) missing.push(`${response.status()} ${response.url()}`);
    });
    try {
      // Swagger UI's deep link opens the operation, with its answer's example.
      await docs.goto(`${system.baseUrl}/docs#/keys/listKeys`);
      const example = docs
        .locator('#operations-keys-listKeys .microlight', { hasText: 'created_at' })
        .first();
      await example.waitFor({ timeout: 30_000 });
      const text = (await example.textContent()) ?? '';
      expect(text).toContain('"created_at": "2026-12-01T09:30:00.000Z"');
      expect(text).not.toMatch(/"(?!2026-)\d{4}-\d\d-\d\dT/); // no year made up from the pattern
      expect(missing).toEqual([]);
    } finally {
      await docs.close();
    }
  });

  it('signs out, and the session is gone after a reload', async () => {
    await page.getByRole('tab', { name: 'API Keys' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByText('You are signed out.').waitFor();
    await page.goto(`${system.baseUrl}/app/keys`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect((await context.cookies()).find((cookie) => cookie.name === 'kf_session')).toBeUndefined();
  });
});
