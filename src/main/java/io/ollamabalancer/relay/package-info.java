/**
 * Step 8: backend to client. {@link io.ollamabalancer.relay.ProxyExchange} links one client request to one upstream
 * channel: it sends the original body, streams the answer back chunk by chunk with backpressure, retries before the
 * first byte, cancels upstream when the client leaves, and reads the final chunk's timings on the way through
 * ({@code TimingSniffer}). {@link io.ollamabalancer.relay.UploadExchange} does the same for a request whose body
 * streams (a blob upload), sending it part by part as the client sends it.
 * {@link io.ollamabalancer.relay.HeaderPolicy} decides which headers cross.
 */
package io.ollamabalancer.relay;
