import type { Response } from 'express';
import { serializeJson } from './json-body.ts';

/** Sends a body as JSON, money exact. */
export function sendJson(res: Response, status: number, body: unknown): void {
  sendJsonText(res, status, serializeJson(body));
}

/**
 * Sends JSON text that is already serialised (a replayed answer). Written with Node's own `end` rather
 * than Express's `send`: a string body goes out in one write together with the head, where `send` turns
 * it into a Buffer that goes out as a second chunk (a `writev`), and computes what JSON answers never use
 * (ETags are off, nothing is fresh). Node drops the body of an answer to HEAD.
 */
export function sendJsonText(res: Response, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
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
