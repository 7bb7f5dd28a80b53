package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpRequest;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.request.InferenceRequest;
import io.ollamabalancer.schedule.ShareFlow;

/**
 * What the router hands a {@link ProxyExchange}: the client's request and everything decided about it.
 * Ownership of {@code request} and {@code body} passes to the exchange with this record.
 *
 * @param request     the client's aggregated request
 * @param body        the bytes to forward (the original body, or a rewritten one for the legacy endpoint)
 * @param endpoint    the matched route
 * @param upstreamUri path and query to send, before the backend's own path prefix
 * @param parsed      the routing fields, {@code null} for passthrough routes
 * @param modelKey    the normalised model, {@code null} for passthrough routes
 * @param priority    scheduling priority (inference only)
 * @param id          the balancer's request id
 * @param arrivalNanos when the request's head arrived
 * @param keyName     the name of the API key it came with, {@code ""} without one
 * @param shareFlow   the fair-share flow its work is charged to (its key's, or the default flow)
 */
public record ExchangeRequest(
        FullHttpRequest request,
        ByteBuf body,
        Endpoint endpoint,
        String upstreamUri,
        InferenceRequest parsed,
        String modelKey,
        int priority,
        long id,
        long arrivalNanos,
        String keyName,
        ShareFlow shareFlow) {

    /** A request that came without an API key. */
    public ExchangeRequest(FullHttpRequest request, ByteBuf body, Endpoint endpoint, String upstreamUri,
                           InferenceRequest parsed, String modelKey, int priority, long id, long arrivalNanos) {
        this(request, body, endpoint, upstreamUri, parsed, modelKey, priority, id, arrivalNanos, "",
                ShareFlow.DEFAULT);
    }
}
