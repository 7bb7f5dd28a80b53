package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;

/**
 * Closes a keep-alive client connection that sat idle between requests for the client idle timeout. A connection
 * with a request in flight is left alone (a queued or prefilling request is legitimately silent for minutes): the
 * idle event goes on to the request handler, which ends only an upload whose client stopped sending its body.
 *
 * <p>Why reader idleness: the {@link IdleStateHandler} before this one watches reads only, because watching writes
 * would put a listener on every chunk written to the client (the relay's hottest path). Reads alone cannot tell
 * that a long answer ended a moment ago, so a connection is closed only once it has been free of requests for the
 * whole timeout, counted from the end of its last answer ({@link ClientRequestHandler#IDLE_SINCE}); an idle event
 * that comes earlier is dropped and the next one, a timeout later, decides. An idle connection is thus closed
 * between one and two timeouts after its last answer. One instance per connection; event-loop confined.
 */
final class ClientIdleHandler extends ChannelInboundHandlerAdapter {
    private final long timeoutNanos;

    ClientIdleHandler(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            if (Boolean.TRUE.equals(ctx.channel().attr(ClientRequestHandler.BUSY).get())) {
                // Busy: the request handler decides (an upload whose client went silent ends; others wait).
                ctx.fireUserEventTriggered(evt);
            } else if (freeForTheWholeTimeout(ctx)) {
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    private boolean freeForTheWholeTimeout(ChannelHandlerContext ctx) {
        Long since = ctx.channel().attr(ClientRequestHandler.IDLE_SINCE).get();
        return since == null || System.nanoTime() - since >= timeoutNanos;
    }
}
