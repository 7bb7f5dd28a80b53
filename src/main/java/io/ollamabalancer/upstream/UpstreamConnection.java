package io.ollamabalancer.upstream;

import io.netty.channel.Channel;
import io.ollamabalancer.backend.Backend;

/**
 * One acquired upstream channel, lent to exactly one exchange until {@link #release} or {@link #discard}: the
 * pool contract is that every acquire ends in exactly one of the two. Event-loop confined.
 */
public final class UpstreamConnection {
    private final UpstreamPool pool;
    private final Channel channel;
    private final boolean reused;
    private boolean returned;

    UpstreamConnection(UpstreamPool pool, Channel channel, boolean reused) {
        this.pool = pool;
        this.channel = channel;
        this.reused = reused;
    }

    public Channel channel() {
        return channel;
    }

    public Backend backend() {
        return pool.backend();
    }

    /** Whether this channel already served an earlier exchange (a stale keep-alive may fail on first write). */
    public boolean reused() {
        return reused;
    }

    /** Starts routing the channel's response parts to {@code listener}. */
    public void attach(UpstreamListener listener) {
        handler().attach(listener);
    }

    /**
     * The coming response's body, if it is chunked, is to reach the listener raw
     * ({@link UpstreamListener#onUpstreamChunkedBytes}) instead of decoded. Call after {@link #attach}, before the
     * request is sent; holds for that one response.
     */
    public void passChunkedBodyRaw() {
        handler().passChunkedBodyRaw();
    }

    /** The exchange finished cleanly and the response was complete: the channel may serve the next one. */
    public void release() {
        if (!returned) {
            returned = true;
            handler().detach();
            pool.giveBack(channel);
        }
    }

    /**
     * The exchange was abandoned (client left, protocol error, partial response): close the channel so Ollama
     * stops generating, instead of pooling it.
     */
    public void discard() {
        if (!returned) {
            returned = true;
            handler().detach();
            channel.close();
        }
    }

    private UpstreamResponseHandler handler() {
        return (UpstreamResponseHandler) channel.pipeline().get(UpstreamChannelInitializer.RELAY);
    }
}
