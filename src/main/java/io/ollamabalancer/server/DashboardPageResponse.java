package io.ollamabalancer.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.ollamabalancer.dashboard.DashboardPage;

/**
 * Writes the dashboard page ({@code GET /balancer/ui}) with its caching and encoding headers: the prepared bytes
 * (plain or gzip, picked by {@link DashboardPage#answer}), {@code ETag}, {@code Cache-Control}, and
 * {@code Vary: Accept-Encoding}. Stateless; the response wraps the page's shared array and is owned by the channel
 * once written.
 */
final class DashboardPageResponse {
    private DashboardPageResponse() {
    }

    static void send(ChannelHandlerContext ctx, FullHttpRequest req, DashboardPage page, boolean head) {
        HttpHeaders in = req.headers();
        DashboardPage.Answer a = page.answer(in.get(HttpHeaderNames.ACCEPT_ENCODING),
                in.get(HttpHeaderNames.IF_NONE_MATCH));
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(a.status()),
                head || a.body().length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(a.body()));
        HttpHeaders out = r.headers();
        out.set(HttpHeaderNames.ETAG, a.etag());
        out.set(HttpHeaderNames.CACHE_CONTROL, DashboardPage.CACHE_CONTROL);
        out.set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
        if (a.status() == 200) {
            out.set(HttpHeaderNames.CONTENT_TYPE, DashboardPage.CONTENT_TYPE);
            out.setInt(HttpHeaderNames.CONTENT_LENGTH, a.body().length);
            if (a.gzip()) {
                out.set(HttpHeaderNames.CONTENT_ENCODING, HttpHeaderValues.GZIP);
            }
        }
        ctx.writeAndFlush(r);
    }
}
