package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Lets a chunked response body bypass the HTTP decoder, framing and all, when the exchange asked for it
 * ({@link #arm}): the head goes through the decoder as usual, the body's data chunks go to the
 * {@link UpstreamResponseHandler} as the bytes that arrived (chunk-size lines included), and the last chunk with its
 * trailers goes through the decoder again, which so emits the response's {@code LastHttpContent} and is ready for
 * the connection's next response. The relay then writes those bytes to a client whose response is chunked too:
 * no decode into {@code HttpContent}s and no re-encoding of each chunk.
 *
 * <p>How it stays in step with the decoder: while a head is awaited, only the bytes up to the head's end (its empty
 * line) are passed to the decoder, which decodes the head at once; the {@link UpstreamResponseHandler} then says
 * whether the head starts a chunked body ({@link #headDecoded}). If so, what follows is walked with
 * {@link ChunkFraming} until the last chunk's size line; else the armed state ends and every byte goes to the
 * decoder, as when not armed. An interim (1xx) head keeps it waiting for the final one.
 *
 * <p>Sits right before the HTTP codec. Buffers: each inbound buffer is passed on whole or in retained slices, to
 * the decoder or as raw body bytes, and released here; a size line split across reads is copied (at most
 * {@value ChunkFraming#MAX_SIZE_LINE} bytes) until its end shows whether it is the last chunk's. One instance per
 * upstream channel; event-loop confined.
 */
final class RawBodySplitter extends ChannelInboundHandlerAdapter {
    private enum Mode { PASS, HEAD, BODY }

    private final UpstreamResponseHandler body;
    private Mode mode = Mode.PASS;
    /** In a head: the current line has a byte other than CR, and a line of the head was not empty. */
    private boolean lineHasBytes;
    private boolean headHasLines;
    /** The decoder emitted a head while the last head bytes were passed to it. */
    private boolean headSeen;
    private ChunkFraming framing;
    /** The start of a size line that came at the end of an earlier read, or {@code null}. */
    private ByteBuf heldLine;

    RawBodySplitter(UpstreamResponseHandler body) {
        this.body = body;
    }

    /** The next response's chunked body, if it has one, is to pass raw. Called before its request is sent. */
    void arm() {
        reset();
        mode = Mode.HEAD;
        lineHasBytes = false;
        headHasLines = false;
    }

    /** Ends the armed state: from now on every byte goes to the decoder. */
    void disarm() {
        reset();
        mode = Mode.PASS;
    }

    /** Whether a head is awaited: the handler then reports each decoded head here. */
    boolean awaitingHead() {
        return mode == Mode.HEAD;
    }

    /**
     * The decoder emitted a head: {@code chunkedBody} if a chunked body follows it (a final head whose body the
     * decoder would read in chunks), {@code interim} for a 1xx head (another head follows).
     */
    void headDecoded(boolean chunkedBody, boolean interim) {
        headSeen = true;
        if (chunkedBody) {
            mode = Mode.BODY;
            framing = new ChunkFraming(null);
        } else if (interim) {
            lineHasBytes = false;
            headHasLines = false;
        } else {
            mode = Mode.PASS;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (mode == Mode.PASS || !(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            int i = in.readerIndex();
            int end = in.writerIndex();
            while (i < end && mode != Mode.PASS) {
                i = mode == Mode.HEAD ? head(ctx, in, i, end) : body(ctx, in, i, end);
            }
            if (i < end) {
                ctx.fireChannelRead(in.retainedSlice(i, end - i));
            }
        } finally {
            in.release();
        }
    }

    /** Passes the head's bytes from {@code in[i]} to the decoder, up to its end if it is here; returns where it stopped. */
    private int head(ChannelHandlerContext ctx, ByteBuf in, int i, int end) {
        int j = i;
        boolean complete = false;
        while (j < end && !complete) {
            byte b = in.getByte(j++);
            if (b == '\n') {
                complete = headHasLines && !lineHasBytes;
                headHasLines |= lineHasBytes;
                lineHasBytes = false;
            } else if (b != '\r') {
                lineHasBytes = true;
            }
        }
        headSeen = false;
        ctx.fireChannelRead(in.retainedSlice(i, j - i));
        if (complete && !headSeen) {
            // The decoder had a whole head and emitted none: not a head it could read. Leave it every byte.
            mode = Mode.PASS;
        }
        return j;
    }

    /**
     * Walks body bytes from {@code in[i]}: data chunks go out raw, the last chunk to the decoder. The state is settled
     * before anything is handed on, since what the bytes reach may end the exchange (and disarm this) at once.
     */
    private int body(ChannelHandlerContext ctx, ByteBuf in, int i, int end) {
        ChunkFraming f = framing;
        ByteBuf line = heldLine;
        int held = line == null ? 0 : line.readableBytes();
        long chunksBefore = f.chunks();
        int stop;
        try {
            stop = f.scan(in, i, end);
        } catch (ChunkFramingException e) {
            disarm();
            ctx.fireExceptionCaught(e);
            return end;
        }
        // A held line that ended as a data chunk's size line goes out first, in order; else it is still the current one.
        boolean lineWasData = held > 0 && f.chunks() > chunksBefore;
        if (f.atLast()) {
            // The last chunk's line (begun in the held bytes, unless they were data) and what follows go to the decoder.
            heldLine = null;
            framing = null;
            mode = Mode.PASS;
            int dataEnd = stop - (f.sizeLineBytes() - (lineWasData ? 0 : held));
            if (lineWasData) {
                body.rawBody(line);
            }
            if (dataEnd > i) {
                body.rawBody(in.retainedSlice(i, dataEnd - i));
            }
            if (line != null && !lineWasData) {
                ctx.fireChannelRead(line);
            }
            return dataEnd;
        }
        if (held > 0 && !lineWasData) {
            // Still inside the line that began earlier: all of this read is more of it.
            line.writeBytes(in, i, end - i);
            return end;
        }
        int pending = f.sizeLineBytes();
        int dataEnd = end - pending;
        heldLine = null;
        if (pending > 0) {
            heldLine = ctx.alloc().buffer(Math.max(16, pending));
            heldLine.writeBytes(in, dataEnd, pending);
        }
        if (lineWasData) {
            body.rawBody(line);
        }
        if (dataEnd > i) {
            // The usual case, a whole read of data chunks, passes the read buffer itself.
            body.rawBody(i == in.readerIndex() && dataEnd == in.writerIndex() ? in.retain()
                    : in.retainedSlice(i, dataEnd - i));
        }
        return end;
    }

    private void reset() {
        framing = null;
        if (heldLine != null) {
            heldLine.release();
            heldLine = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        reset();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        reset();
    }
}
