import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, EdgeVoxError, evxError, isEdgeVoxError } from '../../../appliance/errors.js';
import { REPO_ROOT } from '../../helpers/paths.js';

describe('error registry', () => {
  const codes = Object.keys(ERROR_CODES);

  it('has unique, well-formed codes', () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^EVX_ERR_[A-Z0-9_]+$/);
  });

  it('documents every code with a description, an HTTP status and an exit code', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(spec.description.length, code).toBeGreaterThan(10);
      expect(spec.httpStatus, code).toBeGreaterThanOrEqual(400);
      expect(spec.httpStatus, code).toBeLessThan(600);
      expect([1, 2], code).toContain(spec.exitCode);
    }
  });

  it('lists every code in the README error reference', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const missing = codes.filter((c) => !readme.includes(c));
    expect(missing).toEqual([]);
  });

  it('carries code, status, cause and details', () => {
    const cause = new Error('disk');
    const err = evxError('EVX_ERR_STORE_WRITE', 'write failed', { cause, details: { operation: 'x' } });
    expect(err).toBeInstanceOf(EdgeVoxError);
    expect(err.code).toBe('EVX_ERR_STORE_WRITE');
    expect(err.httpStatus).toBe(503);
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ operation: 'x' });
    expect(isEdgeVoxError(err, 'EVX_ERR_STORE_WRITE')).toBe(true);
    expect(isEdgeVoxError(err, 'EVX_ERR_INTERNAL')).toBe(false);
    expect(isEdgeVoxError(new Error('plain'))).toBe(false);
  });
});
