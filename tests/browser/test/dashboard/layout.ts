import { expect, it } from 'vitest';
import { accessibilityProblems, screenshot } from '../browser.ts';
import { row, ui, wrappedCells } from './dashboard.ts';

/** The keys list at a phone's width. */
export function fitsPhone(): void {
  it('fits a phone-width screen', async () => {
    const { phone, system } = ui;
    await phone.goto(`${system.baseUrl}/app/keys`);
    await row('chat-app', phone).waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await wrappedCells(phone.locator('table.keys'))).toEqual([]);
    await screenshot(phone, 'api-keys-phone');
    expect(await accessibilityProblems(phone)).toEqual([]);
  });
}

/** The API reference served beside the dashboard. */
export function servesApiReference(): void {
  it('serves an API reference with believable example times and no missing icon', async () => {
    const { system, context } = ui;
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
}
