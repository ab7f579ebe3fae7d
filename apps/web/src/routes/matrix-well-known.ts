import { type LabConfig, matrixServerName, urlHost } from '@portlab/config';
import type { FastifyInstance } from 'fastify';

/**
 * Matrix discovery (client-server API §"Well-known URIs", server-server API §"Resolving server
 * names"): a client asks the web server of a domain where its homeserver is, a server where its
 * federation port is. Both point at the chat app: the client API in plain HTTP (8008) for students to
 * read, the server name (8448, TLS) for servers. CORS is required on the client file (spec).
 */
export function matrixWellKnownRoutes(app: FastifyInstance, config: LabConfig): void {
  const base_url = `http://${urlHost(config.publicAddress)}:${config.portOf('matrix')}`;
  app.get('/.well-known/matrix/client', async (_request, reply) => {
    reply.header('access-control-allow-origin', '*');
    return { 'm.homeserver': { base_url } };
  });
  app.get('/.well-known/matrix/server', async () => ({ 'm.server': matrixServerName(config) }));
}
