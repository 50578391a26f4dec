import { type System, startSystem, waitFor } from '@keyfence/testkit';
import { startWebhookReceiver, type WebhookReceiver } from '@keyfence/testkit/webhook-receiver';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems, launchChromium, screenshot } from './browser.ts';
import { createDashboardUser } from './dashboard-user.ts';

const EMAIL = 'alerts@example.com';
const PASSWORD = 'a long dashboard password';

let system: System;
let receiver: WebhookReceiver;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  system = await startSystem({ env: { KEYFENCE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
  createDashboardUser(system, EMAIL, PASSWORD);
  browser = await launchChromium();
  const context = await browser.newContext({
    viewport: { width: 1280, height: 820 },
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await system?.close();
  await receiver?.close();
});

describe('the webhooks page in Chromium', () => {
  it(
    'adds an endpoint, shows its signing secret once, and the receiver verifies what it gets',
    addsEndpointWithSecret,
  );
  it('shows the delivery log, redelivers, and rotates the secret', showsDeliveryLog);
  it(
    'disables and enables an endpoint, tells of one disabled for failing, and deletes',
    disablesEnablesDeletesEndpoint,
  );
});

/** An endpoint added from the dashboard: its secret shown once, and signed deliveries the receiver checks. */
async function addsEndpointWithSecret(): Promise<void> {
  await page.goto(`${system.baseUrl}/app/`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Keys' }).waitFor();
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Webhooks' }).click();
  await page.getByText('No webhook endpoints yet.').waitFor();
  expect(new URL(page.url()).pathname).toBe('/app/webhooks');
  expect(await accessibilityProblems(page)).toEqual([]);

  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByLabel('URL').fill(`${receiver.url}/dashboard`);
  await page.getByLabel('Description (optional)').fill('Billing alerts');
  await page.getByRole('checkbox', { name: 'key.updated' }).uncheck();
  await screenshot(page, 'create-webhook', { fullPage: false });
  // A refused URL is named under its field.
  await page.getByLabel('URL').fill('ftp://example.com/hook');
  await page.getByRole('dialog').getByRole('button', { name: 'Add endpoint' }).click();
  await page.locator('#webhook-url-error').filter({ hasText: 'http' }).waitFor();
  await page.getByLabel('URL').fill(`${receiver.url}/dashboard`);
  await page.getByRole('dialog').getByRole('button', { name: 'Add endpoint' }).click();
  const secretField = page.getByLabel('Signing secret', { exact: true });
  await secretField.waitFor();
  const secret = await secretField.inputValue();
  expect(secret).toMatch(/^whsec_/);
  await expect.poll(() => page.getByRole('note').textContent()).toMatch(/will not be shown again/);
  await screenshot(page, 'webhook-secret', { fullPage: false });
  await page.getByRole('button', { name: 'I have stored it' }).click();
  receiver.setSecret('/dashboard', secret);
  // The secret is not on the page any more, nor in the list's answer.
  expect(await page.content()).not.toContain(secret);
  const row = page.getByRole('row').filter({ hasText: '/dashboard' });
  await row.getByText('Billing alerts').waitFor();
  expect(await row.textContent()).toContain('key.threshold_crossed');
  expect(await row.textContent()).not.toContain('key.updated');

  // A key created through the API is announced, signed.
  const key = await system.call('POST', '/v1/keys', system.managementKey, { name: 'announced' });
  expect(key.status).toBe(200);
  const [hit] = await waitFor(
    async () => receiver.delivered('/dashboard'),
    (hits) => hits.length === 1,
  );
  expect(hit?.verified).toBe(true);
  expect(hit?.payload.data.key.prefix).toBe(key.body.data.prefix);
  await screenshot(page, 'webhooks');
}

/** The delivery log of the endpoint, a redelivery, and a new signing secret. */
async function showsDeliveryLog(): Promise<void> {
  await page
    .getByRole('row')
    .filter({ hasText: '/dashboard' })
    .getByRole('link', { name: 'Deliveries' })
    .click();
  await page.getByRole('heading', { name: /Deliveries to/ }).waitFor();
  const delivery = page.getByRole('row').filter({ hasText: 'key.created' });
  await delivery.getByText('succeeded').waitFor();
  expect(await delivery.textContent()).toMatch(/HTTP 200 in \d+ ms/);
  expect(await accessibilityProblems(page)).toEqual([]);
  await screenshot(page, 'webhook-deliveries');
  await delivery.getByRole('button', { name: 'Redeliver' }).click();
  await page.getByRole('status').filter({ hasText: 'Sending key.created again' }).waitFor();
  await waitFor(
    async () => receiver.delivered('/dashboard').length,
    (n) => n === 2,
  );
  const [first, second] = receiver.delivered('/dashboard');
  expect(second?.id).toBe(first?.id);
  expect(second?.verified).toBe(true);

  await page.getByRole('button', { name: 'Rotate signing secret' }).click();
  const rotated = await page.getByLabel('Signing secret', { exact: true }).inputValue();
  expect(rotated).toMatch(/^whsec_/);
  await page.getByRole('button', { name: 'I have stored it' }).click();
}

/** Disable and enable an endpoint, the warning for one disabled for failing, and delete. */
async function disablesEnablesDeletesEndpoint(): Promise<void> {
  await page.getByRole('link', { name: '← Webhooks' }).click();
  const row = page.getByRole('row').filter({ hasText: '/dashboard' });
  await row.getByRole('button', { name: 'Disable' }).click();
  await row.getByText('Disabled', { exact: true }).waitFor();
  await row.getByRole('button', { name: 'Enable' }).click();
  await row.getByText('Enabled', { exact: true }).waitFor();

  // What the worker does after 5 days of failures, written directly (the test cannot wait 5 days).
  await system.db.query(
    "UPDATE webhook_endpoints SET disabled = true, disabled_reason = 'failing', failing_since = now() - interval '5 days'",
  );
  await page.reload();
  await page
    .getByRole('alert')
    .filter({ hasText: 'disabled because every delivery failed for 5 days' })
    .waitFor();
  await row.getByText('Disabled: failed for 5 days').waitFor();
  await screenshot(page, 'webhooks-failing');

  await row.getByRole('button', { name: /^Delete / }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete endpoint' }).click();
  await page.getByText('No webhook endpoints yet.').waitFor();
}
