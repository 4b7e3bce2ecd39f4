/**
 * The message bus between services. Messages are plain JSON; a receiver validates its args.
 * Topics: `scheduler`, `conductor`, `compute.<host>`, `network.<host>`, `console`.
 *
 * - call: request/response to one server of the topic; rejects with the remote NovaError
 *   (same kind and message) or with a Timeout error after `timeout` ms (default 60 s).
 * - cast: fire-and-forget to one server of the topic; errors are logged by the receiver.
 * - fanout: fire-and-forget to every server of the topic.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json | undefined };

export type Handler = (method: string, args: any) => Promise<unknown> | unknown;

export interface CallOptions {
  timeout?: number;
}

export interface Bus {
  call<T = unknown>(topic: string, method: string, args: Record<string, unknown>, opts?: CallOptions): Promise<T>;
  cast(topic: string, method: string, args: Record<string, unknown>): Promise<void>;
  fanout(topic: string, method: string, args: Record<string, unknown>): Promise<void>;
  /**
   * Starts serving a topic. Several servers of one topic share calls and casts (round robin)
   * and each receives fanouts. Returns a function that stops this server.
   */
  serve(topic: string, handler: Handler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
