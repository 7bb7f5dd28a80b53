package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpObject;

/**
 * Receives what one upstream exchange produces. Called on the upstream channel's event loop, which is also the
 * client channel's loop (pools are per event loop), so implementations need no synchronisation.
 */
public interface UpstreamListener {

    /** A response part; ownership passes to the listener, which must release or forward it. */
    void onUpstreamMessage(HttpObject msg);

    /**
     * Data chunks of a chunked response body as the backend framed them (chunk-size lines, data and CRLFs, in
     * order, whole chunks or parts of one), for a listener that asked for them ({@link UpstreamConnection#passChunkedBodyRaw}):
     * they come between the head and the {@code LastHttpContent}, instead of decoded contents. Ownership passes.
     */
    default void onUpstreamChunkedBytes(ByteBuf bytes) {
        bytes.release();
    }

    /** The upstream channel closed or failed while this listener was attached. */
    void onUpstreamClosed(Throwable cause);

    /**
     * The upstream channel drained below its low watermark: a listener that streams a request body into it may
     * read more from its client. Only listeners that send more than one message need it.
     */
    default void onUpstreamWritable() {
    }

    /**
     * The upstream channel finished one read: the parts it produced have all been delivered. A listener that writes
     * parts on without flushing each flushes here, and asks for the next read here (the channel does not auto-read).
     */
    default void onUpstreamReadComplete() {
    }
}
