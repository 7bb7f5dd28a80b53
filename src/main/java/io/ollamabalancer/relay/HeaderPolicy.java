package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.schedule.PendingRequest;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Which headers cross the balancer in each direction. Hop-by-hop headers stay on their hop; {@code Host} becomes
 * the backend's (a loopback-bound Ollama answers 403 to a foreign one); {@code Origin} is dropped upstream because
 * the balancer, not Ollama, answers browsers. Stateless.
 */
public final class HeaderPolicy {
    /** Request headers the balancer reads itself and does not forward. */
    public static final String BACKEND_HEADER = "X-Ollama-Backend";
    public static final String PRIORITY_HEADER = "X-Priority";

    private static final List<CharSequence> HOP_BY_HOP = List.of(
            HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION,
            HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
            HttpHeaderNames.HOST, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.EXPECT, HttpHeaderNames.ORIGIN,
            HttpHeaderNames.PROXY_AUTHORIZATION, BACKEND_HEADER, PRIORITY_HEADER);

    private HeaderPolicy() {
    }

    /**
     * The request to send upstream. {@code body} becomes the request's content: the caller passes a retained
     * duplicate and ownership moves to the returned message.
     */
    public static FullHttpRequest upstreamRequest(HttpRequest client, String uri, ByteBuf body, Backend backend,
                                                  SocketAddress clientAddress) {
        FullHttpRequest up = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, client.method(), uri, body);
        HttpHeaders h = up.headers();
        for (Map.Entry<String, String> e : client.headers()) {
            if (!isHopByHop(e.getKey())) {
                h.add(e.getKey(), e.getValue());
            }
        }
        h.set(HttpHeaderNames.HOST, backend.config().hostHeader());
        if (body.isReadable() || client.method().equals(HttpMethod.POST) || client.method().equals(HttpMethod.PUT)
                || client.method().equals(HttpMethod.DELETE)) {
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        }
        if (clientAddress instanceof InetSocketAddress isa && isa.getAddress() != null) {
            String prior = client.headers().get("X-Forwarded-For");
            String me = isa.getAddress().getHostAddress();
            h.set("X-Forwarded-For", prior == null ? me : prior + ", " + me);
        }
        return up;
    }

    /** The response head to send the client: the backend's status and headers, minus hop-by-hop ones. */
    public static HttpResponse clientResponse(HttpResponse upstream) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, upstream.status());
        HttpHeaders h = r.headers();
        h.set(upstream.headers());
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(HttpHeaderNames.PROXY_CONNECTION);
        return r;
    }

    /**
     * What the balancer adds to every proxied response: the request id, the backend, and for inference the time
     * spent queued and the token estimates the scheduler worked with.
     */
    public static void addBalancerHeaders(HttpHeaders h, long id, Backend backend, PendingRequest pending) {
        h.set("X-Request-Id", Long.toString(id));
        h.set("X-Balancer-Backend", backend.name());
        if (pending != null) {
            h.set("X-Balancer-Queue-Ms", Long.toString(pending.queuedNanos() / 1_000_000));
            h.set("X-Balancer-Estimated-Prompt-Tokens", Integer.toString(pending.estimate().promptTokens()));
            h.set("X-Balancer-Estimated-Output-Tokens", Integer.toString(pending.estimate().expectedOutputTokens()));
        }
    }

    private static boolean isHopByHop(String name) {
        for (CharSequence h : HOP_BY_HOP) {
            if (h.toString().equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }
}
