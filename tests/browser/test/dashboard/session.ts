import { expect, it } from 'vitest';
import { accessibilityProblems, screenshot } from '../browser.ts';
import { EMAIL, PASSWORD, ui } from './dashboard.ts';

/** Sign-in from the API root: a wrong password refused in words, then the keys. */
export function signsIn(): void {
  it('leads from the API root to the dashboard, refuses a wrong password in words, then signs in', async () => {
    const { page, phone, system, context } = ui;
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
}

/** Sign-out ends the session. */
export function signsOut(): void {
  it('signs out, and the session is gone after a reload', async () => {
    const { page, system, context } = ui;
    await page.getByRole('tab', { name: 'API Keys' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByText('You are signed out.').waitFor();
    await page.goto(`${system.baseUrl}/app/keys`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect((await context.cookies()).find((cookie) => cookie.name === 'kf_session')).toBeUndefined();
  });
}
