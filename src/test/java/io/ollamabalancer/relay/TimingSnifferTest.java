package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ollamabalancer.estimate.TimingSample;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class TimingSnifferTest {

    private static void feed(TimingSniffer s, String text) {
        ByteBuf b = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        int before = b.readerIndex();
        s.feed(b);
        assertThat(b.readerIndex()).as("the sniffer must not consume").isEqualTo(before);
        b.release();
    }

    @Test
    void readsFinalChunkSplitAcrossBuffers() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "{\"model\":\"m\",\"response\":\"Hi\",\"done\":false}\n{\"model\":\"m\",\"respo");
        feed(s, "nse\":\"\",\"done\":true,\"done_reason\":\"stop\",\"context\":[1,2,3],\"total_duration\":900,"
                + "\"load_duration\":5,\"prompt_eval_count\":31,\"prompt_eval_duration\":200,\"eval_count\":7,");
        feed(s, "\"eval_duration\":600}\n");
        TimingSample t = s.sample();
        assertThat(t).isEqualTo(new TimingSample(31, 200, 7, 600, 5, 900));
        assertThat(s.sawDone()).isTrue();
        assertThat(s.sawError()).isFalse();
        assertThat(s.lines()).isEqualTo(2);
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
    }

    @Test
    void openAiUsageChunkGivesCounts() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n");
        feed(s, "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":3,"
                + "\"total_tokens\":29}}\n\ndata: [DONE]\n\n");
        assertThat(s.sample().promptEvalCount()).isEqualTo(26);
        assertThat(s.sample().evalCount()).isEqualTo(3);
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
    void doneTextInsideAResponseStringDoesNotConfuseIt() {
        TimingSniffer s = new TimingSniffer();
        feed(s, "{\"response\":\"say \\\"done\\\":true\",\"done\":false}\n");
        assertThat(s.sample()).isEqualTo(TimingSample.EMPTY);
    }
}
