import { auditLogQuerySchema } from '@keyfence/contracts';
import { isKeyPrefix } from '@keyfence/domain';
import { Router } from 'express';
import { keyManagerOf, requireKeyManager } from '../auth/key-manager.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../http/api-error.ts';
import { methodNotAllowed } from '../http/error-handler.ts';
import { sendData } from '../http/respond.ts';
import { parseInput } from '../http/validation.ts';
import { decodeAuditCursor } from '../keys/cursor.ts';
import { presentAuditEntry } from '../keys/key-presenter.ts';

const DEFAULT_AUDIT_PAGE = 100;

/** `GET /v1/audit-log`: the account's key changes, newest first, paged by `cursor`. */
export function createAuditRoutes(deps: AppDeps): Router {
  const router = Router();
  router
    .route('/v1/audit-log')
    .get(requireKeyManager(deps), async (req, res) => {
      const query = parseInput(auditLogQuerySchema, req.query, 'query');
      if (query.key_prefix !== undefined && !isKeyPrefix(query.key_prefix)) {
        throw new ApiError('INVALID_PREFIX', 'key_prefix must be 8 characters of 0-9, A-Z and a-z');
      }
      const limit = query.limit ?? DEFAULT_AUDIT_PAGE;
      const entries = await deps.store.auditLog.list(keyManagerOf(res).accountId, {
        limit: limit + 1,
        beforeId: query.cursor === undefined ? undefined : decodeAuditCursor(query.cursor),
        keyPrefix: query.key_prefix,
        subject: query.subject,
      });
      const page = entries.slice(0, limit);
      const last = page[page.length - 1];
      sendData(res, 200, page.map(presentAuditEntry), {
        next_cursor: entries.length > limit && last !== undefined ? last.id : null,
      });
    })
    .all(methodNotAllowed(['GET']));
  return router;
}
