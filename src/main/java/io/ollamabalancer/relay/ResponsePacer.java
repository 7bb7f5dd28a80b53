package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * How a streamed response moves from the upstream channel to the client: each part is written as it is decoded,
 * the client is flushed once per upstream read burst (one write syscall for all the parts one socket read
 * produced, not one per chunk), and the next part is read from upstream only while the client is writable.
 *
 * <p>Why per burst: a streamed answer is many small chunks, and a flush per chunk costs a {@code writev} and the
 * flush's walk through the pipeline each. The upstream channel does not auto-read, so a burst is what one
 * {@code read()} returned; {@link #burstEnded} runs from the upstream channel's {@code channelReadComplete}, which
 * Netty fires after every read, so nothing written waits longer than the burst that carried it.
 *
 * <p>Backpressure: what is written but not flushed counts toward the client's write buffer like anything else, so
 * the client turns unwritable as before; the next upstream read is asked for only at the end of a burst and only
 * while the client is writable; otherwise the pacer pauses until {@link #clientWritable}. What waits in the
 * balancer is therefore bounded by the client's high watermark plus one read burst.
 *
 * <p>Buffers: the parts given to it pass to the client channel (written, never held). Mid-stream parts are written
 * with the void promise (no promise, no listener per chunk): a failed write surfaces as the client pipeline's
 * {@code exceptionCaught}, which closes the connection, and the exchange learns of it from the close. The head and
 * the last part keep real promises, for the handlers that act when a response starts or ends.
 *
 * <p>Raw chunked bytes ({@link #chunkedBytes}) are written below the client's HTTP encoder (from its context), so
 * they are neither framed again nor seen by the handlers above it; they are ordered with the head and the last part,
 * which go through the whole pipeline, because every handler between passes writes on at once.
 *
 * <p>A head with a fixed-length body (not chunked) is held until the next thing is written or the burst ends: when
 * the body's last part comes in the same burst (a small non-streamed answer: the usual case), head and body go down
 * the client pipeline as one {@code FullHttpResponse}, one pass through its handlers and one encoded buffer instead
 * of two. The bytes on the wire are the same, and nothing waits longer than before: the flush was at the burst's
 * end (or at the last part) anyway.
 *
 * <p>Threading: one per exchange, confined to the client's event loop (which is also the upstream channel's).
 */
final class ResponsePacer {
    private final ChannelHandlerContext client;
    /** Asks the upstream channel for its next read (it does not auto-read). */
    private final Runnable readUpstream;
    /** Something was written since the last flush. */
    private boolean flushPending;
    /**
     * Where the pending flush starts: {@code client}, or the encoder's context when everything written since the last
     * flush went below the encoder (raw chunked bytes). A flush from a context passes only the handlers below it; the
     * handlers above the encoder pass writes and flushes on at once and hold nothing, so starting there flushes the
     * same bytes while sparing the walk through them (about ten contexts per flush, once per streamed chunk).
     */
    private ChannelHandlerContext flushFrom;
    /** A part was consumed and the response goes on: the upstream channel should be read again at burst end. */
    private boolean readWanted;
    /** A read was due while the client was unwritable; {@link #clientWritable} asks for it. */
    private boolean paused;
    /** A fixed-length response's head not written yet, in case its last part comes in the same burst. */
    private HttpResponse heldHead;

    ResponsePacer(ChannelHandlerContext client, Runnable readUpstream) {
        this.client = client;
        this.readUpstream = readUpstream;
        this.flushFrom = client;
    }

    /**
     * Writes the response head (flushed at the burst's end with what follows it); more parts are expected. A head
     * whose body is not chunked waits for the burst's end or its next part, whichever comes first.
     */
    void head(HttpResponse head) {
        if (HttpUtil.isTransferEncodingChunked(head)) {
            client.write(head);
        } else {
            heldHead = head;
        }
        pending(client);
        readWanted = true;
    }

    /** Writes the head held back, if any, before whatever follows it. */
    private void writeHeldHead() {
        HttpResponse h = heldHead;
        if (h != null) {
            heldHead = null;
            client.write(h);
            pending(client);
        }
    }

    /** Notes a write from {@code ctx} that the burst's flush must reach. */
    private void pending(ChannelHandlerContext ctx) {
        // A flush from the client's context (the top) also passes the encoder's: it covers every write of the burst.
        flushFrom = flushPending && flushFrom != ctx ? client : ctx;
        flushPending = true;
    }

    /** Writes a part that is not the last one; it is flushed when the burst ends. */
    void part(HttpContent part) {
        writeHeldHead();
        client.write(part, client.voidPromise());
        pending(client);
        readWanted = true;
    }

    /**
     * Writes bytes already in the client's chunked framing (whole or partial chunks, size lines included) past the
     * client's HTTP encoder, whose context is {@code encoder}; flushed when the burst ends. Ownership passes.
     */
    void chunkedBytes(ChannelHandlerContext encoder, ByteBuf bytes) {
        writeHeldHead();
        encoder.write(bytes, encoder.voidPromise());
        pending(encoder);
        readWanted = true;
    }

    /**
     * Writes the response's last part and flushes everything: nothing more is read for this response. With the head
     * still held (both came in one burst), the two go out as one full response; ownership of the part passes either
     * way.
     */
    void last(Object part) {
        flushPending = false;
        readWanted = false;
        paused = false;
        HttpResponse h = heldHead;
        heldHead = null;
        if (h != null && part instanceof LastHttpContent last) {
            client.writeAndFlush(new DefaultFullHttpResponse(h.protocolVersion(), h.status(), last.content(),
                    h.headers(), last.trailingHeaders()));
            return;
        }
        if (h != null) {
            client.write(h);
        }
        client.writeAndFlush(part);
    }

    /**
     * The upstream channel finished a read: flushes what that read produced, then reads on if the client can take
     * more, or pauses until it can. Returns whether it paused now (the exchange stops its stall clock then).
     */
    boolean burstEnded() {
        writeHeldHead();
        if (flushPending) {
            flushPending = false;
            flushFrom.flush();
        }
        if (readWanted) {
            readWanted = false;
            if (client.channel().isWritable()) {
                readUpstream.run();
            } else {
                paused = true;
                return true;
            }
        }
        return false;
    }

    /**
     * The client drained below its low watermark: the read that was held back is asked for now. Returns whether a
     * pause ended.
     */
    boolean clientWritable() {
        if (!paused) {
            return false;
        }
        paused = false;
        readUpstream.run();
        return true;
    }

    /** Flushes what is written but not yet flushed (before the client connection is closed on purpose). */
    void flush() {
        writeHeldHead();
        if (flushPending) {
            flushPending = false;
            flushFrom.flush();
        }
    }
}
