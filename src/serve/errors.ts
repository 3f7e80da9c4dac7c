// The server's error answers, in OpenAI's shape: { error: { message, type, param, code } }.

import type { FastifyReply } from 'fastify';

/** OpenAI's error types, by status. */
function typeOf(status: number): string {
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 503) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The body of an error answer. */
export function errorBody(status: number, message: string, param: string | null = null, code: string | null = null): object {
  return { error: { message, type: typeOf(status), param, code } };
}

/**
 * Sends an error answer (with Retry-After on 429 and 503: when to try again).
 *
 * @example
 * return sendError(reply, 400, 'max_tokens is 1e+300: Too big', 'max_tokens');
 */
export function sendError(reply: FastifyReply, status: number, message: string, param: string | null = null, opts: { code?: string; retryAfter?: number } = {}): FastifyReply {
  if (opts.retryAfter !== undefined) reply.header('retry-after', String(opts.retryAfter));
  return reply.code(status).send(errorBody(status, message, param, opts.code ?? null));
}
