import { expect, it } from 'vitest';
import { accessibilityProblems, screenshot } from '../browser.ts';
import { expectErrorUnder, expectNoErrorOn, textCutIn, ui, widths, wrappedCells } from './dashboard.ts';

/** The management keys tab: create, the one-time secret, revoke, history. */
export function managesManagementKeys(): void {
  it('creates a management key shown once, and revokes it so the API refuses it', async () => {
    const { page, phone, system } = ui;
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
}
