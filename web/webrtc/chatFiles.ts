/**
 * Files in the chat pages (the box's conversations/chatFileRoutes.ts): the visitor sends one over
 * HTTP with the chat token; the visitor or the agent fetches one with their token and saves it (an
 * attachment: never opened in the page). A file shows as a button with its name and size.
 */
import type { ChatFileView } from '../../appliance/conversations/chatProtocol.js';
import { t } from '../i18n/i18n.js';

/** Sends `file` to the chat; resolves with the message seq, or rejects with the box's error text. */
export async function uploadChatFile(conversationId: string, chatToken: string, file: File, clientId: string): Promise<number> {
  const res = await fetch(`/api/v1/chat/conversations/${encodeURIComponent(conversationId)}/files`, {
    method: 'POST',
    headers: {
      authorization: `Chat ${chatToken}`,
      'content-type': file.type || 'application/octet-stream',
      'x-file-name': encodeURIComponent(file.name),
      'x-client-id': clientId,
    },
    body: file,
  });
  const body = (await res.json().catch(() => ({}))) as { seq?: number; error?: { code?: string; message?: string } };
  if (!res.ok || typeof body.seq !== 'number')
    throw new Error(`${body.error?.code ?? res.status}: ${body.error?.message ?? res.statusText}`);
  return body.seq;
}

/** Fetches a chat file with `authorization` (`Chat <token>` or `Agent <token>`) and saves it under its name. */
export async function saveChatFile(file: ChatFileView, authorization: string): Promise<void> {
  const res = await fetch(`/api/v1/chat/files/${encodeURIComponent(file.id)}`, { headers: { authorization } });
  if (!res.ok) throw new Error(t('chat:fileGone'));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = file.name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "12 KB" / "1.4 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A button that saves the file (data-file-id for tests); its failure is shown in `status`. */
export function fileButton(file: ChatFileView, authorization: () => string, status: HTMLElement): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'chat-file';
  b.dataset['fileId'] = file.id;
  b.textContent = `${file.name} (${fileSize(file.bytes)})`;
  b.setAttribute('aria-label', t('chat:fileSave', { name: file.name }));
  b.onclick = () => {
    saveChatFile(file, authorization()).catch((err: unknown) => {
      status.textContent = err instanceof Error ? err.message : String(err);
    });
  };
  return b;
}
