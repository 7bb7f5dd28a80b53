package io.ollamabalancer.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * Closes a keep-alive client connection that sat idle between requests. A connection with a request in flight is
 * left alone (a queued or prefilling request is legitimately silent for minutes): the idle event goes on to the
 * request handler, which ends only an upload whose client stopped sending its body. Stateless, shared.
 */
@ChannelHandler.Sharable
final class ClientIdleHandler extends ChannelInboundHandlerAdapter {
    static final ClientIdleHandler INSTANCE = new ClientIdleHandler();

    private ClientIdleHandler() {
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            if (!Boolean.TRUE.equals(ctx.channel().attr(ClientRequestHandler.BUSY).get())) {
                ctx.close();
            } else {
                // Busy: the request handler decides (an upload whose client went silent ends; others wait).
                ctx.fireUserEventTriggered(evt);
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }
}
