package io.ollamabalancer.loadgen;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a load-generator channel: hands each decoded response part to its {@link ConnectionLoop}.
 * Owns each message it receives and releases it after the loop has looked at it (the loop never keeps one).
 * One instance per channel; runs on that channel's event loop.
 */
final class StreamResponseHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(StreamResponseHandler.class);

    private final ConnectionLoop loop;

    StreamResponseHandler(ConnectionLoop loop) {
        this.loop = loop;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpResponse r) {
                loop.onResponse(r);
            }
            if (msg instanceof HttpContent c) {
                loop.onContent(c);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        loop.onClosed(ctx.channel());
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("connection to {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
