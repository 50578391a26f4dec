import { expect, it } from 'vitest';
import { screenshot } from '../browser.ts';
import { row, textCutIn, ui, widths } from './dashboard.ts';

/** Disable, enable and delete from the list and from the key's page. */
export function disablesEnablesDeletes(): void {
  it('disables, enables and deletes a key behind a confirmation; dialogs keep keyboard focus', async () => {
    const { page, phone, system } = ui;
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
}
