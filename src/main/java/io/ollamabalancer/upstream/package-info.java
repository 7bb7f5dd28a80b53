/**
 * Step 7: balancer to backend. {@link io.ollamabalancer.upstream.UpstreamPools} keeps keep-alive channels per backend
 * and per event loop (so a client channel and its upstream channel share a thread); every acquired
 * {@link io.ollamabalancer.upstream.UpstreamConnection} ends in exactly one {@code release()} or {@code discard()}.
 * {@link io.ollamabalancer.upstream.UpstreamFetcher} makes the small side requests (model lists, probes, fan-outs).
 */
package io.ollamabalancer.upstream;
