package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChunkFramingTest {

    @Test
    void findsTheDataAndTheLastChunkWhereverTheBytesAreSplit() {
        String body = "3\r\nabc\r\n1A; name=\"v\"\r\n" + "x".repeat(26) + "\r\n5\nhello\r\n0\r\nT: 1\r\n\r\n";
        int lastLine = body.indexOf("0\r\nT");
        for (int cut = 0; cut <= body.length(); cut++) {
            StringBuilder data = new StringBuilder();
            ChunkFraming f = new ChunkFraming((buf, from, to) ->
                    data.append(buf.toString(from, to - from, StandardCharsets.US_ASCII)));
            ByteBuf a = ascii(body.substring(0, cut));
            ByteBuf b = ascii(body.substring(cut));
            int stop = f.scan(a, 0, a.writerIndex());
            if (!f.atLast()) {
                stop = cut + f.scan(b, 0, b.writerIndex());
            }
            assertThat(f.atLast()).as("cut %d", cut).isTrue();
            assertThat(stop).as("cut %d", cut).isEqualTo(lastLine + 3);
            assertThat(f.sizeLineBytes()).isEqualTo(3);
            assertThat(data.toString()).isEqualTo("abc" + "x".repeat(26) + "hello");
            assertThat(f.chunks()).isEqualTo(3);
            a.release();
            b.release();
        }
    }

    @Test
    void knowsWhetherWhatWasReadEndsBetweenChunks() {
        ChunkFraming f = new ChunkFraming(null);
        assertThat(f.betweenChunks()).isTrue();
        scan(f, "3\r\na");
        assertThat(f.betweenChunks()).isFalse();
        assertThat(f.sizeLineBytes()).isZero();
        scan(f, "bc\r\n");
        assertThat(f.betweenChunks()).isTrue();
        scan(f, "1");
        assertThat(f.betweenChunks()).isFalse();
        assertThat(f.sizeLineBytes()).isEqualTo(1);
    }

    @Test
    void refusesWhatIsNotChunkedFraming() {
        assertThatThrownBy(() -> scan(new ChunkFraming(null), "g\r\n")).isInstanceOf(ChunkFramingException.class);
        assertThatThrownBy(() -> scan(new ChunkFraming(null), "\r\n")).isInstanceOf(ChunkFramingException.class);
        assertThatThrownBy(() -> scan(new ChunkFraming(null), "2\r\nabX\n")).isInstanceOf(ChunkFramingException.class);
        assertThatThrownBy(() -> scan(new ChunkFraming(null), "2\r\nab\rX")).isInstanceOf(ChunkFramingException.class);
        assertThatThrownBy(() -> scan(new ChunkFraming(null), "1" + "0".repeat(16) + "\r\n"))
                .isInstanceOf(ChunkFramingException.class);
        assertThatThrownBy(() -> scan(new ChunkFraming(null), "1;" + "e".repeat(ChunkFraming.MAX_SIZE_LINE)))
                .isInstanceOf(ChunkFramingException.class);
    }

    private static void scan(ChunkFraming f, String s) {
        ByteBuf b = ascii(s);
        try {
            f.scan(b, 0, b.writerIndex());
        } finally {
            b.release();
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }
}
