import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type System, startSystem } from '@keyfence/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems, launchChromium, screenshot } from './browser.ts';

const CLI = fileURLToPath(new URL('../../../apps/cli/bin/keyfence.mjs', import.meta.url));
const EMAIL = 'owner@example.com';
const PASSWORD = 'a long dashboard password';

let system: System;
let browser: Browser;
let context: BrowserContext;
let page: Page;
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

const row = (name: string) => page.getByRole('row').filter({ hasText: name });

describe('the dashboard in Chromium', () => {
  it('refuses a wrong password in words, then signs in', async () => {
    await page.goto(`${system.baseUrl}/app`);
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
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
  });

  it('creates an API key with a weekly $5 limit and the chat scope, and shows its secret once', async () => {
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.waitFor();
    await expect
      .poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.placeholder))
      .toBe('e.g. production backend');
    await dialog.getByLabel('Name').fill('chat-app');
    await dialog.getByLabel('Spending limit').selectOption('week');
    await dialog.getByLabel('Limit amount (USD)').fill('5');
    await dialog.getByLabel('Only these:').check();
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

  it('fills the bar as usage arrives, turns "limit reached", and is active again when the limit is raised', async () => {
    const prefix = secret.slice(0, 8);
    await spend(prefix, 2);
    await expect.poll(() => row('chat-app').textContent(), { timeout: 20_000 }).toContain('$2.00 of $5.00');
    await screenshot(page, 'api-keys-spending');
    await spend(prefix, 3.25);
    await row('chat-app').getByText('Limit reached').waitFor({ timeout: 20_000 });
    expect(await row('chat-app').textContent()).toContain('$5.25 of $5.00');
    expect(await verify(secret)).toMatchObject({ valid: false, code: 'LIMIT_REACHED' });
    await screenshot(page, 'api-keys-limit-reached');
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole('link', { name: 'chat-app' }).click();
    await page.getByRole('heading', { name: /chat-app/ }).waitFor();
    await page.getByText('Limit reached: calls blocked').waitFor({ timeout: 20_000 });
    expect(
      await page.getByRole('img', { name: /Spend per day for the last 30 days: \$5\.25 in all/ }).count(),
    ).toBe(1);
    const perModel = page.getByRole('table', { name: /Spend and tokens per model/ });
    await expect
      .poll(() => perModel.getByRole('row', { name: /openai\/gpt-5/ }).textContent(), { timeout: 20_000 })
      .toMatch(/\$5\.25.*2.*2,000 \/ 400/);
    await page.getByText(/Created.*by you/).waitFor();
    await screenshot(page, 'api-key-page');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('link', { name: '← API keys' }).click();

    await row('chat-app').getByRole('button', { name: 'Edit chat-app' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit chat-app' });
    expect(await edit.getByLabel('Limit amount (USD)').inputValue()).toBe('5');
    await edit.getByLabel('Limit amount (USD)').fill('20');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await row('chat-app').getByText('Active').waitFor();
    expect(await row('chat-app').textContent()).toContain('$5.25 of $20.00');
    expect((await verify(secret)).valid).toBe(true);
  });

  it('says in words what is wrong with a bad limit, and changes nothing', async () => {
    await row('chat-app').getByRole('button', { name: 'Edit chat-app' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit chat-app' });
    await edit.getByLabel('Limit amount (USD)').fill('twenty');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByRole('alert').filter({ hasText: 'Enter the limit as an amount in dollars' }).waitFor();
    await edit.getByLabel('Limit amount (USD)').fill('2000000000');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit
      .getByRole('alert')
      .filter({ hasText: /^Limit amount: / })
      .waitFor();
    await edit.getByRole('button', { name: 'Cancel' }).click();
    expect(await row('chat-app').textContent()).toContain('Weekly $20.00');
  });

  it('disables, enables and deletes a key behind a confirmation; dialogs keep keyboard focus', async () => {
    const create = page.getByRole('button', { name: 'Create API key' });
    await create.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.getByLabel('Name').fill('temporary');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Create API key');

    await create.click();
    await dialog.getByLabel('Name').fill('temporary');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await row('temporary').getByRole('button', { name: 'Disable temporary' }).click();
    await row('temporary').getByText('Disabled').waitFor();
    await row('temporary').getByRole('button', { name: 'Enable temporary' }).click();
    await row('temporary').getByText('Active').waitFor();

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
    await screenshot(page, 'delete-api-key', { fullPage: false });
    await confirm.getByRole('button', { name: 'Delete key' }).click();
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/keys');
    await row('chat-app').waitFor();
    expect(await row('temporary').count()).toBe(0);
  });

  it('creates a management key shown once, and revokes it so the API refuses it', async () => {
    await page.getByRole('tab', { name: 'Management Keys' }).click();
    expect(new URL(page.url()).pathname).toBe('/app/keys/management');
    await page.getByRole('row').filter({ hasText: 'e2e' }).waitFor(); // the one the operator made
    await page.getByRole('button', { name: 'Create management key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create management key' });
    await dialog.getByLabel('Name').fill('ci-pipeline');
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
    await screenshot(page, 'management-keys');

    await ciRow.getByRole('button', { name: 'Revoke ci-pipeline' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke management key?' });
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
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${system.baseUrl}/app/keys`);
    await phone.getByRole('row').filter({ hasText: 'chat-app' }).waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(phone, 'api-keys-phone');
    expect(await accessibilityProblems(phone)).toEqual([]);
    await phone.close();
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
