package io.ollamabalancer.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * One client connection's part in the graceful drain. It counts the requests open on the connection (a request head
 * read, until the last part of its response is written), and while the balancer drains it marks every response
 * {@code Connection: close}, so the keep-alive handler closes the connection once that response is written and the
 * client's next request opens a connection to another replica. It carries out the drain's commands
 * ({@link ClientConnections.Command}): closing the connection if nothing is open on it, and at the end of the grace
 * passing the abort on to the request handler (which ends the exchange in progress) and closing after what was
 * written.
 *
 * <p>Sits right after the keep-alive handler, so that it sees every response before that handler decides whether
 * the connection stays open, and every request head the codec produced. One instance per channel; event-loop
 * confined. Passes every message on untouched but for the {@code Connection} header; owns no buffers.
 */
final class DrainHandler extends ChannelDuplexHandler {
    private final ClientConnections connections;
    private int open;
    /** An interim (1xx) response head was written: its last part does not end a request. */
    private boolean interim;

    DrainHandler(ClientConnections connections) {
        this.connections = connections;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        connections.add(ctx.channel());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            open++;
            connections.requestOpened();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response) {
            interim = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (!interim && connections.draining()) {
                HttpUtil.setKeepAlive(response, false);
            }
        }
        if (msg instanceof LastHttpContent) {
            if (interim) {
                interim = false;
            } else if (open > 0) {
                open--;
                connections.requestEnded();
                if (open == 0 && connections.draining()) {
                    // Its head may have gone out before the drain began, without Connection: close.
                    promise = promise.unvoid().addListener(ChannelFutureListener.CLOSE);
                }
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // Requests that die with their connection (held pipelined ones, or one whose client left) are no longer open.
        while (open > 0) {
            open--;
            connections.requestEnded();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ClientConnections.Command.CLOSE_IF_IDLE) {
            if (open == 0) {
                ctx.close();
            }
        } else if (evt == ClientConnections.Command.ABORT) {
            ctx.fireUserEventTriggered(evt);
            // After the aborted exchange's answer (written above, in order): held pipelined requests go unanswered
            // with the close, which tells their client they were never processed.
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }
}
