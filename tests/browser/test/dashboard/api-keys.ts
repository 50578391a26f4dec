import { expect, it } from 'vitest';
import { accessibilityProblems, screenshot } from '../browser.ts';
import {
  expectErrorUnder,
  expectNoErrorOn,
  row,
  spend,
  textCutIn,
  ui,
  verify,
  widths,
  wrappedCells,
} from './dashboard.ts';

/** The create dialog checks each field before anything is sent. */
export function refusesFieldByField(): void {
  it('says under each field what is wrong and what is allowed, until the value is allowed', async () => {
    const { page, system } = ui;
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
}

/** Creates `chat-app` (weekly $5 limit, chat only) and keeps its secret for the tests after it. */
export function createsKey(): void {
  it('creates an API key with a weekly $5 limit and the chat scope, and shows its secret once', async () => {
    const { page } = ui;
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
    const secret = await shown.getByLabel('Your new key').inputValue();
    ui.secret = secret;
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
}

/** The spend bar of `chat-app` as usage arrives, up to its limit. */
export function fillsSpendBar(): void {
  it('fills the bar as usage arrives, turns "limit reached", each value on one line', async () => {
    const { page, phone, secret } = ui;
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
}

/** The edit dialog opened from the list; raises `chat-app`'s limit and endpoints. */
export function editsFromList(): void {
  it("opens the edit dialog from the list with its text whole, and raises the limit and the key's endpoints", async () => {
    const { page, phone, secret } = ui;
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
}

/** A refusal of the API shown under the field it names. */
export function showsApiRefusal(): void {
  it('says under the field what the API refused, and changes nothing', async () => {
    const { page } = ui;
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
}
