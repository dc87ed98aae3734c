/**
 * A visitor's chat token: HMAC-SHA256 over the conversation id with the box's token secret. It lets
 * the visitor's page resume its conversation after a network drop (or a reload) and nothing else;
 * a closed conversation refuses it anyway.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'chat1.';

export function mintChatToken(secret: Uint8Array, conversationId: string): string {
  return PREFIX + createHmac('sha256', secret).update(`chat:${conversationId}`).digest('base64url');
}

export function verifyChatToken(secret: Uint8Array, conversationId: string, token: string): boolean {
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) return false;
  const want = Buffer.from(mintChatToken(secret, conversationId));
  const got = Buffer.from(token);
  return want.length === got.length && timingSafeEqual(want, got);
}
