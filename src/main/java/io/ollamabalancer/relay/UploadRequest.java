package io.ollamabalancer.relay;

import io.netty.handler.codec.http.HttpRequest;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.backend.Backend;

import java.util.function.IntConsumer;

/**
 * What the router hands an {@link UploadExchange}: the head of a request whose body is still arriving, and the
 * backend chosen for it. Immutable; the head is no buffer (its body comes separately).
 *
 * @param head         the client's request head; its headers become the upstream ones
 * @param endpoint     the matched route
 * @param upstreamUri  path and query to send, before the backend's own path prefix
 * @param backend      where the request goes (streamed bodies are never retried elsewhere)
 * @param id           the balancer's request id
 * @param arrivalNanos when the head arrived
 * @param onAnswer     told the status of the backend's answer, when it comes (on the client's event loop)
 */
public record UploadRequest(HttpRequest head, Endpoint endpoint, String upstreamUri, Backend backend, long id,
                            long arrivalNanos, IntConsumer onAnswer) {
}
