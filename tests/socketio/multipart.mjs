// multipart/form-data as providers' upload APIs read it, for the stand-ins: the parts of a body, each with its
// field name, file name, type and bytes. Null when the body is not well-formed multipart.

export function parseMultipart(contentType, body) {
  const m = /boundary=("?)([^";]+)\1/.exec(contentType ?? '');
  if (!m) return null;
  const boundary = Buffer.from(`--${m[2]}`);
  const parts = [];
  let pos = body.indexOf(boundary);
  if (pos < 0) return null;
  for (;;) {
    const start = pos + boundary.length;
    if (body.subarray(start, start + 2).toString() === '--') return parts;
    const headEnd = body.indexOf('\r\n\r\n', start);
    if (headEnd < 0) return null;
    const next = body.indexOf(boundary, headEnd + 4);
    if (next < 0) return null;
    const head = body.subarray(start + 2, headEnd).toString();
    parts.push({
      name: /[; ]name="([^"]*)"/.exec(head)?.[1],
      filename: /filename="([^"]*)"/.exec(head)?.[1],
      type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim(),
      data: body.subarray(headEnd + 4, next - 2),
    });
    pos = next;
  }
}

/** A small valid PNG (1x1, red), for images that must look like images. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC',
  'base64',
);
