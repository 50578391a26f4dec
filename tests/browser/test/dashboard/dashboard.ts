import { type System, startSystem } from '@keyfence/testkit';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { launchChromium } from '../browser.ts';
import { createDashboardUser } from '../dashboard-user.ts';

export const EMAIL = 'owner@example.com';
export const PASSWORD = 'a long dashboard password';

/** What the dashboard tests share, in the order they run: set up once, for the whole file. */
export interface DashboardUi {
  system: System;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** The same session at a phone's width. */
  phone: Page;
  /** The secret of `chat-app`, created by an early test and used by the later ones. */
  secret: string;
  eventCount: number;
}

export const ui = { eventCount: 0 } as DashboardUi;

/** Starts the system with a dashboard user made by the operator's CLI, and Chromium at two widths. */
export function startDashboard(): void {
  beforeAll(async () => {
    ui.system = await startSystem();
    expect(createDashboardUser(ui.system, EMAIL, PASSWORD)).toMatchObject({
      email: EMAIL,
      account_id: ui.system.accountId,
    });
    ui.browser = await launchChromium();
    ui.context = await ui.browser.newContext({
      viewport: { width: 1280, height: 820 },
      locale: 'en-GB',
      timezoneId: 'Europe/Berlin',
    });
    await ui.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ui.system.baseUrl });
    ui.page = await ui.context.newPage();
    ui.page.setDefaultTimeout(15_000);
    ui.phone = await ui.context.newPage();
    ui.phone.setDefaultTimeout(15_000);
    await ui.phone.setViewportSize({ width: 390, height: 844 });
  });

  afterAll(async () => {
    await ui.browser?.close();
    await ui.system?.close();
  });
}

/** Reports what `key` spent through the ingest API, as a model service would. */
export async function spend(prefix: string, costUsd: number): Promise<void> {
  ui.eventCount += 1;
  const response = await ui.system.call('POST', '/internal/v1/usage-events', ui.system.serviceToken, {
    events: [
      {
        id: `browser-${ui.eventCount}`,
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

export async function verify(key: string) {
  const response = await ui.system.call('POST', '/internal/v1/verify', ui.system.serviceToken, {
    key,
    method: 'POST',
    path: '/v1/chat/completions',
  });
  return response.body.data as { valid: boolean; code: string };
}

export const row = (name: string, on: Page = ui.page) => on.getByRole('row').filter({ hasText: name });

/** Desktop (1280 px) and phone (390 px), one session: each dashboard point is checked at both. */
export const widths = () =>
  [
    [ui.page, 1280],
    [ui.phone, 390],
  ] as const;

/** Text in a dialog that does not fit it (cut at its edge, or wider than the screen): none, as lines. */
export function textCutIn(dialog: Locator): Promise<string[]> {
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
export function wrappedCells(table: Locator, skip: readonly string[] = []): Promise<string[]> {
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
export async function expectErrorUnder(field: Locator, message: RegExp): Promise<void> {
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

export async function expectNoErrorOn(field: Locator): Promise<void> {
  await expect.poll(() => field.getAttribute('aria-invalid')).toBe('false');
  expect((await field.getAttribute('aria-describedby')) ?? '').not.toMatch(/-error/);
}
