import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../appliance/config/load.js';
import { configLeaves, envNameFor } from '../../../appliance/config/schema.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'evx-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function errorOf(fn: () => unknown): { code: string; message: string; exitCode: number } {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, message: err.message, exitCode: err.exitCode };
    throw err;
  }
  throw new Error('expected an error');
}

describe('configuration loading', () => {
  it('has embedded defaults for everything', () => {
    const config = loadConfig({ env: {} });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, trustedProxies: [] });
    expect(config.dataDir).toBe('var');
    expect(config.modelsDir).toBe('../shared/models');
    expect(config.inference.providers).toEqual(['cpu']);
  });

  it('layers file < environment < flags', () => {
    const path = file('layers.yaml', 'http:\n  port: 9001\n  host: 0.0.0.0\nlog:\n  level: debug\n');
    const config = loadConfig({ file: path, env: { EDGEVOX_HTTP_PORT: '9002' }, flags: { 'http.host': '127.0.0.2' } });
    expect(config.http).toEqual({ host: '127.0.0.2', port: 9002, trustedProxies: [] });
    expect(config.log.level).toBe('debug');
  });

  it('reads JSON files too and coerces list variables', () => {
    const path = file('c.json', JSON.stringify({ shutdown: { graceMs: 5 } }));
    const config = loadConfig({ file: path, env: { EDGEVOX_INFERENCE_PROVIDERS: 'cuda, cpu' } });
    expect(config.shutdown.graceMs).toBe(5);
    expect(config.inference.providers).toEqual(['cuda', 'cpu']);
  });

  it('rejects an unknown key, naming it and the file', () => {
    const path = file('bad.yaml', 'http:\n  prot: 9000\n');
    const e = errorOf(() => loadConfig({ file: path, env: {} }));
    expect(e.code).toBe('EVX_ERR_CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("unknown key 'http.prot'");
    expect(e.message).toContain(path);
    expect(e.message).not.toContain('\n');
  });

  it('rejects a wrong type, naming the key and the variable it came from', () => {
    const e = errorOf(() => loadConfig({ env: { EDGEVOX_HTTP_PORT: 'eighty' } }));
    expect(e.message).toContain("key 'http.port'");
    expect(e.message).toContain('EDGEVOX_HTTP_PORT');
  });

  it('rejects out-of-range and enum violations', () => {
    expect(errorOf(() => loadConfig({ env: {}, flags: { 'http.port': '70000' } })).message).toContain('http.port');
    expect(errorOf(() => loadConfig({ env: {}, flags: { 'log.level': 'loud' } })).message).toContain('log.level');
    expect(errorOf(() => loadConfig({ env: {}, flags: { 'inference.providers': 'gpu' } })).message).toContain('inference.providers');
  });

  it('reports unreadable and unparsable files clearly', () => {
    expect(errorOf(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })).code).toBe('EVX_ERR_CONFIG_FILE');
    expect(errorOf(() => loadConfig({ file: file('broken.yaml', 'http: [1, 2\n'), env: {} })).code).toBe('EVX_ERR_CONFIG_FILE');
    expect(errorOf(() => loadConfig({ file: file('list.yaml', '- 1\n- 2\n'), env: {} })).code).toBe('EVX_ERR_CONFIG_FILE');
  });

  it('maps every key to an EDGEVOX_ variable name', () => {
    const names = configLeaves().map((l) => envNameFor(l.path));
    expect(names).toContain('EDGEVOX_HTTP_PORT');
    expect(names).toContain('EDGEVOX_SHUTDOWN_GRACE_MS');
    expect(new Set(names).size).toBe(names.length);
  });
});
