package io.ollamabalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.ollamabalancer.api.RouteTable;

/**
 * A request whose body {@link BodyLimitAggregator} collected, carrying the share of the {@link BodyBudget} its
 * body took. The share is given back once, by {@link ClientRequestHandler}, when the request's exchange ended or
 * the connection closed with it still waiting. Owns its content like any {@code FullHttpRequest}; event-loop
 * confined.
 */
final class AggregatedRequest extends DefaultFullHttpRequest {
    private final RouteTable.Route route;
    private final BodyBudget budget;
    private long reserved;

    /** @param route the route of {@code head}'s method and target, matched by the collector */
    AggregatedRequest(HttpRequest head, ByteBuf body, RouteTable.Route route, BodyBudget budget, long reserved) {
        super(head.protocolVersion(), head.method(), head.uri(), body, head.headers(),
                io.netty.handler.codec.http.DefaultHttpHeadersFactory.trailersFactory().newHeaders());
        setDecoderResult(head.decoderResult());
        this.route = route;
        this.budget = budget;
        this.reserved = reserved;
    }

    /** The route of the request's method and target (matched once, when its head came). */
    RouteTable.Route route() {
        return route;
    }

    /** The bytes of the budget still held for this body. */
    long reserved() {
        return reserved;
    }

    /** Gives the body's share back to the budget; later calls do nothing. */
    void releaseBudget() {
        if (reserved > 0) {
            budget.release(reserved);
            reserved = 0;
        }
    }
}
