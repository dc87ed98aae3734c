/** Knowledge articles in the store: every version kept, the current one per article, soft deletion. */
import type { Database } from 'better-sqlite3';
import { parseJson, type Writer } from '../store/repos/writer.js';
import { contentSha256, type ArticleDraft, type KnowledgeLanguage, type UploadFormat } from './articleUpload.js';

/** One version of an article as stored. */
export interface StoredArticle {
  readonly articleId: string;
  readonly version: number;
  readonly title: string;
  readonly body: string;
  readonly tags: readonly string[];
  readonly intents: readonly string[];
  readonly language: KnowledgeLanguage;
  readonly format: UploadFormat;
  readonly author: string;
  /** unix ms this version was stored */
  readonly createdAt: number;
}

/** What saving a draft did: a new version, or nothing when it says what the current one says. */
export interface SaveOutcome {
  readonly articleId: string;
  readonly version: number;
  readonly changed: boolean;
}

interface VersionRow {
  article_id: string;
  version: number;
  title: string;
  body: string;
  tags: string;
  intents: string;
  language: KnowledgeLanguage;
  format: UploadFormat;
  sha256: string;
  author: string;
  created_at: number;
}

const toArticle = (r: VersionRow): StoredArticle => ({
  articleId: r.article_id,
  version: r.version,
  title: r.title,
  body: r.body,
  tags: parseJson<string[]>(r.tags, []),
  intents: parseJson<string[]>(r.intents, []),
  language: r.language,
  format: r.format,
  author: r.author,
  createdAt: r.created_at,
});

export class KnowledgeRepo {
  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {}

  /** The current version of every live article, by id. */
  live(): StoredArticle[] {
    const rows = this.db
      .prepare(
        `SELECT v.* FROM kb_articles a JOIN kb_article_versions v ON v.article_id = a.id AND v.version = a.version
         WHERE a.deleted_at IS NULL ORDER BY a.id`,
      )
      .all() as VersionRow[];
    return rows.map(toArticle);
  }

  /** The current version of a live article, or null. */
  current(articleId: string): StoredArticle | null {
    const row = this.db
      .prepare(
        `SELECT v.* FROM kb_articles a JOIN kb_article_versions v ON v.article_id = a.id AND v.version = a.version
         WHERE a.id = ? AND a.deleted_at IS NULL`,
      )
      .get(articleId) as VersionRow | undefined;
    return row === undefined ? null : toArticle(row);
  }

  /** Every stored version of an article (live or deleted), newest first. */
  versions(articleId: string): StoredArticle[] {
    const rows = this.db
      .prepare(`SELECT * FROM kb_article_versions WHERE article_id = ? ORDER BY version DESC`)
      .all(articleId) as VersionRow[];
    return rows.map(toArticle);
  }

  /**
   * What saving these drafts would do, without writing: the version each would get (the next one,
   * or the current one when unchanged and live).
   */
  plan(drafts: readonly ArticleDraft[]): SaveOutcome[] {
    const head = this.db.prepare(
      `SELECT a.version, a.deleted_at, v.sha256 FROM kb_articles a JOIN kb_article_versions v ON v.article_id = a.id AND v.version = a.version WHERE a.id = ?`,
    );
    return drafts.map((d) => {
      const row = head.get(d.articleId) as { version: number; deleted_at: number | null; sha256: string } | undefined;
      if (row === undefined) return { articleId: d.articleId, version: 1, changed: true };
      if (row.deleted_at === null && row.sha256 === contentSha256(d))
        return { articleId: d.articleId, version: row.version, changed: false };
      return { articleId: d.articleId, version: row.version + 1, changed: true };
    });
  }

  /** Stores the drafts that change something, all or none (one transaction). */
  save(drafts: readonly ArticleDraft[], author: string, at: number): SaveOutcome[] {
    return this.write('kb.save', () =>
      this.db.transaction(() => {
        const outcomes = this.plan(drafts);
        const insertVersion = this.db.prepare(
          `INSERT INTO kb_article_versions (article_id, version, title, body, tags, intents, language, format, sha256, author, created_at)
           VALUES (@articleId, @version, @title, @body, @tags, @intents, @language, @format, @sha256, @author, @at)`,
        );
        const upsert = this.db.prepare(
          `INSERT INTO kb_articles (id, version) VALUES (?, ?)
           ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted_at = NULL, deleted_by = NULL`,
        );
        drafts.forEach((d, i) => {
          const o = outcomes[i]!;
          if (!o.changed) return;
          if (o.version === 1) upsert.run(d.articleId, 0); // the version row needs its article first
          insertVersion.run({
            articleId: d.articleId,
            version: o.version,
            title: d.title,
            body: d.body,
            tags: JSON.stringify(d.tags),
            intents: JSON.stringify(d.intents),
            language: d.language,
            format: d.format,
            sha256: contentSha256(d),
            author,
            at,
          });
          upsert.run(d.articleId, o.version);
        });
        return outcomes;
      })(),
    );
  }

  /** Marks a live article deleted (its versions stay); false when there is none. */
  remove(articleId: string, by: string, at: number): boolean {
    return this.write('kb.remove', () => {
      const r = this.db
        .prepare(`UPDATE kb_articles SET deleted_at = ?, deleted_by = ? WHERE id = ? AND deleted_at IS NULL`)
        .run(at, by, articleId);
      return r.changes > 0;
    });
  }
}
