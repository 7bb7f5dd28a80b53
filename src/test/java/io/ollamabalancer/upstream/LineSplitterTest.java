package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LineSplitterTest {
    private final LineSplitter splitter = new LineSplitter();
    private final List<String> lines = new ArrayList<>();
    private final LineSplitter.Sink sink = (b, off, len) -> lines.add(new String(b, off, len, StandardCharsets.UTF_8));

    private void feed(String s) {
        ByteBuf buf = Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
        try {
            int reader = buf.readerIndex();
            splitter.feed(buf, sink);
            assertThat(buf.readerIndex()).isEqualTo(reader);
            assertThat(buf.refCnt()).isEqualTo(1);
        } finally {
            buf.release();
        }
    }

    @Test
    void linesCutAnywhereAreReassembled() {
        feed("{\"a\":1}\n{\"b\"");
        assertThat(lines).containsExactly("{\"a\":1}");
        assertThat(splitter.hasPartialLine()).isTrue();
        feed(":2");
        feed("}\n{\"c\":3}\n{\"d\":4}\n");
        assertThat(lines).containsExactly("{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "{\"d\":4}");
        assertThat(splitter.hasPartialLine()).isFalse();
    }

    @Test
    void crlfAndBlankLinesAreDropped() {
        feed("one\r\n\n\r\ntwo\n");
        assertThat(lines).containsExactly("one", "two");
    }

    @Test
    void longLinesGrowTheBuffer() {
        String big = "x".repeat(5000);
        feed(big.substring(0, 1234));
        feed(big.substring(1234) + "\n");
        assertThat(lines).containsExactly(big);
    }

    @Test
    void finishEmitsAnUnterminatedLastLineAndResetForgetsOne() {
        feed("{\"whole\":true}");
        assertThat(lines).isEmpty();
        splitter.finish(sink);
        assertThat(lines).containsExactly("{\"whole\":true}");
        feed("partial");
        splitter.reset();
        feed("next\n");
        assertThat(lines).containsExactly("{\"whole\":true}", "next");
    }

    @Test
    void onlyTheReadableBytesAreRead() {
        ByteBuf buf = Unpooled.copiedBuffer("skip\nkeep\n", StandardCharsets.UTF_8);
        buf.readerIndex(5);
        splitter.feed(buf, sink);
        buf.release();
        assertThat(lines).containsExactly("keep");
    }
}
