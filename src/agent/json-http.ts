import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reads a small JSON request body (control API requests are tiny). */
export async function readJson<T>(req: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return (text ? JSON.parse(text) : {}) as T;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Errors cross the socket as `{ error: { message, detail, fix } }` and become UserErrors in the CLI. */
export function sendError(res: ServerResponse, status: number, message: string, extra: { detail?: string; fix?: string } = {}): void {
  sendJson(res, status, { error: { message, ...extra } });
}
