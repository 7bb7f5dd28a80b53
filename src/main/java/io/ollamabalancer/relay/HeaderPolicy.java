package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.schedule.PendingRequest;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/**
 * Which headers cross the balancer in each direction. Hop-by-hop headers stay on their hop; {@code Host} becomes
 * the backend's (a loopback-bound Ollama answers 403 to a foreign one); {@code Origin} is dropped upstream because
 * the balancer, not Ollama, answers browsers. Stateless.
 */
public final class HeaderPolicy {
    /** Request headers the balancer reads itself and does not forward. */
    public static final AsciiString BACKEND_HEADER = AsciiString.cached("X-Ollama-Backend");
    public static final AsciiString PRIORITY_HEADER = AsciiString.cached("X-Priority");

    // Names as AsciiString constants: their hash codes are computed once, not at every use.
    private static final AsciiString FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    /** The request id: the balancer's own on answers; a client's, when sent, is forwarded and also tracked. */
    public static final AsciiString REQUEST_ID = AsciiString.cached("X-Request-Id");
    private static final AsciiString BALANCER_BACKEND = AsciiString.cached("X-Balancer-Backend");
    private static final AsciiString QUEUE_MS = AsciiString.cached("X-Balancer-Queue-Ms");
    private static final AsciiString PROMPT_TOKENS = AsciiString.cached("X-Balancer-Estimated-Prompt-Tokens");
    private static final AsciiString OUTPUT_TOKENS = AsciiString.cached("X-Balancer-Estimated-Output-Tokens");

    private static final List<CharSequence> HOP_BY_HOP = List.of(
            HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION,
            HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
            HttpHeaderNames.HOST, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.EXPECT, HttpHeaderNames.ORIGIN,
            HttpHeaderNames.PROXY_AUTHORIZATION, BACKEND_HEADER, PRIORITY_HEADER);

    private HeaderPolicy() {
    }

    /**
     * Turns the client's request headers into the upstream ones, in place and once per exchange (no copy on the hot
     * path): hop-by-hop headers and the balancer's own are removed, {@code X-Forwarded-For} gains the client.
     * The caller owns the request; its headers are not read for anything else afterwards.
     */
    public static HttpHeaders prepareUpstreamHeaders(HttpRequest client, SocketAddress clientAddress) {
        HttpHeaders h = client.headers();
        String prior = h.get(FORWARDED_FOR);
        for (CharSequence name : HOP_BY_HOP) {
            h.remove(name);
        }
        if (clientAddress instanceof InetSocketAddress isa && isa.getAddress() != null) {
            String me = isa.getAddress().getHostAddress();
            h.set(FORWARDED_FOR, prior == null ? me : prior + ", " + me);
        }
        return h;
    }

    /**
     * The request to send upstream, over the prepared {@code headers} (shared by every attempt of the exchange; the
     * previous attempt's message is written or failed before the next is built). {@code body} becomes the request's
     * content: the caller passes a retained duplicate and ownership moves to the returned message.
     */
    public static FullHttpRequest upstreamRequest(HttpMethod method, String uri, ByteBuf body, HttpHeaders headers,
                                                  Backend backend) {
        headers.set(HttpHeaderNames.HOST, backend.config().hostHeader());
        if (body.isReadable() || method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT)
                || method.equals(HttpMethod.DELETE)) {
            headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        }
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, body, headers,
                EmptyHttpHeaders.INSTANCE);
    }

    /**
     * The head of a request whose body follows in parts (a streamed upload), over the prepared {@code headers}: the
     * client's framing is kept, a known length as {@code Content-Length}, else chunked. The caller owns the result.
     *
     * @param bodyLength the body's declared length, {@code -1} when it comes chunked
     */
    public static HttpRequest upstreamHead(HttpMethod method, String uri, HttpHeaders headers, Backend backend,
                                           long bodyLength) {
        headers.set(HttpHeaderNames.HOST, backend.config().hostHeader());
        if (bodyLength < 0) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else if (bodyLength > 0 || method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT)) {
            headers.set(HttpHeaderNames.CONTENT_LENGTH, bodyLength);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri, headers);
    }

    /**
     * The response head to send the client: the backend's own head object, edited in place (hop-by-hop headers
     * removed), so its headers are not copied. The relay owns it once received.
     */
    public static HttpResponse clientResponse(HttpResponse upstream) {
        upstream.setProtocolVersion(HttpVersion.HTTP_1_1);
        HttpHeaders h = upstream.headers();
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(HttpHeaderNames.PROXY_CONNECTION);
        return upstream;
    }

    /**
     * What the balancer adds to every proxied response: the request id, the backend, and for inference the time
     * spent queued and the token estimates the scheduler worked with.
     */
    public static void addBalancerHeaders(HttpHeaders h, long id, Backend backend, PendingRequest pending) {
        h.set(REQUEST_ID, Long.toString(id));
        h.set(BALANCER_BACKEND, backend.name());
        if (pending != null) {
            h.set(QUEUE_MS, Long.toString(pending.queuedNanos() / 1_000_000));
            h.set(PROMPT_TOKENS, Integer.toString(pending.estimate().promptTokens()));
            h.set(OUTPUT_TOKENS, Integer.toString(pending.estimate().expectedOutputTokens()));
        }
    }
}
