/**
 * The knowledge base on the box: uploads checked in full, stored with versions, and the index
 * rebuilt aside and swapped in only once the new articles are stored — a refused upload, or one
 * whose index cannot be built, leaves the old index serving. Changes run one at a time.
 */
import { parseUpload, type ArticleDraft, type KnowledgeLanguage, type UploadMeta } from './articleUpload.js';
import { KnowledgeIndex, type KnowledgeCard, type SearchOptions } from './knowledgeIndex.js';
import type { KnowledgeRepo, SaveOutcome, StoredArticle } from './knowledgeRepo.js';

export interface UploadResult {
  /** Each article of the upload: its version now, and whether the upload changed it. */
  readonly articles: readonly SaveOutcome[];
  /** Live articles in the index after the upload. */
  readonly indexed: number;
}

/** An article in a listing (no body). */
export interface ArticleSummary {
  readonly articleId: string;
  readonly version: number;
  readonly title: string;
  readonly tags: readonly string[];
  readonly intents: readonly string[];
  readonly language: KnowledgeLanguage;
  readonly format: StoredArticle['format'];
  readonly updatedAt: number;
  readonly author: string;
}

export interface KnowledgeBaseOptions {
  readonly now?: () => number;
  /** Longest stretch of indexing between event-loop yields (ms). */
  readonly indexSliceMs?: number;
}

export class KnowledgeBase {
  private index: KnowledgeIndex = KnowledgeIndex.empty();
  /** The tail of the queue of changes: each waits for the one before. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  private constructor(
    private readonly repo: KnowledgeRepo,
    private readonly options: KnowledgeBaseOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Opens the knowledge base on the stored articles (their index built before it answers). */
  static async open(repo: KnowledgeRepo, options: KnowledgeBaseOptions = {}): Promise<KnowledgeBase> {
    const kb = new KnowledgeBase(repo, options);
    kb.index = await kb.buildIndex(repo.live());
    return kb;
  }

  /** Live articles in the index now. */
  get size(): number {
    return this.index.size;
  }

  /** Ranked knowledge cards for what the caller said. */
  search(text: string, options: SearchOptions): KnowledgeCard[] {
    return this.index.search(text, options);
  }

  /** Live articles, optionally of one language, by id. */
  list(language?: KnowledgeLanguage): ArticleSummary[] {
    return this.repo
      .live()
      .filter((a) => language === undefined || a.language === language)
      .map((a) => ({
        articleId: a.articleId,
        version: a.version,
        title: a.title,
        tags: a.tags,
        intents: a.intents,
        language: a.language,
        format: a.format,
        updatedAt: a.createdAt,
        author: a.author,
      }));
  }

  /** The current version of a live article, or null. */
  article(articleId: string): StoredArticle | null {
    return this.repo.current(articleId);
  }

  /** Every version of an article, newest first (deleted articles keep theirs). */
  versions(articleId: string): StoredArticle[] {
    return this.repo.versions(articleId);
  }

  /** Reads, stores and indexes one upload; throws (registry error) and changes nothing when it is refused. */
  async upload(bytes: Uint8Array, meta: UploadMeta, author: string): Promise<UploadResult> {
    // parsed at once: a refused file is answered without waiting for other changes
    const drafts = parseUpload(bytes, meta);
    return this.serially(() => this.store(drafts, author));
  }

  /** Deletes a live article (its versions stay); false when there is none. */
  remove(articleId: string, by: string): Promise<boolean> {
    return this.serially(async () => {
      if (this.repo.current(articleId) === null) return false;
      const next = await this.buildIndex(this.repo.live().filter((a) => a.articleId !== articleId));
      const removed = this.repo.remove(articleId, by, this.now());
      if (removed) this.index = next;
      return removed;
    });
  }

  /** Rebuilds the index from the store (swapped in when done); resolves to the number of articles. */
  rebuild(): Promise<number> {
    return this.serially(async () => {
      this.index = await this.buildIndex(this.repo.live());
      return this.index.size;
    });
  }

  /** Waits for pending changes (for closing). */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  private async store(drafts: readonly ArticleDraft[], author: string): Promise<UploadResult> {
    const at = this.now();
    const planned = this.repo.plan(drafts);
    const byId = new Map(this.repo.live().map((a) => [a.articleId, a]));
    drafts.forEach((d, i) => {
      const version = planned[i]!.version;
      byId.set(d.articleId, { ...d, version, author, createdAt: at });
    });
    // built before anything is written: if building fails, the store and the index are unchanged
    const next = await this.buildIndex([...byId.values()]);
    const articles = this.repo.save(drafts, author, at);
    this.index = next;
    return { articles, indexed: next.size };
  }

  private buildIndex(articles: readonly StoredArticle[]): Promise<KnowledgeIndex> {
    return KnowledgeIndex.build(articles, this.options.indexSliceMs !== undefined ? { sliceMs: this.options.indexSliceMs } : {});
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
