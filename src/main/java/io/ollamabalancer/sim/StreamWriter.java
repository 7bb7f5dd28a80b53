package io.ollamabalancer.sim;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.Date;

/**
 * Writes one chunked 200 response, one flushed HTTP chunk per call, sending the status line and headers only with the
 * first chunk (Ollama sends nothing before its first chunk exists). Takes ownership of every buffer passed in.
 * Confined to the channel's event loop.
 */
final class StreamWriter {
    private final ChannelHandlerContext ctx;
    private final CharSequence contentType;
    private boolean headersSent;

    StreamWriter(ChannelHandlerContext ctx, CharSequence contentType) {
        this.ctx = ctx;
        this.contentType = contentType;
    }

    /** Whether any byte of the response went out; after that, errors must travel inside the stream. */
    boolean started() {
        return headersSent;
    }

    boolean writable() {
        return ctx.channel().isWritable();
    }

    /** Writes and flushes one chunk. */
    void chunk(ByteBuf data) {
        sendHeadersIfNeeded();
        ctx.writeAndFlush(new DefaultHttpContent(data), ctx.voidPromise());
    }

    /** Writes {@code data} (may be null) as the last chunk, then the chunked terminator, in one flush. */
    void end(ByteBuf data) {
        sendHeadersIfNeeded();
        LastHttpContent last = data == null ? LastHttpContent.EMPTY_LAST_CONTENT : new DefaultLastHttpContent(data);
        ctx.writeAndFlush(last, ctx.voidPromise());
    }

    private void sendHeadersIfNeeded() {
        if (headersSent) {
            return;
        }
        headersSent = true;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(SimExchange.CONTENT_TYPE, contentType);
        head.headers().set(SimExchange.DATE, DateFormatter.format(new Date()));
        head.headers().set(SimExchange.TRANSFER_ENCODING, "chunked");
        ctx.write(head, ctx.voidPromise());
    }
}
