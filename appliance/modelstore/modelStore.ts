/**
 * The model store: installs the models listed in models/manifest.json from the models directory
 * (or from the repo, for models we train) into `<dataDir>/models/<name>/<version>/`, verifies every
 * sha256, and only then activates the new version. A model that fails verification is refused with
 * a clear error and the previously active version stays active.
 *
 * Activation is a single atomic rename of `active.json`, so a crash mid-install never leaves a
 * half-installed model active.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EdgeVoxError, evxError } from '../errors.js';

const ManifestFileSchema = Type.Object(
  { path: Type.String({ minLength: 1, pattern: '^[^/].*' }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
  { additionalProperties: false },
);
const ManifestModelSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
    family: Type.String(),
    description: Type.String(),
    origin: Type.Union([Type.Literal('models-dir'), Type.Literal('repo')]),
    source: Type.String({ minLength: 1 }),
    licence: Type.String({ minLength: 1 }),
    required: Type.Boolean(),
    files: Type.Array(ManifestFileSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
const ManifestSchema = Type.Object(
  { $comment: Type.Optional(Type.String()), version: Type.Literal(1), models: Type.Array(ManifestModelSchema) },
  { additionalProperties: false },
);

export type ModelManifest = Static<typeof ManifestSchema>;
export type ManifestModel = Static<typeof ManifestModelSchema>;

export interface ActiveModel {
  version: string;
  activatedAt: number;
  files: { path: string; sha256: string }[];
}

export interface ModelStatus {
  name: string;
  family: string;
  licence: string;
  required: boolean;
  /** Active version (content hash prefix) or null when nothing verified is active. */
  activeVersion: string | null;
  /** Directory of the active version. */
  dir: string | null;
  /** Last install/verify problem for this model (the active version, if any, is still the old one). */
  error: { code: string; message: string } | null;
}

export interface ModelStoreOptions {
  manifestPath: string;
  /** Where `origin: models-dir` models are installed from. */
  modelsDir: string;
  /** Where `origin: repo` models are installed from (the repository root). */
  repoRoot: string;
  /** `<dataDir>/models`. */
  storeDir: string;
  /** Installed versions kept per model, the active one included (for rollback). */
  keepVersions?: number;
}

export function loadManifest(path: string): ModelManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw evxError('EVX_ERR_MODEL_MANIFEST', `cannot read model manifest ${path}: ${(err as Error).message}`, { cause: err });
  }
  const first = [...Value.Errors(ManifestSchema, raw)][0];
  if (first !== undefined) {
    throw evxError('EVX_ERR_MODEL_MANIFEST', `model manifest ${path}: ${first.path || '(root)'} ${first.message.toLowerCase()}`);
  }
  const manifest = raw as ModelManifest;
  for (const m of manifest.models)
    for (const f of m.files)
      if (!isInsidePath(f.path))
        throw evxError('EVX_ERR_MODEL_MANIFEST', `model manifest ${path}: model '${m.name}' names a file outside its folder`, {
          details: { model: m.name },
        });
  const names = manifest.models.map((m) => m.name);
  if (new Set(names).size !== names.length) throw evxError('EVX_ERR_MODEL_MANIFEST', `model manifest ${path}: duplicate model names`);
  return manifest;
}

/**
 * A relative path that stays inside its folder: '/'-separated segments, none empty, '.' or '..', no
 * backslash or NUL (installing joins it to the source folder and to the store).
 */
function isInsidePath(p: string): boolean {
  if (p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export class ModelStore {
  readonly manifest: ModelManifest;
  private readonly errors = new Map<string, EdgeVoxError>();
  private readonly keepVersions: number;

  constructor(private readonly options: ModelStoreOptions) {
    this.manifest = loadManifest(options.manifestPath);
    this.keepVersions = Math.max(1, options.keepVersions ?? 2);
    mkdirSync(options.storeDir, { recursive: true });
  }

  /** Install and verify every model; never throws for one model's failure (see status()). */
  installAll(): ModelStatus[] {
    for (const model of this.manifest.models) {
      try {
        this.install(model);
        this.errors.delete(model.name);
      } catch (err) {
        if (!(err instanceof EdgeVoxError)) throw err;
        this.errors.set(model.name, err);
      }
    }
    return this.status();
  }

  /**
   * Install one model from its source: verify the source files, copy them into a fresh version dir,
   * verify the copies, then activate atomically. Throws EVX_ERR_MODEL_* on any mismatch.
   */
  install(model: ManifestModel): string {
    const sourceDir = this.sourceDirOf(model);
    for (const file of model.files) {
      const src = join(sourceDir, file.path);
      if (!existsSync(src)) {
        throw evxError('EVX_ERR_MODEL_SOURCE_MISSING', `model '${model.name}': file ${file.path} is missing from ${sourceDir}`, {
          details: { model: model.name, file: file.path },
        });
      }
      this.assertHash(model, src, file);
    }
    const version = versionOf(model.files);
    const dir = join(this.options.storeDir, model.name, version);
    if (!this.verifyDir(model, dir)) {
      const staging = `${dir}.staging-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      for (const file of model.files) {
        const dest = join(staging, file.path);
        mkdirSync(join(dest, '..'), { recursive: true });
        copyFileSync(join(sourceDir, file.path), dest);
        fsyncFile(dest);
        this.assertHash(model, dest, file);
      }
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    }
    this.activate(model, version);
    this.prune(model.name, version);
    return version;
  }

  /** Re-hash the active copy of every model; a corrupted copy is deactivated and reported. */
  verifyActive(): ModelStatus[] {
    const active = this.readActive();
    for (const model of this.manifest.models) {
      const entry = active[model.name];
      if (entry === undefined) continue;
      const dir = join(this.options.storeDir, model.name, entry.version);
      if (!this.verifyDir(model, dir)) {
        this.errors.set(
          model.name,
          evxError('EVX_ERR_MODEL_HASH_MISMATCH', `model '${model.name}': installed copy ${entry.version} failed verification`, {
            details: { model: model.name },
          }),
        );
        this.deactivate(model.name);
      }
    }
    return this.status();
  }

  status(): ModelStatus[] {
    const active = this.readActive();
    return this.manifest.models.map((m) => {
      const entry = active[m.name];
      const err = this.errors.get(m.name);
      return {
        name: m.name,
        family: m.family,
        licence: m.licence,
        required: m.required,
        activeVersion: entry?.version ?? null,
        dir: entry === undefined ? null : join(this.options.storeDir, m.name, entry.version),
        error: err === undefined ? null : { code: err.code, message: err.message },
      };
    });
  }

  /** Directory of the active version of `name`; throws EVX_ERR_MODEL_NOT_ACTIVE if none. */
  activeDir(name: string): string {
    const entry = this.readActive()[name];
    if (entry === undefined) {
      const reason = this.errors.get(name)?.message ?? 'not installed';
      throw evxError('EVX_ERR_MODEL_NOT_ACTIVE', `model '${name}' has no verified active version (${reason})`, {
        details: { model: name },
      });
    }
    return join(this.options.storeDir, name, entry.version);
  }

  /** True when every required model has a verified active version. */
  requiredReady(): { ready: boolean; missing: string[] } {
    const missing = this.status()
      .filter((s) => s.required && s.activeVersion === null)
      .map((s) => s.name);
    return { ready: missing.length === 0, missing };
  }

  private sourceDirOf(model: ManifestModel): string {
    const root = model.origin === 'repo' ? this.options.repoRoot : this.options.modelsDir;
    return resolve(root, model.source);
  }

  private assertHash(model: ManifestModel, path: string, file: { path: string; sha256: string }): void {
    const actual = sha256File(path);
    if (actual !== file.sha256) {
      throw evxError(
        'EVX_ERR_MODEL_HASH_MISMATCH',
        `model '${model.name}': ${file.path} has sha256 ${actual.slice(0, 12)}…, manifest expects ${file.sha256.slice(0, 12)}…; refusing to activate it`,
        { details: { model: model.name, file: file.path, expected: file.sha256, actual } },
      );
    }
  }

  private verifyDir(model: ManifestModel, dir: string): boolean {
    if (!existsSync(dir)) return false;
    return model.files.every((f) => {
      const p = join(dir, f.path);
      return existsSync(p) && sha256File(p) === f.sha256;
    });
  }

  private get activePath(): string {
    return join(this.options.storeDir, 'active.json');
  }

  private readActive(): Record<string, ActiveModel> {
    if (!existsSync(this.activePath)) return {};
    try {
      return JSON.parse(readFileSync(this.activePath, 'utf8')) as Record<string, ActiveModel>;
    } catch {
      // A torn active.json cannot happen with rename, but a hand edit can: treat as nothing active.
      return {};
    }
  }

  private writeActive(active: Record<string, ActiveModel>): void {
    const tmp = `${this.activePath}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(active, null, 2) + '\n');
    fsyncFile(tmp);
    renameSync(tmp, this.activePath);
  }

  private activate(model: ManifestModel, version: string): void {
    const active = this.readActive();
    if (active[model.name]?.version === version) return;
    active[model.name] = { version, activatedAt: Date.now(), files: model.files.map((f) => ({ ...f })) };
    this.writeActive(active);
  }

  private deactivate(name: string): void {
    const active = this.readActive();
    if (!(name in active)) return;
    const { [name]: _removed, ...rest } = active;
    this.writeActive(rest);
  }

  /** Keep the newest `keepVersions` installed versions (the active one always). */
  private prune(name: string, activeVersion: string): void {
    const root = join(this.options.storeDir, name);
    const versions = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.includes('.staging-'))
      .map((d) => ({ name: d.name, mtimeMs: statMtime(join(root, d.name)) }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    let kept = 1;
    for (const v of versions) {
      if (v.name === activeVersion) continue;
      if (kept < this.keepVersions) {
        kept++;
        continue;
      }
      rmSync(join(root, v.name), { recursive: true, force: true });
    }
  }
}

/** A version is the content hash of the model's files, so the same bytes always get the same dir. */
export function versionOf(files: readonly { path: string; sha256: string }[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) h.update(`${f.path}\0${f.sha256}\n`);
  return h.digest('hex').slice(0, 16);
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function statMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
