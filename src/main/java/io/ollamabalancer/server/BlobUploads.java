package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.ollamabalancer.api.RouteTable;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BlobLocations;
import io.ollamabalancer.relay.HeaderPolicy;
import io.ollamabalancer.relay.RelayContext;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.relay.StreamingExchange;
import io.ollamabalancer.relay.UploadExchange;
import io.ollamabalancer.relay.UploadRequest;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Routes the requests on {@code /api/blobs/:digest}, whose bodies stream: to the backend known to hold the blob,
 * else {@code X-Ollama-Backend}, else the first available one ({@link PassthroughTargets}), through an
 * {@link UploadExchange}; and records in {@link BlobLocations} what the backend answers ({@code HEAD} or
 * {@code POST} 200/201: it has the blob; {@code HEAD} 404: it does not). Thread-safe (stateless but for the shared
 * id counter); called on client event loops.
 *
 * <p>Buffers: handles only the request head (no buffer); the body parts go to the exchange it returns.
 */
final class BlobUploads {
    private final RelayContext rc;
    private final PassthroughTargets targets;
    private final BlobLocations blobs;
    private final AtomicLong ids;

    BlobUploads(RelayContext rc, PassthroughTargets targets, BlobLocations blobs, AtomicLong ids) {
        this.rc = rc;
        this.targets = targets;
        this.blobs = blobs;
        this.ids = ids;
    }

    /** Starts the exchange for {@code head}; returns it, or null when the request was answered here at once. */
    StreamingExchange route(ChannelHandlerContext ctx, HttpRequest head, RouteTable.Route route, long arrival,
                            Runnable done) {
        String digest = route.blobDigest();
        PassthroughTargets.Choice choice = targets.choose(List.of(digest),
                head.headers().get(HeaderPolicy.BACKEND_HEADER));
        if (choice.backend() == null) {
            refuse(ctx, head, route, choice.status(), choice.error(), choice.retryAfterSeconds());
            done.run();
            return null;
        }
        Backend backend = choice.backend();
        HttpMethod method = head.method();
        UploadExchange ex = new UploadExchange(rc, ctx, new UploadRequest(head, route.endpoint(), head.uri(),
                backend, ids.incrementAndGet(), arrival, status -> learn(digest, backend, method, status)), done);
        ex.start();
        return ex;
    }

    private void learn(String digest, Backend backend, HttpMethod method, int status) {
        boolean head = method.equals(HttpMethod.HEAD);
        if ((head || method.equals(HttpMethod.POST)) && (status == 200 || status == 201)) {
            blobs.stored(digest, backend.name());
        } else if (head && status == 404) {
            blobs.missing(digest, backend.name());
        }
    }

    /**
     * An answer before any backend is involved. While a body may still be on its way the connection closes after
     * it: the unread remainder cannot be skipped cheaply.
     */
    static void refuse(ChannelHandlerContext ctx, HttpRequest head, RouteTable.Route route, int status,
                       String message, long retryAfterSeconds) {
        if (HttpUtil.isTransferEncodingChunked(head) || HttpUtil.getContentLength(head, 0L) > 0) {
            Responses.errorAndClose(ctx, status, message);
        } else {
            Responses.error(ctx, route.endpoint(), status, message, retryAfterSeconds);
        }
    }
}
