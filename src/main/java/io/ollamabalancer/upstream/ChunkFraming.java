package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;

/**
 * Walks the chunked transfer coding of one response body (RFC 9112 §7.1) over the buffers it arrives in, without
 * copying or changing a byte: where each chunk's data lies, where a chunk ends, and where the last chunk (size 0)
 * begins. It is what lets a chunked body cross the balancer as the backend framed it: the upstream side finds the
 * body's end with it ({@link RawBodySplitter}), the relay finds the data for its timing sniffer and knows whether
 * what the client got so far ends between chunks.
 *
 * <p>Strict where a client would be: a size line is hex digits, then optional whitespace and a {@code ;extension}
 * up to its line end ({@code CRLF}, a bare {@code LF} accepted as most readers do); a chunk's data is followed by
 * exactly {@code CRLF}. Anything else, or a size line longer than {@value #MAX_SIZE_LINE} bytes, or a size beyond
 * 2<sup>60</sup>, is a {@link ChunkFramingException}.
 *
 * <p>One instance per body; not thread-safe (event-loop confined). Holds no buffers: it reads the ones given to
 * {@link #scan} and keeps only counters.
 */
public final class ChunkFraming {
    /** The longest size line (digits, extensions, line end) accepted: a partial one may be held while it arrives. */
    public static final int MAX_SIZE_LINE = 4096;
    private static final long MAX_SIZE = 1L << 60;

    /** Reads a chunk's data where it lies; the bytes are the caller's, read but not kept. */
    @FunctionalInterface
    public interface DataSink {
        /** Data bytes {@code buf[from, to)} of the current chunk (a chunk's data may come in several calls). */
        void data(ByteBuf buf, int from, int to);
    }

    private enum State { DIGITS, EXTENSION, LINE_LF, DATA, DATA_CR, DATA_LF, LAST }

    private final DataSink sink;
    private State state = State.DIGITS;
    /** The current size line: its size so far, its digits, its bytes so far. */
    private long size;
    private int digits;
    private int lineBytes;
    /** Data bytes of the current chunk not yet seen. */
    private long remaining;
    private long chunks;

    /** @param sink where the data goes, or {@code null} when only the framing matters */
    public ChunkFraming(DataSink sink) {
        this.sink = sink;
    }

    /**
     * Reads {@code buf[from, to)}, the body's next bytes. Returns where it stopped: {@code to}, or, once the last
     * chunk's size line is complete ({@link #atLast}), the index just after that line (the trailer section and the
     * final empty line follow, and are not read here).
     *
     * @throws ChunkFramingException if the bytes are not valid chunked framing
     */
    public int scan(ByteBuf buf, int from, int to) {
        int i = from;
        while (i < to && state != State.LAST) {
            switch (state) {
                case DATA -> {
                    int n = (int) Math.min(remaining, to - i);
                    if (sink != null) {
                        sink.data(buf, i, i + n);
                    }
                    i += n;
                    remaining -= n;
                    if (remaining == 0) {
                        state = State.DATA_CR;
                    }
                }
                case DATA_CR -> {
                    expect(buf.getByte(i++), '\r');
                    state = State.DATA_LF;
                }
                case DATA_LF -> {
                    expect(buf.getByte(i++), '\n');
                    state = State.DIGITS;
                }
                default -> i = sizeLine(buf, i, to);
            }
        }
        return i;
    }

    /** Reads the current size line from {@code buf[i]}; returns where it stopped. */
    private int sizeLine(ByteBuf buf, int i, int to) {
        while (i < to) {
            byte b = buf.getByte(i++);
            if (++lineBytes > MAX_SIZE_LINE) {
                throw new ChunkFramingException("chunk size line longer than " + MAX_SIZE_LINE + " bytes");
            }
            if (state == State.LINE_LF) {
                expect(b, '\n');
                endLine();
                return i;
            }
            if (b == '\n') {
                if (digits == 0) {
                    throw new ChunkFramingException("chunk size line without a size");
                }
                endLine();
                return i;
            }
            if (state == State.EXTENSION) {
                if (b == '\r') {
                    state = State.LINE_LF;
                }
                continue;
            }
            int d = Character.digit(b, 16);
            if (d >= 0) {
                size = size * 16 + d;
                digits++;
                if (size >= MAX_SIZE) {
                    throw new ChunkFramingException("chunk size too large");
                }
            } else if (digits > 0 && b == '\r') {
                state = State.LINE_LF;
            } else if (digits > 0 && (b == ';' || b == ' ' || b == '\t')) {
                state = State.EXTENSION;
            } else {
                throw new ChunkFramingException("invalid byte 0x" + Integer.toHexString(b & 0xff) + " in a chunk size");
            }
        }
        return i;
    }

    private void endLine() {
        if (size == 0) {
            state = State.LAST;
            return;
        }
        chunks++;
        remaining = size;
        state = State.DATA;
        size = 0;
        digits = 0;
        lineBytes = 0;
    }

    private static void expect(byte b, char wanted) {
        if (b != wanted) {
            throw new ChunkFramingException("expected 0x" + Integer.toHexString(wanted) + " after chunk data, got 0x"
                    + Integer.toHexString(b & 0xff));
        }
    }

    /** Whether the last chunk's size line was read: the data is over. */
    public boolean atLast() {
        return state == State.LAST;
    }

    /**
     * Bytes of the current size line read so far (0 between chunks or inside a chunk's data): how many of the last
     * bytes read belong to a line still incomplete, or, at {@link #atLast}, the length of the last chunk's line.
     */
    public int sizeLineBytes() {
        return state == State.DIGITS || state == State.EXTENSION || state == State.LINE_LF || state == State.LAST
                ? lineBytes : 0;
    }

    /** Whether the bytes read so far end exactly between two chunks (before a size line's first byte). */
    public boolean betweenChunks() {
        return state == State.DIGITS && lineBytes == 0;
    }

    /** Data chunks whose size line was read so far (the last, empty chunk not counted). */
    public long chunks() {
        return chunks;
    }
}
