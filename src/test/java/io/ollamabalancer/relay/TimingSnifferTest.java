package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.ollamabalancer.estimate.TimingSample;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class TimingSnifferTest {
    private static final String FINAL = "{\"model\":\"m\",\"created_at\":\"2025-01-01T00:00:00Z\",\"response\":\"\","
            + "\"done\":true,\"done_reason\":\"stop\",\"context\":[1,2,3],\"total_duration\":900,\"load_duration\":5,"
            + "\"prompt_eval_count\":31,\"prompt_eval_duration\":200,\"eval_count\":7,\"eval_duration\":600}";
    private static final TimingSample FINAL_SAMPLE = new TimingSample(31, 200, 7, 600, 5, 900);

    private static void feed(TimingSniffer s, String text) {
        feed(s, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Feeds {@code bytes} as one direct, pooled buffer with a non-zero reader index, and checks it is untouched. */
    private static void feed(TimingSniffer s, byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length + 3);
        b.writeBytes(new byte[3]).writeBytes(bytes).readerIndex(3);
        s.feed(b);
        assertThat(b.readerIndex()).as("the sniffer must not consume").isEqualTo(3);
        assertThat(b.writerIndex()).isEqualTo(bytes.length + 3);
        assertThat(b.refCnt()).as("nor retain or release").isEqualTo(1);
        b.release();
    }

    private static String token(String text) {
        return "{\"model\":\"m\",\"created_at\":\"2025-01-01T00:00:00Z\",\"response\":\"" + text + "\",\"done\":false}\n";
    }

    @Test
    void readsFinalChunkSplitAcrossBuffers() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "{\"model\":\"m\",\"response\":\"Hi\",\"done\":false}\n{\"model\":\"m\",\"respo");
        feed(s, "nse\":\"\",\"done\":true,\"done_reason\":\"stop\",\"context\":[1,2,3],\"total_duration\":900,"
                + "\"load_duration\":5,\"prompt_eval_count\":31,\"prompt_eval_duration\":200,\"eval_count\":7,");
        feed(s, "\"eval_duration\":600}\n");
        TimingSample t = s.sample();
        assertThat(t).isEqualTo(FINAL_SAMPLE);
        assertThat(s.sawDone()).isTrue();
        assertThat(s.sawError()).isFalse();
        assertThat(s.lines()).isEqualTo(2);
    }

    @Test
    void everySplitPointOfAStreamGivesTheSameResult() {
        String stream = token("Hel") + token("lo") + "\r\n" + FINAL + "\n";
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= bytes.length; cut++) {
            for (int cut2 = cut; cut2 <= bytes.length; cut2 += 17) {
                TimingSniffer s = new TimingSniffer();
                feed(s, Arrays.copyOfRange(bytes, 0, cut));
                feed(s, Arrays.copyOfRange(bytes, cut, cut2));
                feed(s, Arrays.copyOfRange(bytes, cut2, bytes.length));
                s.finish();
                assertThat(s.sample()).as("cut at %d and %d", cut, cut2).isEqualTo(FINAL_SAMPLE);
                assertThat(s.lines()).as("cut at %d and %d", cut, cut2).isEqualTo(3);
                assertThat(s.sawError()).isFalse();
            }
        }
    }

    @Test
    void byteByByteStillFindsTheMarkersAndTheError() {
        TimingSniffer s = new TimingSniffer();
        for (byte b : (token("x") + FINAL + "\n").getBytes(StandardCharsets.UTF_8)) {
            feed(s, new byte[] {b});
        }
        assertThat(s.sample()).isEqualTo(FINAL_SAMPLE);
        TimingSniffer e = new TimingSniffer();
        for (byte b : "data: {\"error\":{\"message\":\"boom\"}}\n\n".getBytes(StandardCharsets.UTF_8)) {
            feed(e, new byte[] {b});
        }
        assertThat(e.sawError()).isTrue();
        assertThat(e.lines()).isEqualTo(1);
    }

    @Test
    void multibyteTextSplitInsideACharacterChangesNothing() {
        String text = "héllo wörld, 你好, 🙂 done\\\":true";
        byte[] chunk = token(text).getBytes(StandardCharsets.UTF_8);
        byte[] last = (FINAL.replace("\"response\":\"\"", "\"response\":\"🙂 é\"") + "\n")
                .getBytes(StandardCharsets.UTF_8);
        int emoji = indexOf(chunk, "🙂".getBytes(StandardCharsets.UTF_8));
        TimingSniffer s = new TimingSniffer();
        // Split inside the four bytes of the emoji, then inside the final line's emoji too.
        feed(s, Arrays.copyOfRange(chunk, 0, emoji + 2));
        feed(s, Arrays.copyOfRange(chunk, emoji + 2, chunk.length));
        int lastEmoji = indexOf(last, "🙂".getBytes(StandardCharsets.UTF_8));
        feed(s, Arrays.copyOfRange(last, 0, lastEmoji + 1));
        assertThat(s.sawDone()).isFalse();
        feed(s, Arrays.copyOfRange(last, lastEmoji + 1, last.length));
        assertThat(s.sample()).isEqualTo(FINAL_SAMPLE);
        assertThat(s.lines()).isEqualTo(2);
    }

    @Test
    void onlyTheLineWithTheFinalObjectIsCopied() {
        TimingSniffer s = new TimingSniffer();
        for (int i = 0; i < 50; i++) {
            feed(s, token("t" + i) + token("u" + i));
            assertThat(s.heldBytes()).as("complete lines are scanned in place").isZero();
        }
        feed(s, "{\"model\":\"m\",\"resp");
        assertThat(s.heldBytes()).as("an unfinished line is kept until it ends").isEqualTo(18);
        feed(s, "onse\":\"z\",\"done\":false}\n");
        assertThat(s.heldBytes()).isZero();
        feed(s, FINAL + "\n");
        assertThat(s.sample()).isEqualTo(FINAL_SAMPLE);
        assertThat(s.lines()).isEqualTo(102);
    }

    @Test
    void nonStreamingBodyWithoutNewlineIsReadAtFinish() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":true,"
                + "\"eval_count\":3,\"eval_duration\":30}");
        assertThat(s.sawDone()).isFalse();
        s.finish();
        assertThat(s.sample().evalCount()).isEqualTo(3);
        assertThat(s.sample().evalDurationNs()).isEqualTo(30);
        assertThat(s.lines()).isEqualTo(1);
    }

    @Test
    void aCompositeBufferIsScannedAcrossItsComponents() {
        byte[] bytes = (token("a") + FINAL + "\n").getBytes(StandardCharsets.UTF_8);
        CompositeByteBuf c = Unpooled.compositeBuffer();
        int a = 40;
        int b = 130;
        c.addComponent(true, Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, 0, a)));
        c.addComponent(true, Unpooled.directBuffer(b - a).writeBytes(bytes, a, b - a));
        c.addComponent(true, Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, b, bytes.length)));
        TimingSniffer s = new TimingSniffer();
        s.feed(c);
        assertThat(c.readerIndex()).isZero();
        c.release();
        assertThat(s.sample()).isEqualTo(FINAL_SAMPLE);
        assertThat(s.lines()).isEqualTo(2);
    }

    @Test
    void openAiUsageChunkGivesCounts() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n");
        feed(s, "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":3,"
                + "\"total_tokens\":29}}\n\ndata: [DONE]\n\n");
        assertThat(s.sample().promptEvalCount()).isEqualTo(26);
        assertThat(s.sample().evalCount()).isEqualTo(3);
        assertThat(s.sawDone()).isTrue();
        assertThat(s.lines()).as("blank separator lines do not count").isEqualTo(3);
    }

    @Test
    void sseUsageSplitInsideThePrefixAndTheMarker() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\nda");
        feed(s, "ta: {\"id\":\"c\",\"choices\":[],\"us");
        feed(s, "age\":{\"prompt_tokens\":26,\"completion_tokens\":3}}\r");
        feed(s, "\n\r\ndata: [DONE]\r\n\r\n");
        assertThat(s.sample().promptEvalCount()).isEqualTo(26);
        assertThat(s.sample().evalCount()).isEqualTo(3);
        assertThat(s.lines()).isEqualTo(3);
    }

    @Test
    void errorLineIsNoticed() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "{\"model\":\"m\",\"response\":\"I\",\"done\":false}\n{\"error\":\"an error was encountered\"}\n");
        assertThat(s.sawError()).isTrue();
        assertThat(s.sawDone()).isFalse();
        assertThat(s.sample()).isEqualTo(TimingSample.EMPTY);
    }

    @Test
    void errorLineSplitInsideItsStartIsNoticed() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "{\"model\":\"m\",\"response\":\"I\",\"done\":false}\n{\"err");
        feed(s, "or\":\"an error was encountered\"}\n");
        assertThat(s.sawError()).isTrue();
        assertThat(s.lines()).isEqualTo(2);
    }

    @Test
    void doneTextInsideAResponseStringDoesNotConfuseIt() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "{\"response\":\"say \\\"done\\\":true\",\"done\":false}\n");
        assertThat(s.sample()).isEqualTo(TimingSample.EMPTY);
        assertThat(s.sawDone()).isFalse();
    }

    @Test
    void onlyKeysAreMarkers() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "data: {\"choices\":[{\"delta\":{\"content\":\"usage\"}}],\"x\":\"done\",\"done\":false}\n\n");
        feed(s, "{\"response\":\"\\\"done\\\":true and \\\"usage\\\":1\",\"done\":false}\n");
        assertThat(s.sawDone()).isFalse();
        assertThat(s.lines()).isEqualTo(2);
        feed(s, "{\"done\":truthy}\n{\"done\":tr");
        feed(s, "ue,\"eval_count\":5,\"eval_duration\":50}\n");
        assertThat(s.sample().evalCount()).isEqualTo(5);
        assertThat(s.lines()).isEqualTo(4);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
