/**
 * Step 1 of the data path: client to balancer. Accepts HTTP/1.1, applies the connection policy (keep-alive,
 * pipelining, idle timeout, body limit, CORS) and routes each request.
 *
 * <p>Starting points: {@link io.ollamabalancer.server.BalancerServer} (wiring and lifecycle),
 * {@code ServerChannelInitializer} (the only place that orders the client pipeline), {@code RequestRouter} (what
 * happens to each request), {@code BlobUploads} and {@code PassthroughTargets} (blob uploads, and which backend a passthrough request goes to);
 * requests answered by several backends (merged lists, model loads, pull, delete, copy) are routed to package
 * {@code fleetops}.
 */
package io.ollamabalancer.server;
