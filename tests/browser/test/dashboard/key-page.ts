import { expect, it } from 'vitest';
import { accessibilityProblems, screenshot } from '../browser.ts';
import { expectErrorUnder, expectNoErrorOn, row, textCutIn, ui, verify, widths } from './dashboard.ts';

/** The page of `chat-app`: its facts, its charts and its history. */
export function showsKeyPage(): void {
  it("shows a key's page: spend per day on a dollar axis with its days, and history in the card's words", async () => {
    const { page, phone, system, secret } = ui;
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
}

/** Expiry, rate limit and alerts in the create and edit dialogs; rotation; an expired key. */
export function managesLifecycle(): void {
  it('sets an expiry and a rate limit, shows the time left, rotates with a one-time reveal, and marks an expired key', async () => {
    const { page, system } = ui;
    const inTwoDays = new Date(Date.now() + 2 * 86_400_000 + 3_600_000).toISOString().slice(0, 16);
    const first = await createContractor(inTwoDays);
    const prefix = first.slice(0, 8);
    const second = await rotateContractor(first);
    const facts = page.locator('.facts');

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
}

/** Creates `contractor` (expiring in two days, rate limited, alerts) past the dialog's checks; its secret. */
async function createContractor(inTwoDays: string): Promise<string> {
  const { page, system } = ui;
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

  return first;
}

/** On the page of `contractor`: its facts, then a rotation with an hour of grace; the new secret. */
async function rotateContractor(first: string): Promise<string> {
  const { page } = ui;
  const prefix = first.slice(0, 8);
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

  return second;
}
