/**
 * WebSocket close code of a socket without a valid credential: one that has ended (signed out,
 * account deleted, token expired or revoked, agent taken off the roster) or was never given in time
 * (4401, the application range's "unauthorized"). The event stream, the chat socket, the softphone
 * presence socket and the call signalling close with it, so a page reacts to all alike (sign in again).
 */
export const CREDENTIAL_ENDED = 4401;
