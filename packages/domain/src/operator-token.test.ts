import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { operatorTokenProblem } from './operator-token.ts';

describe('operatorTokenProblem', () => {
  it.each([
    ['change-me-at-least-16-characters', /placeholder/],
    ['REPLACE-WITH-openssl-rand-base64-32', /placeholder/],
    ['CHANGEME-0123456789abcdefghijklmnop', /placeholder/],
    ['short-but-random-Zq8', /at least 32/],
    ['abababababababababababababababababab', /random/],
  ])('refuses %s', (token, problem) => {
    expect(operatorTokenProblem(token)).toMatch(problem);
  });

  it('accepts generated tokens', () => {
    // As `openssl rand -base64 32` and `openssl rand -hex 32` make them. (16 random bytes in hex, 32
    // characters, have fewer than 10 distinct ones about once in 10,000 draws: 2 % of runs of this loop failed.)
    for (let i = 0; i < 200; i += 1) {
      expect(operatorTokenProblem(randomBytes(32).toString('base64'))).toBeNull();
      expect(operatorTokenProblem(randomBytes(32).toString('hex'))).toBeNull();
    }
  });
});
