/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- API JSON is validated and typed by the server; the screens read it loosely. */
// Knowledge base of agent assist: the live articles (title, language, intents, version), uploading
// a Markdown, plain-text or CSV file (supervisors and technicians), deleting an article, and trying
// a search as a caller would phrase it.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, csrfToken, fmtTime, get, type Session } from './api.js';
import { ActionButton, Card, Field, Notice, errorText } from './ui.js';
import { t } from '../../i18n/i18n.js';

/** The content type an upload is sent with, from the file's name. */
function contentTypeOf(name: string): string {
  if (/\.(md|markdown)$/i.test(name)) return 'text/markdown';
  if (/\.csv$/i.test(name)) return 'text/csv';
  return 'text/plain';
}

async function uploadFile(file: File, fields: { intents: string; language: string }): Promise<any> {
  const q = new URLSearchParams();
  if (fields.intents.trim()) q.set('intents', fields.intents.trim());
  if (fields.language) q.set('language', fields.language);
  const res = await fetch(`/api/v1/knowledge/articles?${q.toString()}`, {
    method: 'POST',
    headers: { 'content-type': contentTypeOf(file.name), 'x-csrf-token': csrfToken() },
    body: file,
    credentials: 'same-origin',
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'EVX_ERR_HTTP', json.error?.message ?? `${res.status}`);
  return json;
}

export function KnowledgeScreen({ session }: { session: Session }) {
  const canEdit = session.role === 'technician' || session.role === 'supervisor';
  const [articles, setArticles] = useState<any[] | null>(null);
  const [error, setError] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [intents, setIntents] = useState('');
  const [language, setLanguage] = useState('');
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [query, setQuery] = useState('');
  const [queryLanguage, setQueryLanguage] = useState('en');
  const [cards, setCards] = useState<any[] | null>(null);
  const refresh = async () => {
    try {
      setArticles((await get('/api/v1/knowledge/articles')).articles);
      setError('');
    } catch (err) {
      setError(errorText(err));
    }
  };
  useEffect(() => void refresh(), []);
  return (
    <main data-testid="knowledge">
      {canEdit ? (
        <Card title={t('knowledge:uploadTitle')} testId="knowledge-upload">
          <p class="hint">{t('knowledge:uploadHint')}</p>
          <Field label={t('knowledge:file')}>
            <input
              type="file"
              name="knowledge-file"
              accept=".md,.markdown,.txt,.csv,text/*"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            />
          </Field>
          <Field label={t('knowledge:intents')} hint={t('knowledge:intentsHint')}>
            <input name="knowledge-intents" value={intents} onInput={(e) => setIntents(e.currentTarget.value)} />
          </Field>
          <Field label={t('knowledge:language')}>
            <select name="knowledge-language" value={language} onChange={(e) => setLanguage(e.currentTarget.value)}>
              <option value="">{t('knowledge:languageAuto')}</option>
              <option value="en">{t('knowledge:languageEn')}</option>
              <option value="zh">{t('knowledge:languageZh')}</option>
            </select>
          </Field>
          <ActionButton
            testId="knowledge-upload-button"
            disabled={file === null}
            onClick={async () => {
              setMsg(null);
              try {
                const r = await uploadFile(file!, { intents, language });
                setMsg({ kind: 'ok', text: t('knowledge:uploaded', { count: r.articles.length, indexed: r.indexed }) });
                await refresh();
              } catch (err) {
                setMsg({ kind: 'error', text: errorText(err) });
              }
            }}
          >
            {t('knowledge:upload')}
          </ActionButton>
          {msg ? (
            <Notice kind={msg.kind} testId="knowledge-upload-result">
              {msg.text}
            </Notice>
          ) : null}
        </Card>
      ) : null}
      <Card title={t('knowledge:searchTitle')} testId="knowledge-search">
        <div class="row">
          <input
            name="knowledge-query"
            value={query}
            placeholder={t('knowledge:searchPlaceholder')}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
          <select name="knowledge-query-language" value={queryLanguage} onChange={(e) => setQueryLanguage(e.currentTarget.value)}>
            <option value="en">{t('knowledge:languageEn')}</option>
            <option value="zh">{t('knowledge:languageZh')}</option>
          </select>
          <ActionButton
            testId="knowledge-search-button"
            disabled={query.trim() === ''}
            onClick={async () => {
              try {
                const q = new URLSearchParams({ text: query, language: queryLanguage });
                setCards((await get(`/api/v1/knowledge/search?${q.toString()}`)).cards);
              } catch (err) {
                setError(errorText(err));
              }
            }}
          >
            {t('knowledge:search')}
          </ActionButton>
        </div>
        {cards?.length === 0 ? <p class="empty">{t('knowledge:noCards')}</p> : null}
        <ol data-testid="knowledge-cards">
          {(cards ?? []).map((c) => (
            <li key={c.articleId}>
              <strong>{c.title}</strong> <span class="muted">{c.snippet}</span>
            </li>
          ))}
        </ol>
      </Card>
      <Card title={t('knowledge:listTitle')} testId="knowledge-list">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {articles?.length === 0 ? <p class="empty">{t('knowledge:none')}</p> : null}
        <table class="table">
          <thead>
            <tr>
              <th>{t('knowledge:col.title')}</th>
              <th>{t('knowledge:col.language')}</th>
              <th>{t('knowledge:col.intents')}</th>
              <th>{t('knowledge:col.version')}</th>
              <th>{t('knowledge:col.updated')}</th>
              {canEdit ? <th /> : null}
            </tr>
          </thead>
          <tbody>
            {(articles ?? []).map((a) => (
              <tr key={a.articleId} data-testid={`knowledge-article-${a.articleId}`}>
                <td>{a.title}</td>
                <td>{a.language}</td>
                <td>{(a.intents as string[]).join(', ')}</td>
                <td>{a.version}</td>
                <td>{fmtTime(a.updatedAt)}</td>
                {canEdit ? (
                  <td>
                    <ActionButton
                      kind="danger"
                      testId={`knowledge-delete-${a.articleId}`}
                      onClick={async () => {
                        try {
                          await api('DELETE', `/api/v1/knowledge/articles/${encodeURIComponent(a.articleId)}`);
                        } catch (err) {
                          setError(errorText(err));
                        }
                        await refresh();
                      }}
                    >
                      {t('knowledge:delete')}
                    </ActionButton>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </main>
  );
}
