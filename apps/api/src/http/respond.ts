import type { Response } from 'express';
import { serializeJson } from './json-body.ts';

/** Sends a body as JSON, money exact. */
export function sendJson(res: Response, status: number, body: unknown): void {
  sendJsonText(res, status, serializeJson(body));
}

/** Sends JSON text that is already serialised (a replayed answer). */
export function sendJsonText(res: Response, status: number, text: string): void {
  res.status(status).type('application/json; charset=utf-8').send(text);
}

/** Every success body is `{"data": …}`; extra top-level members (paging) sit beside it. */
export function sendData(
  res: Response,
  status: number,
  data: unknown,
  extra: Record<string, unknown> = {},
): void {
  sendJson(res, status, { data, ...extra });
}
