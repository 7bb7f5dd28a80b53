package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * Cuts a byte stream into newline-terminated lines (NDJSON), whatever the HTTP chunk and TCP read boundaries: bytes
 * after the last newline wait for the next piece. Blank lines and a trailing {@code \r} are dropped. Used by the load
 * generator and by fleet operations reading backends' progress streams. Confined to one connection's event loop.
 * Never retains the buffers it is given: the caller still owns (and releases) them; each line is copied into this
 * splitter's own array, which the sink may read only during its call.
 */
public final class LineSplitter {

    /** Receives each complete line as {@code bytes[offset, offset + length)}. */
    @FunctionalInterface
    public interface Sink {
        void line(byte[] bytes, int offset, int length);
    }

    private byte[] pending = new byte[512];
    private int size;

    /** Feeds the readable bytes of {@code piece} (its reader index is left unchanged). */
    public void feed(ByteBuf piece, Sink sink) {
        int from = piece.readerIndex();
        int end = piece.writerIndex();
        while (from < end) {
            int lf = piece.indexOf(from, end, (byte) '\n');
            int stop = lf < 0 ? end : lf;
            append(piece, from, stop - from);
            if (lf < 0) {
                return;
            }
            emit(sink);
            from = lf + 1;
        }
    }

    /**
     * Emits the bytes after the last newline as a final line, if any: a non-streaming answer is one JSON object
     * that may end without a newline.
     */
    public void finish(Sink sink) {
        emit(sink);
    }

    /** Bytes received after the last newline (a line the stream has not finished). */
    public boolean hasPartialLine() {
        return size > 0;
    }

    /** Forgets a partial line, e.g. when the connection moves on to the next request. */
    public void reset() {
        size = 0;
    }

    private void append(ByteBuf piece, int from, int length) {
        if (size + length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, size + length));
        }
        piece.getBytes(from, pending, size, length);
        size += length;
    }

    private void emit(Sink sink) {
        int length = size;
        if (length > 0 && pending[length - 1] == '\r') {
            length--;
        }
        size = 0;
        if (length > 0) {
            sink.line(pending, 0, length);
        }
    }
}
