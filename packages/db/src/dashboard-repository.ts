import { createHash } from 'node:crypto';
import { SESSION_REFRESH_MS, sessionExpiry } from '@keyfence/domain';
import { translatingErrors, UniqueConstraintError } from './errors.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export interface DashboardUser {
  readonly id: string;
  readonly accountId: string;
  readonly email: string;
  readonly createdAt: Date;
  readonly lastSignInAt: Date | null;
}

/** A live session and the person it belongs to. */
export interface DashboardSession {
  readonly id: string;
  readonly user: DashboardUser;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** The email is taken by another dashboard user (emails are unique across accounts). */
export class EmailTakenError extends Error {
  constructor(email: string) {
    super(`a dashboard user with email ${email} exists already`);
    this.name = 'EmailTakenError';
  }
}

const USER_COLUMNS = { id: true, accountId: true, email: true, createdAt: true, lastSignInAt: true } as const;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
let decoyHash: Promise<string> | undefined;

/**
 * People who sign in to the dashboard, and their sessions. Passwords are kept as argon2id hashes and
 * session tokens as SHA-256 hashes; neither leaves this class.
 */
export class DashboardRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Adds a user; `email` must already be normalised and `password` acceptable. */
  async createUser(accountId: string, email: string, password: string): Promise<DashboardUser> {
    const passwordHash = await hashPassword(password);
    try {
      return await translatingErrors(() =>
        this.prisma.dashboardUser.create({
          data: { accountId, email, passwordHash },
          select: USER_COLUMNS,
        }),
      );
    } catch (error) {
      if (error instanceof UniqueConstraintError) throw new EmailTakenError(email);
      throw error;
    }
  }

  /** Replaces a user's password and ends all of their sessions; false when there is no such user. */
  async setPassword(email: string, password: string, now: Date): Promise<boolean> {
    const passwordHash = await hashPassword(password);
    return translatingErrors(() =>
      this.prisma.$transaction(async (tx) => {
        const user = await tx.dashboardUser.findUnique({ where: { email }, select: { id: true } });
        if (user === null) return false;
        await tx.dashboardUser.update({ where: { id: user.id }, data: { passwordHash, updatedAt: now } });
        await tx.dashboardSession.deleteMany({ where: { userId: user.id } });
        return true;
      }),
    );
  }

  /** Removes a user and with them every session they have; false when there is no such user. */
  async removeUser(email: string): Promise<boolean> {
    const result = await translatingErrors(() => this.prisma.dashboardUser.deleteMany({ where: { email } }));
    return result.count > 0;
  }

  /** Ends every session of a user (signed out everywhere); null when there is no such user. */
  async closeSessionsOf(email: string): Promise<number | null> {
    return translatingErrors(() =>
      this.prisma.$transaction(async (tx) => {
        const user = await tx.dashboardUser.findUnique({ where: { email }, select: { id: true } });
        if (user === null) return null;
        return (await tx.dashboardSession.deleteMany({ where: { userId: user.id } })).count;
      }),
    );
  }

  listUsers(accountId: string): Promise<DashboardUser[]> {
    return translatingErrors(() =>
      this.prisma.dashboardUser.findMany({
        where: { accountId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: USER_COLUMNS,
      }),
    );
  }

  /**
   * The user with this email and password, or null. An unknown email takes as long as a wrong password
   * (one argon2id verification either way), so the answer's timing does not tell which was wrong.
   */
  async authenticate(email: string, password: string): Promise<DashboardUser | null> {
    const row = await translatingErrors(() =>
      this.prisma.dashboardUser.findUnique({
        where: { email },
        select: { ...USER_COLUMNS, passwordHash: true },
      }),
    );
    if (row === null) {
      decoyHash ??= hashPassword('keyfence decoy password');
      await verifyPassword(await decoyHash, password);
      return null;
    }
    if (!(await verifyPassword(row.passwordHash, password))) return null;
    const { passwordHash: _omitted, ...user } = row;
    return user;
  }

  /** Opens a session for `userId` whose cookie carries `token`; records the sign-in. */
  async openSession(userId: string, token: string, now: Date): Promise<DashboardSession> {
    return translatingErrors(() =>
      this.prisma.$transaction(async (tx) => {
        const user = await tx.dashboardUser.update({
          where: { id: userId },
          data: { lastSignInAt: now },
          select: USER_COLUMNS,
        });
        const session = await tx.dashboardSession.create({
          data: {
            userId,
            tokenHash: sha256(token),
            createdAt: now,
            lastSeenAt: now,
            expiresAt: sessionExpiry(now, now),
          },
          select: { id: true, createdAt: true, expiresAt: true },
        });
        return { ...session, user };
      }),
    );
  }

  /**
   * The live session whose cookie carries `token`, its expiry pushed forward (at most once a minute), or
   * null when there is none or it has ended.
   */
  async findSession(token: string, now: Date): Promise<DashboardSession | null> {
    const row = await translatingErrors(() =>
      this.prisma.dashboardSession.findUnique({
        where: { tokenHash: sha256(token) },
        select: {
          id: true,
          createdAt: true,
          lastSeenAt: true,
          expiresAt: true,
          user: { select: USER_COLUMNS },
        },
      }),
    );
    if (row === null || row.expiresAt.getTime() <= now.getTime()) return null;
    let expiresAt = row.expiresAt;
    if (now.getTime() - row.lastSeenAt.getTime() >= SESSION_REFRESH_MS) {
      expiresAt = sessionExpiry(row.createdAt, now);
      await translatingErrors(() =>
        this.prisma.dashboardSession.updateMany({
          where: { id: row.id },
          data: { lastSeenAt: now, expiresAt },
        }),
      );
    }
    return { id: row.id, user: row.user, createdAt: row.createdAt, expiresAt };
  }

  /** Ends the session whose cookie carries `token` (sign-out); nothing happens if there is none. */
  async closeSession(token: string): Promise<void> {
    await translatingErrors(() =>
      this.prisma.dashboardSession.deleteMany({ where: { tokenHash: sha256(token) } }),
    );
  }

  /** Deletes ended sessions; returns how many. */
  async deleteEndedSessions(now: Date): Promise<number> {
    const result = await translatingErrors(() =>
      this.prisma.dashboardSession.deleteMany({ where: { expiresAt: { lte: now } } }),
    );
    return result.count;
  }
}
