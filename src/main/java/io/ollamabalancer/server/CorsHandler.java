package io.ollamabalancer.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * Answers browsers the way Ollama does, so web apps keep working through the balancer: a preflight
 * ({@code OPTIONS} with {@code Access-Control-Request-Method}) from an allowed origin gets 204 with the allowed
 * methods and headers; a request from an origin that is not allowed gets 403 with an empty body; responses to allowed
 * cross-origin requests carry {@code Access-Control-Allow-Origin} and {@code Vary: Origin}. Upstream, the
 * {@code Origin} header is dropped (the balancer has decided), so Ollama's own check never refuses it.
 * One instance per channel; event-loop confined.
 *
 * <p>Buffers: request parts it refuses (a preflight, a foreign origin) are released here and replaced by a
 * {@link RefusedRequest}; everything else passes through untouched.
 */
final class CorsHandler extends ChannelDuplexHandler {
    private static final String ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD";
    private static final String ALLOW_HEADERS = "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,"
            + "OpenAI-Beta,x-stainless-arch,x-stainless-async,x-stainless-custom-poll-interval,"
            + "x-stainless-helper-method,x-stainless-lang,x-stainless-os,x-stainless-package-version,"
            + "x-stainless-poll-helper,x-stainless-retry-count,x-stainless-runtime,x-stainless-runtime-version,"
            + "x-stainless-timeout,X-Priority,X-Ollama-Backend";

    private final CorsPolicy policy;
    /** The allowed origin of each request in flight, in order (null when not cross-origin). */
    private final ArrayDeque<String> origins = new ArrayDeque<>();
    private boolean swallowing;

    CorsHandler(CorsPolicy policy) {
        this.policy = policy;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (swallowing) {
            if (msg instanceof LastHttpContent) {
                swallowing = false;
            }
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpRequest req)) {
            ctx.fireChannelRead(msg);
            return;
        }
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null || sameOrigin(origin, req.headers())) {
            origins.add("");
            ctx.fireChannelRead(msg);
            return;
        }
        if (!policy.allows(origin)) {
            refuse(ctx, msg, HttpResponseStatus.FORBIDDEN, null, req);
            return;
        }
        if (req.method().equals(HttpMethod.OPTIONS)
                && req.headers().contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
            refuse(ctx, msg, HttpResponseStatus.NO_CONTENT, origin, req);
            return;
        }
        origins.add(origin);
        ctx.fireChannelRead(msg);
    }

    /**
     * Refuses here (403, or 204 for a preflight) and drops the rest of the request's parts. The answer is not
     * written here but goes down as a {@link RefusedRequest}, answered in its turn after the requests pipelined
     * before it; its own headers are set already, so its entry in {@link #origins} adds none.
     */
    private void refuse(ChannelHandlerContext ctx, Object msg, HttpResponseStatus status, String origin,
                        HttpRequest req) {
        swallowing = !(msg instanceof LastHttpContent);
        RefusedRequest refused = RefusedRequest.empty(status.code(), req);
        ReferenceCountUtil.release(msg);
        if (origin != null) {
            HttpHeaders h = refused.answerHeaders();
            allowOrigin(h, origin);
            h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS);
            h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS);
            h.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, "43200");
        }
        origins.add("");
        ctx.fireChannelRead(refused);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().code() >= 200) {
            String origin = origins.poll();
            if (origin != null && !origin.isEmpty()) {
                allowOrigin(r.headers(), origin);
            }
        }
        ctx.write(msg, promise);
    }

    private void allowOrigin(HttpHeaders h, String origin) {
        h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, policy.allowsAny() ? "*" : origin);
        if (!policy.allowsAny()) {
            h.add(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
        }
    }

    private static boolean sameOrigin(String origin, HttpHeaders h) {
        String host = h.get(HttpHeaderNames.HOST);
        return host != null && (origin.equals("http://" + host) || origin.equals("https://" + host));
    }
}
