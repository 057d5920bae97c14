// The relay's HTTPS connection pools. Trust is what Node trusts by default (the real services), plus
// an extra CA only when configured (the sandboxes' local CA). Nothing ever turns TLS checks off.
import { getCACertificates } from "node:tls";
import { Agent } from "undici";

export interface AgentOptions {
  /** PEM of CA certificates to trust in addition to the default ones. */
  extraCaPem?: string;
  /** Most connections per origin: keeps concurrency toward a service bounded (Dataverse allows 52 per user). */
  connections?: number;
}

export function createAgent(options: AgentOptions = {}): Agent {
  return new Agent({
    ...(options.connections ? { connections: options.connections } : {}),
    connect: options.extraCaPem ? { ca: [...getCACertificates("default"), options.extraCaPem] } : {},
  });
}
