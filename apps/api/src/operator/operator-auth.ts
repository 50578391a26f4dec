import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { bearerToken } from '../auth/bearer.ts';
import { ApiError } from '../http/api-error.ts';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Operator authentication for the operator views (queue dashboard, metrics): the operator token from
 * config as `Authorization: Bearer <token>`, or as the password of HTTP basic auth (any user name) so a
 * browser can open the dashboard. Without a configured token every request is refused.
 */
export function requireOperator(operatorToken: string | undefined) {
  const expected = operatorToken === undefined ? undefined : digest(operatorToken);
  return (req: Request, _res: Response, next: NextFunction): void => {
    const header = req.get('authorization') ?? '';
    let presented: string | undefined;
    const bearer = bearerToken(header);
    const basic = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (bearer !== undefined) presented = bearer;
    else if (basic?.[1] !== undefined) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      presented = decoded.slice(decoded.indexOf(':') + 1);
    }
    if (expected !== undefined && presented !== undefined && timingSafeEqual(digest(presented), expected)) {
      next();
      return;
    }
    next(
      new ApiError(
        header === '' ? 'MISSING_CREDENTIALS' : 'INVALID_CREDENTIALS',
        'operator authentication required',
        { headers: { 'WWW-Authenticate': 'Basic realm="keyfence operators"' } },
      ),
    );
  };
}
