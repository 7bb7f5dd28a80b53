package io.ollamabalancer.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.util.ArrayDeque;

/**
 * Keeps chunked transfer coding away from HTTP/1.0 clients, which do not know it: a streamed answer (a response
 * head without a length, relayed as {@code Transfer-Encoding: chunked}) to a request that came as HTTP/1.0 goes out
 * raw instead, with {@code Connection: close}, and its end is the connection's end (the keep-alive handler closes
 * after the last part of an answer whose length is not in its head). The relay is untouched: it sees its own head
 * object, still chunked, and so still ends a failed stream with an error line, which the client reads as the last
 * bytes before the close.
 *
 * <p>Remembers each request's version in order and matches it to each final answer. Sits between the keep-alive
 * handler and the rest of the pipeline. One instance per channel; event-loop confined. Holds no buffers (a
 * replaced head carries none).
 */
final class Http10Responses extends ChannelDuplexHandler {
    /** Whether each request awaiting its answer came as HTTP/1.0, in order. */
    private final ArrayDeque<Boolean> http10 = new ArrayDeque<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            http10.add(req.protocolVersion().equals(HttpVersion.HTTP_1_0));
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().code() >= 200) {
            Boolean old = http10.poll();
            if (Boolean.TRUE.equals(old) && !(msg instanceof FullHttpResponse) && HttpUtil.isTransferEncodingChunked(r)) {
                HttpHeaders h = r.headers().copy();
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.write(new DefaultHttpResponse(r.protocolVersion(), r.status(), h), promise);
                return;
            }
        }
        ctx.write(msg, promise);
    }
}
