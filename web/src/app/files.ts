// Files in a conversation: which ones the workspace shows as pictures, and how an agent's file goes to the server
// (POST /conversations/{id}/attachments, the bytes as the body). Pure, so the rules are unit-tested.

/**
 * Pictures every browser draws; anything else (an SVG, which may carry script; a HEIC it cannot draw) stays a
 * download link.
 */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** The server's limit on one file (20 MB): a larger one is refused before its bytes go anywhere. */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

/** Whether a file of this type shows as a thumbnail (parameters and case aside: "image/PNG; q=1"). */
export function showsInline(contentType: string): boolean {
  return INLINE_IMAGES.has(contentType.split(';')[0].trim().toLowerCase());
}

/** Where an agent's file is posted, relative to /api/v1; the name travels in the query, so it is encoded there. */
export function uploadPath(conversationId: string, file: { filename: string; clientId: string; private: boolean }): string {
  const query = new URLSearchParams({ filename: file.filename, client_id: file.clientId, private: String(file.private) });
  return `/conversations/${encodeURIComponent(conversationId)}/attachments?${query}`;
}

/**
 * A client id for one chosen file (the server takes 1..64 characters): random per choice, so the same picture sent
 * twice on purpose is two messages, and kept for a retry, so a send whose answer was lost is not stored twice.
 * From getRandomValues, which, unlike randomUUID, also works on a workspace served over plain http.
 */
export function fileClientId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  return 'file-' + Array.from(random(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether a failed send may simply be tried again: no answer, or the server's own trouble (not a refusal). */
export const retryable = (status: number) => status === 0 || status >= 500;
